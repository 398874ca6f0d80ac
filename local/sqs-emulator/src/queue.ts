import { createHash, randomUUID } from 'node:crypto';

/**
 * One standard queue, as SQS keeps it: messages become visible after their delay, a receive hides
 * them for the visibility timeout and hands out a fresh receipt handle, only the latest handle
 * deletes, and a message received more often than the redrive policy allows moves to the
 * dead-letter queue instead of being delivered again.
 */

export interface Message {
  id: string;
  body: string;
  md5: string;
  sentAt: number;
  visibleAt: number;
  receiveCount: number;
  firstReceivedAt?: number;
  receipt?: string;
}

export interface QueueAttributes {
  VisibilityTimeout: number;
  DelaySeconds: number;
  MessageRetentionPeriod: number;
  ReceiveMessageWaitTimeSeconds: number;
  MaximumMessageSize: number;
  RedrivePolicy?: { deadLetterTargetArn: string; maxReceiveCount: number };
  other: Record<string, string>;
}

export class QueueError extends Error {
  constructor(
    readonly code: string,
    readonly queryCode: string,
    message: string,
  ) {
    super(message);
  }
}

const int = (name: string, raw: unknown, min: number, max: number): number => {
  const n = typeof raw === 'number' ? raw : Number(raw);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new QueueError(
      'InvalidAttributeValue',
      'InvalidAttributeValue',
      `Invalid value for the parameter ${name}: ${String(raw)} (${min}..${max}).`,
    );
  return n;
};

export function parseAttributes(raw: Record<string, string> = {}, base?: QueueAttributes): QueueAttributes {
  const a: QueueAttributes = base
    ? { ...base, other: { ...base.other } }
    : {
        VisibilityTimeout: 30,
        DelaySeconds: 0,
        MessageRetentionPeriod: 345600,
        ReceiveMessageWaitTimeSeconds: 0,
        MaximumMessageSize: 262144,
        other: {},
      };
  for (const [k, v] of Object.entries(raw)) {
    if (k === 'VisibilityTimeout') a.VisibilityTimeout = int(k, v, 0, 43200);
    else if (k === 'DelaySeconds') a.DelaySeconds = int(k, v, 0, 900);
    else if (k === 'MessageRetentionPeriod') a.MessageRetentionPeriod = int(k, v, 60, 1209600);
    else if (k === 'ReceiveMessageWaitTimeSeconds') a.ReceiveMessageWaitTimeSeconds = int(k, v, 0, 20);
    else if (k === 'MaximumMessageSize') a.MaximumMessageSize = int(k, v, 1024, 262144);
    else if (k === 'RedrivePolicy') {
      let p: any;
      try {
        p = JSON.parse(v);
      } catch {
        throw new QueueError('InvalidAttributeValue', 'InvalidAttributeValue', 'Invalid value for the parameter RedrivePolicy: not JSON.');
      }
      if (typeof p?.deadLetterTargetArn !== 'string')
        throw new QueueError('InvalidAttributeValue', 'InvalidAttributeValue', 'RedrivePolicy needs deadLetterTargetArn.');
      a.RedrivePolicy = { deadLetterTargetArn: p.deadLetterTargetArn, maxReceiveCount: int('maxReceiveCount', p.maxReceiveCount, 1, 1000) };
    } else a.other[k] = String(v);
  }
  return a;
}

export const md5 = (s: string) => createHash('md5').update(s, 'utf8').digest('hex');

export class Queue {
  private messages: Message[] = [];
  private waiters = new Set<() => void>();

  constructor(
    readonly name: string,
    readonly url: string,
    readonly arn: string,
    public attributes: QueueAttributes,
    private readonly clock: () => number = Date.now,
  ) {}

  send(body: string, delaySeconds?: number): Message {
    if (typeof body !== 'string' || body.length === 0)
      throw new QueueError('MissingParameter', 'MissingParameter', 'The request must contain the parameter MessageBody.');
    if (Buffer.byteLength(body) > this.attributes.MaximumMessageSize)
      throw new QueueError(
        'InvalidParameterValue',
        'InvalidParameterValue',
        `One or more parameters are invalid. Reason: Message must be shorter than ${this.attributes.MaximumMessageSize} bytes.`,
      );
    // SQS accepts only these characters in a body (#x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF).
    if (/[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u.test(body))
      throw new QueueError('InvalidMessageContents', 'InvalidMessageContents', 'Invalid characters found.');
    const delay = delaySeconds === undefined ? this.attributes.DelaySeconds : int('DelaySeconds', delaySeconds, 0, 900);
    const now = this.clock();
    const m: Message = { id: randomUUID(), body, md5: md5(body), sentAt: now, visibleAt: now + delay * 1000, receiveCount: 0 };
    this.messages.push(m);
    this.wake();
    return m;
  }

  /** Visible messages, hidden for `visibilitySeconds`; those past the redrive limit go to `deadLetter`. */
  receive(max: number, visibilitySeconds: number | undefined, deadLetter: (m: Message) => void): Message[] {
    const now = this.clock();
    this.expire(now);
    const hide = visibilitySeconds ?? this.attributes.VisibilityTimeout;
    const out: Message[] = [];
    for (const m of [...this.messages]) {
      if (out.length >= max) break;
      if (m.visibleAt > now) continue;
      const limit = this.attributes.RedrivePolicy?.maxReceiveCount;
      if (limit !== undefined && m.receiveCount >= limit) {
        this.messages.splice(this.messages.indexOf(m), 1);
        deadLetter(m);
        continue;
      }
      m.receiveCount += 1;
      m.firstReceivedAt ??= now;
      m.visibleAt = now + hide * 1000;
      m.receipt = `${m.id}#${randomUUID()}`;
      out.push({ ...m });
    }
    return out;
  }

  /** A message moved here from another queue (dead-letter): it keeps its id, body and counts. */
  adopt(m: Message) {
    this.messages.push({ ...m, visibleAt: this.clock(), receipt: undefined });
    this.wake();
  }

  private find(receipt: string): Message {
    if (typeof receipt !== 'string' || !receipt.includes('#'))
      throw new QueueError('ReceiptHandleIsInvalid', 'ReceiptHandleIsInvalid', 'The input receipt handle is invalid.');
    const m = this.messages.find((x) => x.id === receipt.split('#')[0]);
    if (!m) throw new QueueError('ReceiptHandleIsInvalid', 'ReceiptHandleIsInvalid', 'The input receipt handle is invalid.');
    return m;
  }

  /** As SQS: deleting with an outdated handle of a message still in the queue is accepted, a gone message is not an error. */
  delete(receipt: string) {
    if (typeof receipt !== 'string' || !receipt.includes('#'))
      throw new QueueError('ReceiptHandleIsInvalid', 'ReceiptHandleIsInvalid', 'The input receipt handle is invalid.');
    const i = this.messages.findIndex((x) => x.id === receipt.split('#')[0]);
    if (i >= 0) this.messages.splice(i, 1);
  }

  changeVisibility(receipt: string, seconds: number) {
    const m = this.find(receipt);
    if (m.receipt !== receipt)
      throw new QueueError(
        'InvalidParameterValue',
        'InvalidParameterValue',
        'Value for parameter ReceiptHandle is invalid. Reason: Message does not exist or is not available for visibility timeout change.',
      );
    m.visibleAt = this.clock() + int('VisibilityTimeout', seconds, 0, 43200) * 1000;
    if (seconds === 0) this.wake();
  }

  purge() {
    this.messages = [];
  }

  counts() {
    const now = this.clock();
    this.expire(now);
    let visible = 0;
    let inFlight = 0;
    let delayed = 0;
    for (const m of this.messages) {
      if (m.visibleAt <= now) visible++;
      else if (m.receiveCount > 0) inFlight++;
      else delayed++;
    }
    return { visible, inFlight, delayed };
  }

  /** Every message, for the admin view (bodies included: this is a local tool). */
  snapshot(): Message[] {
    this.expire(this.clock());
    return this.messages.map((m) => ({ ...m }));
  }

  /** Resolves when a message may have become available (a send, a visibility change) or after `ms`. */
  waitForMessage(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiters.add(done);
    });
  }

  nextVisibleIn(): number | undefined {
    const now = this.clock();
    const next = this.messages.reduce<number | undefined>(
      (min, m) => (min === undefined || m.visibleAt < min ? m.visibleAt : min),
      undefined,
    );
    return next === undefined ? undefined : Math.max(0, next - now);
  }

  private wake() {
    for (const w of [...this.waiters]) w();
  }

  private expire(now: number) {
    const keep = this.attributes.MessageRetentionPeriod * 1000;
    this.messages = this.messages.filter((m) => now - m.sentAt < keep);
  }
}
