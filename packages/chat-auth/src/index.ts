export {
  assertTokenSecret,
  mintClientToken,
  verifyClientToken,
  mintDeviceCredential,
  verifyDeviceCredential,
  newUserId,
  ISSUED_USER_ID,
  TokenError,
  type TokenClaims,
  type TokenFailure,
} from './tokens';
export { clientToken, claimsOr401, bearerToken, type ChatUserContext } from './middleware';
