export { parseSessionRequest, sessionRequest, USER_ID, type SessionRequest, type SessionRequestContext } from './request';
export { resolveIdentity, type Identity, type IdentityOptions } from './identity';
