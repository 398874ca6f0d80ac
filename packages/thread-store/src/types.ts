/** The custom-server protocol's data model (reference: chatkit-server-protocol.md, section 2). */
export type ThreadStatus = { type: 'active' } | { type: 'locked'; reason?: string } | { type: 'closed'; reason?: string };

export interface ThreadMetadata {
  id: string;
  title?: string | null;
  /** ISO-8601. */
  created_at: string;
  status: ThreadStatus;
  allowed_image_domains?: string[] | null;
  /** Server-side only: never sent to the client. */
  metadata: Record<string, unknown>;
}

export type ThreadItem = Record<string, any> & { id: string; thread_id: string; created_at: string; type: string };

export interface Page<T> {
  data: T[];
  has_more: boolean;
  after?: string;
}

export type Order = 'asc' | 'desc';

/** Items the model sees but the client never does. */
export const HIDDEN_TYPES = new Set(['hidden_context_item', 'sdk_hidden_context']);

export class NotFoundError extends Error {
  constructor(what: string) {
    super(`${what} not found`);
    this.name = 'NotFoundError';
  }
}
