import type { DynamoDBRecord } from 'aws-lambda';
import { mayHoldContact } from '@lead-intake/contacts/rules';
import { normalizeItems, toSeconds, type SourceItem } from '@lead-intake/transcript';

/**
 * What a batch of the thread table's stream says about each conversation: its latest activity
 * and whether an assistant turn completed (services/chat stores an assistant message once its
 * answer is done). Only item inserts count (the event source mapping's filter already keeps only
 * those; checked again here so that a wider filter changes nothing). The customer's words are
 * looked at only for whether they could hold a contact (`mayHoldContact`); nothing of them is kept.
 */
export interface ThreadActivity {
  threadId: string;
  /** Epoch seconds of the newest item in the batch (its own `created_at`). */
  activityAt: number;
  /** An assistant message was stored: a turn completed. */
  turnDone: boolean;
  /**
   * The customer asked for a call back or picked a drop-off time (requests recorded by the chat:
   * the ids of their hidden items): the lead goes out now, or an update if it already went out.
   */
  requests: string[];
  /**
   * A customer's line in the batch could hold a contact (a phone number or an email: the cheap
   * check, `mayHoldContact`), or the customer made a request. False: this batch adds no contact.
   */
  mayHaveContact: boolean;
  /**
   * The thread's owner, as an item's row carries it (the chat's store writes it where it has proven
   * it, checked against the thread's row in the same write); absent: read it from the thread.
   */
  owner?: string;
  /** The first stream record of this thread in the batch: where a retry must start from. */
  firstSequence: string;
}

export interface ActivityOptions {
  /** Items older than this (epoch seconds) are not activity: an import of old threads, or a late replay. */
  notBefore: number;
}

const THREAD_PK = /^THREAD#(.+)$/;

export function activityByThread(records: DynamoDBRecord[], opts: ActivityOptions): { threads: ThreadActivity[]; ignored: number } {
  const threads = new Map<string, ThreadActivity>();
  let ignored = 0;
  for (const r of records) {
    const pk = r.dynamodb?.Keys?.pk?.S;
    const sk = r.dynamodb?.Keys?.sk?.S;
    const seq = r.dynamodb?.SequenceNumber;
    const threadId = pk ? THREAD_PK.exec(pk)?.[1] : undefined;
    if (r.eventName !== 'INSERT' || !threadId || !sk?.startsWith('ITM#') || !seq) {
      ignored++;
      continue;
    }
    const item = parseItem(r.dynamodb?.NewImage?.data?.S);
    const at = item?.createdAt ?? r.dynamodb?.ApproximateCreationDateTime;
    if (typeof at !== 'number' || !Number.isFinite(at) || at < opts.notBefore) {
      ignored++;
      continue;
    }
    const cur = threads.get(threadId);
    const turnDone = item?.type === 'assistant_message';
    const requests = item?.request && item.id ? [item.id] : [];
    // An item not readable here (no image, not JSON) may hold anything.
    const mayHaveContact = requests.length > 0 || item === null || item.mayHoldContact === true;
    const user = r.dynamodb?.NewImage?.user?.S;
    const owner = typeof user === 'string' && user ? user : undefined;
    if (!cur)
      threads.set(threadId, {
        threadId,
        activityAt: at,
        turnDone,
        requests,
        mayHaveContact,
        ...(owner ? { owner } : {}),
        firstSequence: seq,
      });
    else {
      cur.owner ??= owner;
      cur.activityAt = Math.max(cur.activityAt, at);
      cur.turnDone ||= turnDone;
      cur.mayHaveContact ||= mayHaveContact;
      for (const id of requests) if (!cur.requests.includes(id)) cur.requests.push(id);
    }
  }
  return { threads: [...threads.values()], ignored };
}

interface ParsedItem {
  id?: string;
  type?: string;
  createdAt?: number;
  request?: boolean;
  /** The customer's words in the item (as the transcript reads them: the contacts' only source) could hold a contact. */
  mayHoldContact?: boolean;
}

/** The item's id, type, creation time, whether it is a customer's request, and the customer's words (the stored JSON). */
function parseItem(data: string | undefined): ParsedItem | null {
  if (!data) return null;
  try {
    const item = JSON.parse(data) as { id?: unknown; type?: unknown; created_at?: unknown; content?: { type?: unknown } };
    // The transcript's own reading of an item's time (a zone-less time is UTC), so that the activity
    // the schedule arms from and the one the sweeper checks against are the same second.
    const at = toSeconds(item.created_at);
    const contentType = item.type === 'hidden_context_item' ? item.content?.type : undefined;
    return {
      id: typeof item.id === 'string' ? item.id : undefined,
      type: typeof item.type === 'string' ? item.type : undefined,
      createdAt: at || undefined,
      request: contentType === 'callback_request' || contentType === 'visit_request',
      mayHoldContact: customerMayHoldContact(item),
    };
  } catch {
    return null;
  }
}

/**
 * Whether the customer's own lines of this item, as the transcript reads them (quotes left out, as
 * the contact extractor leaves them), could hold a contact. An item the transcript cannot read is
 * taken as one that could: this check may only ever spare an evaluation that would find nothing.
 */
function customerMayHoldContact(item: unknown): boolean {
  if (item === null || typeof item !== 'object') return false;
  try {
    return normalizeItems([item as SourceItem], '').lines.some((l) => l.role === 'customer' && !!l.text && mayHoldContact(l.text));
  } catch {
    return true;
  }
}

/** The batch item failure to report: the earliest failed thread's first record (Lambda retries from there). */
export function earliestFailure(failed: ThreadActivity[]): string | null {
  if (!failed.length) return null;
  return failed.map((t) => t.firstSequence).reduce((a, b) => (BigInt(a) <= BigInt(b) ? a : b));
}
