import { createHmac } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { batchGetAll, batchWriteAll, documentClient } from '@lead-intake/dynamo';
import { nowSeconds } from './record';

/**
 * One alert per customer: which lead a phone number or email address last produced, kept for the
 * follow-up window (stages.config.json `followUpHours`). Keys are an HMAC of the contact with a
 * stage secret, never the contact itself (a plain hash of a phone number is guessable); records
 * expire by TTL after the window. A lookup is one BatchGetItem for all of a lead's contacts.
 */
export interface FollowUp {
  threadId: string;
  /** Epoch seconds. */
  sentAt: number;
}

export interface ContactIndexOptions {
  tableName: string;
  /** The HMAC key (a stage secret). */
  key: string;
  windowSeconds: number;
  client?: DynamoDBClient;
  clock?: () => number;
}

export class ContactIndex {
  private readonly doc: DynamoDBDocumentClient;
  constructor(private readonly opts: ContactIndexOptions) {
    this.doc = documentClient(opts.client);
  }

  /** The key of a contact (E.164 phones and lower-cased emails, as the extractor gives them). */
  hash(contact: string): string {
    return createHmac('sha256', this.opts.key).update(`contact:${contact.trim().toLowerCase()}`).digest('base64url');
  }

  /** The most recent earlier lead (another thread) of any of these contacts within the window, or null. */
  async find(contacts: string[], threadId: string): Promise<FollowUp | null> {
    const keys = [...new Set(contacts.map((c) => this.hash(c)))].slice(0, 100);
    if (!keys.length) return null;
    const found = await batchGetAll<{ thread_id?: unknown; sent_at?: unknown }>(
      this.doc,
      this.opts.tableName,
      keys.map((contact_hash) => ({ contact_hash })),
      { consistentRead: true },
    );
    const since = nowSeconds(this.opts.clock) - this.opts.windowSeconds;
    const earlier = found
      .filter(
        (r): r is { thread_id: string; sent_at: number } =>
          typeof r.thread_id === 'string' && r.thread_id !== threadId && typeof r.sent_at === 'number' && r.sent_at >= since,
      )
      .sort((a, b) => b.sent_at - a.sent_at)[0];
    return earlier ? { threadId: earlier.thread_id, sentAt: earlier.sent_at } : null;
  }

  /** This thread's lead went out: its contacts now point to it. */
  async remember(contacts: string[], threadId: string): Promise<void> {
    const now = nowSeconds(this.opts.clock);
    const keys = [...new Set(contacts.map((c) => this.hash(c)))].slice(0, 25);
    if (!keys.length) return;
    await batchWriteAll(
      this.doc,
      this.opts.tableName,
      keys.map((contact_hash) => ({
        PutRequest: { Item: { contact_hash, thread_id: threadId, sent_at: now, ttl: now + this.opts.windowSeconds + 86400 } },
      })),
    );
  }
}
