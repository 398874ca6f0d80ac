/** The legacy hosted path (Agent Builder sessions, until 2026-11-30): loaded only by a hosted-mode request. */
export { mintHostedSession, stateVariables, UpstreamError, type MintOptions, type MintedSession } from './mint';
