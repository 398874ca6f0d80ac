import { HttpError } from '@lead-intake/errors';
import {
  isHidden,
  ProtocolError,
  type Page,
  type ThreadItem,
  type ThreadMetadata,
  type ThreadResponse,
  type ThreadStreamEvent,
} from '@lead-intake/chatkit-protocol';
import type { ShopProfile } from '@lead-intake/shop';
import type { ChatStore } from '@lead-intake/thread-store';
import type { AttachmentDeps } from './attachments';
import type { KnownThreads } from './known-threads';
import type { Responder } from './responder';

/** What the server's parts share: the request's context, the dependencies, the answers. */

export type ChatAnswer = { kind: 'json'; status: number; body: unknown } | { kind: 'stream'; events: AsyncIterable<ThreadStreamEvent> };

export interface RequestContext {
  /** From the client token: the only thing that scopes threads. */
  user: string;
  /** Aborted when the client goes away (the Stop button closes the stream). */
  signal: AbortSignal;
  locale?: string;
  pageUrl?: string;
  /** The network the request came from (its address, truncated: IPv4 /24, IPv6 /64), for the gate's per-network share. */
  network?: string;
}

/** Admits or refuses a model turn before the model is called (rate limits, the model-call ceilings). */
export interface TurnGate {
  admit(user: string, network?: string): Promise<GateVerdict>;
  /** Gives back an admission whose turn did not happen after all (its thread was not found). */
  refund(user: string, network?: string): Promise<void>;
  /**
   * Whether this instance expects `admit` to let the turn through, from what it knows without a
   * round trip (then the model is asked beside the gate; a wrong guess costs one cancelled request).
   */
  expects?(user: string, network?: string): boolean;
}
/**
 * A refusal either turns the customer away (`keep` false: their own pace, nothing is written) or,
 * when it is about the model (the day's ceiling, a network's share), keeps what they wrote: the
 * message is stored (the lead pipeline sees it as any other) and `message` is the assistant's answer.
 */
export type GateVerdict = { ok: true } | { ok: false; reason: string; message: string; keep?: boolean };

export interface ChatServerDeps {
  store: ChatStore;
  responder: Responder;
  /** Photos and files (S3 and the stage's limits); without it `attachments.create` is not supported. */
  attachments?: AttachmentDeps;
  gate?: TurnGate;
  /** The shop (its hours decide the times the intake widgets offer); without it widget actions are not supported. */
  profile?: ShopProfile;
  /**
   * The assistant's fixed answer to a turn the model could not answer (an upstream failure before
   * any answer): the message is kept and answered with it. Without it such a turn ends with a
   * retryable error event.
   */
  unavailableAnswer?: string;
  /** How many recent items the model sees. */
  historyItems?: number;
  /** The store's retention (days): a thread that is written to has its retention restarted, at most daily. */
  retentionDays?: number;
  /** The instance's cache of thread owners (one per server unless a test shares one). */
  knownThreads?: KnownThreads;
  now?: () => Date;
  /** An unexpected failure (never a refusal): the stage and the error, for logs and metrics. */
  onError?: (stage: string, error: unknown) => void;
  /** A streamed request ended with a protocol error (the client's doing: a 4xx in the stream): counted as a client error. */
  onClientError?: (code: string) => void;
  /** A widget action recorded a request (a callback, a drop-off time): its type. */
  onAction?: (type: string) => void;
  /** A turn was refused by the gate. */
  onRefused?: (reason: string) => void;
  /** A model turn ended: `outcome` is done, cancelled or failed. */
  onTurn?: (outcome: 'done' | 'cancelled' | 'failed') => void;
}

/** What the client sees of a thread: never the private metadata, never hidden items. */
export function threadResponse(t: ThreadMetadata, items: Page<ThreadItem> = { data: [], has_more: false }): ThreadResponse {
  return {
    id: t.id,
    ...(typeof t.title === 'string' ? { title: t.title } : {}),
    created_at: t.created_at,
    status: t.status,
    ...(t.allowed_image_domains ? { allowed_image_domains: t.allowed_image_domains } : {}),
    metadata: {},
    items: { ...items, data: items.data.filter((i) => !isHidden(i)) },
  };
}

/** The gate refused the turn: answered as a stream with one `error` event (the client shows the message). */
export class TurnRefused extends HttpError {
  constructor(
    readonly userMessage: string,
    /** The message is kept and answered with `userMessage` (a refusal about the model, not the customer). */
    readonly keep = false,
  ) {
    super(429, userMessage, 'turn_refused', {}, { expose: true });
  }
}

export const refusal = (e: TurnRefused): ThreadStreamEvent => ({
  type: 'error',
  code: 'custom',
  message: e.userMessage,
  allow_retry: true,
});

export async function* once(...events: ThreadStreamEvent[]): AsyncGenerator<ThreadStreamEvent> {
  yield* events;
}

/** A failure once the stream has started: a protocol error says why; anything else is reported and retryable. */
export function failureEvent(deps: Pick<ChatServerDeps, 'onError' | 'onClientError'>, stage: string, e: unknown): ThreadStreamEvent {
  if (e instanceof ProtocolError) {
    deps.onClientError?.(e.code);
    return { type: 'error', code: 'custom', message: e.message, allow_retry: false };
  }
  deps.onError?.(stage, e);
  return { type: 'error', code: 'stream.error', allow_retry: true };
}

export const nowOf = (deps: Pick<ChatServerDeps, 'now'>): Date => (deps.now ?? (() => new Date()))();
