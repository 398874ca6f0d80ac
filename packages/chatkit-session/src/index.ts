export { parseSessionRequest, sessionRequest, USER_ID, type SessionRequest, type SessionRequestContext } from './request';
export { mintHostedSession, stateVariables, UpstreamError, type MintOptions, type MintedSession } from './mint';
export { resolveIdentity, type Identity, type IdentityOptions } from './identity';
