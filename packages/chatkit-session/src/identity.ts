import { createHmac } from 'node:crypto';
import { mintDeviceCredential, newUserId, TokenError, verifyDeviceCredential } from '@lead-intake/chat-auth';
import { HttpError } from '@lead-intake/http';
import type { UsageLimits } from '@lead-intake/usage-limits';
import type { SessionRequest } from './request';

export interface Identity {
  user: string;
  deviceCredential: string;
  /** Whether this request created the user. */
  created: boolean;
}

export interface IdentityOptions {
  /** CHATKIT_TOKEN_SECRET: signs device credentials (and keys the source-IP hash). */
  secret: string;
  /** The Function URL's source IP (`requestContext.http.sourceIp`). */
  sourceIp: string;
  /** Loaded only when a user is created: a refresh never pays for the DynamoDB client. */
  limits: () => Promise<Pick<UsageLimits, 'take'>>;
  newUsersPerHour: number;
}

/**
 * Self-hosted mode: the server issues identities. A request with a device credential resumes
 * that credential's user (it proves the user; nothing is looked up or stored). A request without
 * one creates a new user with a new credential, at most `newUsersPerHour` per source IP (keyed by
 * an HMAC of the IP, never the IP itself). A request that names a user without its credential
 * never gets that user: 401, whether the user exists or not.
 */
export async function resolveIdentity(req: SessionRequest, o: IdentityOptions): Promise<Identity> {
  if (req.deviceCredential) {
    let user: string;
    try {
      user = verifyDeviceCredential(o.secret, req.deviceCredential);
    } catch (e) {
      if (e instanceof TokenError)
        throw new HttpError(
          401,
          'deviceCredential is not valid; start a new conversation without it (omit user and deviceCredential).',
          'invalid_device_credential',
        );
      throw e;
    }
    if (req.user && req.user !== user)
      throw new HttpError(401, 'deviceCredential does not belong to that user.', 'invalid_device_credential');
    return { user, deviceCredential: req.deviceCredential, created: false };
  }
  if (req.user) {
    throw new HttpError(
      401,
      'A user is resumed only with the deviceCredential issued with it; omit user to start as a new user.',
      'device_credential_required',
    );
  }
  const ipKey = createHmac('sha256', o.secret).update(`source-ip:${o.sourceIp}`).digest('base64url').slice(0, 22);
  const taken = await (await o.limits()).take([{ key: `newuser#${ipKey}`, limit: o.newUsersPerHour, windowSeconds: 3600 }]);
  if (!taken.ok) {
    throw new HttpError(
      429,
      `Too many new conversations from this network; try again in ` +
        `${Math.ceil(taken.retryAfterSeconds / 60)} minutes, or resume with your deviceCredential.`,
      'too_many_new_users',
      { 'retry-after': String(taken.retryAfterSeconds) },
    );
  }
  const user = newUserId();
  return { user, deviceCredential: mintDeviceCredential(o.secret, user), created: true };
}
