import OpenAI from 'openai';
import { UpstreamError } from '@lead-intake/errors';
import type { ShopState } from '@lead-intake/shop';

export interface MintOptions {
  user: string;
  workflowId: string;
  stateVariables: Record<string, string | number | boolean>;
  ttlSeconds: number;
  maxRequestsPerMinute: number;
}

export interface MintedSession {
  client_secret: string;
  /** Unix seconds. */
  expires_at: number;
  user: string;
}

/** The workflow's state variables: the page context and the shop's live state. */
export function stateVariables(locale: string, pageUrl: string, shop: ShopState): Record<string, string | boolean> {
  return { locale, page_url: pageUrl, ...shop };
}

/** The hosted mint failed: what may be logged (the operation and OpenAI's status), never OpenAI's body. 502 unhandled. */
export class SessionMintError extends UpstreamError {
  constructor(
    upstream: string,
    readonly upstreamStatus: number | undefined,
    cause: unknown,
  ) {
    super(upstream, `${upstream} failed`, { cause });
  }
}

/** Mints a hosted ChatKit session (Agent Builder workflow) and returns what the browser needs. */
export async function mintHostedSession(client: OpenAI, o: MintOptions): Promise<MintedSession> {
  let session;
  try {
    session = await client.beta.chatkit.sessions.create({
      user: o.user,
      workflow: { id: o.workflowId, state_variables: o.stateVariables },
      expires_after: { anchor: 'created_at', seconds: o.ttlSeconds },
      rate_limits: { max_requests_per_1_minute: o.maxRequestsPerMinute },
    });
  } catch (e) {
    throw new SessionMintError('chatkit.sessions.create', e instanceof OpenAI.APIError ? e.status : undefined, e);
  }
  if (typeof session?.client_secret !== 'string' || !session.client_secret || typeof session.expires_at !== 'number') {
    throw new SessionMintError('chatkit.sessions.create (unexpected response shape)', undefined, undefined);
  }
  return { client_secret: session.client_secret, expires_at: session.expires_at, user: o.user };
}
