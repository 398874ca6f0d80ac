/** The legacy hosted path (Agent Builder sessions, until 2026-11-30): loaded only by a hosted-mode request. */
export { mintHostedSession, stateVariables, SessionMintError, type MintOptions, type MintedSession } from './mint';
