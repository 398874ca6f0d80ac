export { parseSessionRequest, sessionRequest, USER_ID, type SessionRequest, type SessionRequestContext } from './request';
// The hosted mint (and with it the OpenAI SDK) is at '@lead-intake/chatkit-session/hosted'.
export { resolveIdentity, type Identity, type IdentityOptions } from './identity';
