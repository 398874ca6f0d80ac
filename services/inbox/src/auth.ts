import { createHash, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { documentClient } from '@lead-intake/dynamo';

/**
 * Signing in to the inbox (docs/backend.md, "The owner's inbox"): an emailed single-use link,
 * then a signed session cookie. Keys are derived from the stage's token secret and the stage's
 * name, so a cookie of another stage (or one made with another secret) never verifies here.
 *
 * The auth table (`pk`, TTL `ttl`) holds, never a customer's data:
 *   LINK#<sha256 of the token>   the owner's address, when it expires (15 minutes); deleted when used
 *   SESSION#<id>                 the owner, the owner's generation, when it expires (30 days)
 *   OWNER#<hmac of the address>  the generation: "sign out everywhere" bumps it, every older session ends
 *   signin#...#<window>          the sign-in rate counters (@lead-intake/usage-limits)
 */
export const LINK_SECONDS = 15 * 60;
export const SESSION_SECONDS = 30 * 86400;
export const SESSION_COOKIE = 'inbox_session';
export const SIGNIN_COOKIE = 'inbox_signin';

export interface Keys {
  readonly stage: string;
  readonly session: Buffer;
  readonly csrf: Buffer;
  readonly owner: Buffer;
}

/** The inbox's keys for this stage, from the stage's secret (HKDF-SHA256, one key per use). */
export function deriveKeys(secret: string, stage: string): Keys {
  const key = (use: string) => Buffer.from(hkdfSync('sha256', secret, `chatkit-lead-intake:${stage}`, `inbox-${use}-v1`, 32));
  return { stage, session: key('session'), csrf: key('csrf'), owner: key('owner') };
}

const mac = (key: Buffer, s: string) => createHmac('sha256', key).update(s).digest('base64url');
const same = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/** An address's key: the same for every way it is written (case), never the address. */
export const ownerKey = (keys: Keys, email: string) => mac(keys.owner, email.trim().toLowerCase()).slice(0, 32);

/** A fresh random id or token (base64url). */
export const randomToken = (bytes = 32) => randomBytes(bytes).toString('base64url');
export const tokenHash = (token: string) => createHash('sha256').update(token).digest('base64url');

/** The cookie's value: `v1.<stage>.<session id>.<owner key>.<expiry>.<signature>`. */
export function sessionCookieValue(keys: Keys, c: CookieSession, expiresAt: number): string {
  const body = `v1.${keys.stage}.${c.sid}.${c.ownerKey}.${expiresAt}`;
  return `${body}.${mac(keys.session, body)}`;
}

export interface CookieSession {
  sid: string;
  ownerKey: string;
}

const ID = /^[A-Za-z0-9_-]{16,64}$/;

/** The session a cookie names, if its signature, stage and expiry hold; null otherwise (altered, foreign, expired). */
export function readSessionCookie(keys: Keys, value: string | undefined, now: number): CookieSession | null {
  if (!value || value.length > 300) return null;
  const parts = value.split('.');
  if (parts.length !== 6) return null;
  const [v, stage, sid, key, exp, sig] = parts as [string, string, string, string, string, string];
  if (v !== 'v1' || stage !== keys.stage || !ID.test(sid) || !ID.test(key) || !/^\d{1,11}$/.test(exp)) return null;
  if (!same(sig, mac(keys.session, `${v}.${stage}.${sid}.${key}.${exp}`))) return null;
  return Number(exp) > now ? { sid, ownerKey: key } : null;
}

/** The CSRF token of a session (or of a sign-in form's cookie): stateless, bound to it. */
export const csrfToken = (keys: Keys, bound: string) => mac(keys.csrf, `csrf:${bound}`);
export const checkCsrf = (keys: Keys, bound: string, token: unknown) => typeof token === 'string' && same(token, csrfToken(keys, bound));

/** A cookie header for this stage: HttpOnly, SameSite=Lax, Secure when deployed (https). */
export function cookie(name: string, value: string, maxAge: number, secure: boolean): string {
  return `${name}=${value}; Path=/; Max-Age=${maxAge}; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`;
}

export function parseCookies(header: string | undefined, cookies: string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of [...(cookies ?? []), ...(header ? header.split(';') : [])].flatMap((c) => c.split(';'))) {
    const i = part.indexOf('=');
    if (i > 0) out[part.slice(0, i).trim()] ??= part.slice(i + 1).trim();
  }
  return out;
}

export interface Session {
  sid: string;
  email: string;
  ownerKey: string;
}

/** The auth table: links, sessions and owners' generations. */
export class AuthStore {
  private readonly doc: DynamoDBDocumentClient;
  constructor(
    private readonly tableName: string,
    client?: DynamoDBClient,
  ) {
    this.doc = documentClient(client);
  }

  async createLink(token: string, email: string, now: number): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { pk: `LINK#${tokenHash(token)}`, email, expires_at: now + LINK_SECONDS, ttl: now + LINK_SECONDS + 86400 },
      }),
    );
  }

  /** The link's owner, once: the row is deleted in the same conditional write (a second use, or an expired link, gets null). */
  async consumeLink(token: string, now: number): Promise<string | null> {
    try {
      const out = await this.doc.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: { pk: `LINK#${tokenHash(token)}` },
          ConditionExpression: 'attribute_exists(pk) AND expires_at > :now',
          ExpressionAttributeValues: { ':now': now },
          ReturnValues: 'ALL_OLD',
        }),
      );
      return typeof out.Attributes?.email === 'string' ? out.Attributes.email : null;
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) return null;
      throw e;
    }
  }

  async createSession(sid: string, email: string, key: string, now: number): Promise<number> {
    const owner = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: { pk: `OWNER#${key}` }, ConsistentRead: true }));
    const expiresAt = now + SESSION_SECONDS;
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          pk: `SESSION#${sid}`,
          email,
          owner_key: key,
          gen: Number(owner.Item?.gen ?? 0),
          expires_at: expiresAt,
          ttl: expiresAt + 86400,
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    return expiresAt;
  }

  /** The session, if it exists, has not expired, and its owner has not signed out everywhere since: one read. */
  async session(c: CookieSession, now: number): Promise<Session | null> {
    const out = await this.doc.send(
      new BatchGetCommand({
        RequestItems: { [this.tableName]: { Keys: [{ pk: `SESSION#${c.sid}` }, { pk: `OWNER#${c.ownerKey}` }], ConsistentRead: true } },
      }),
    );
    const rows = out.Responses?.[this.tableName] ?? [];
    const s = rows.find((r) => r.pk === `SESSION#${c.sid}`);
    const gen = Number(rows.find((r) => r.pk === `OWNER#${c.ownerKey}`)?.gen ?? 0);
    if (!s || s.owner_key !== c.ownerKey || typeof s.email !== 'string' || !(Number(s.expires_at) > now)) return null;
    return gen === Number(s.gen ?? 0) ? { sid: c.sid, email: s.email, ownerKey: c.ownerKey } : null;
  }

  async endSession(sid: string): Promise<void> {
    await this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: { pk: `SESSION#${sid}` } }));
  }

  /** Sign out everywhere: every session of this owner made before now ends. */
  async endAll(key: string): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: `OWNER#${key}` },
        UpdateExpression: 'ADD gen :one',
        ExpressionAttributeValues: { ':one': 1 },
      }),
    );
  }
}
