import type { SQSClient } from '@aws-sdk/client-sqs';
import { UpstreamError } from '@lead-intake/errors';

/**
 * The trigger spool: where a trigger goes when the ledger cannot take it (DynamoDB unavailable),
 * so that a browser beacon, which is never retried, is not lost. An SQS queue, a separate failure
 * domain from DynamoDB, that the sweeper drains once the ledger answers again; the ledger still
 * decides (a spooled trigger meets the others in the same record), so a trigger spooled and also
 * retried by its client still yields one email. docs/idempotency.md, "When DynamoDB is down".
 */

/** What is kept: the validated request, with its user already proven by the client token. */
export interface SpooledTrigger {
  threadId: string;
  reason: string;
  user: string | null;
  pageUrl: string | null;
  /** When the trigger arrived (epoch ms). */
  at: number;
}

export class SpoolUnavailableError extends UpstreamError {
  constructor(cause: unknown) {
    super('sqs', `trigger spool unavailable: ${(cause as Error)?.name ?? 'Error'}`, { cause });
  }
}

/** `done`: settled (sent, answered by the ledger, refused): delete it. `retry`: the ledger is still down: keep it. */
export type SpoolOutcome = 'done' | 'retry';

export interface DrainResult {
  received: number;
  done: number;
  /** Kept for a later run (the ledger failed again, or the run's time was up). */
  kept: number;
  /** Not a trigger this code wrote: deleted and logged. */
  invalid: number;
}

const str = (v: unknown, max: number) => typeof v === 'string' && v.length > 0 && v.length <= max;

export function parseSpooled(body: string | undefined): SpooledTrigger | null {
  let t: any;
  try {
    t = JSON.parse(body ?? '');
  } catch {
    return null;
  }
  if (t?.v !== 1 || !str(t.threadId, 200) || !str(t.reason, 40) || !Number.isFinite(t.at)) return null;
  if (t.user !== null && !str(t.user, 200)) return null;
  if (t.pageUrl !== null && !str(t.pageUrl, 2048)) return null;
  return { threadId: t.threadId, reason: t.reason, user: t.user, pageUrl: t.pageUrl, at: t.at };
}

export class TriggerSpool {
  private client?: Promise<{ sqs: SQSClient; mod: typeof import('@aws-sdk/client-sqs') }>;
  private url?: Promise<string>;

  /**
   * By queue name: its URL (which holds the account id, unknown to an offline `sls package` or
   * `invoke local`) is asked for once per instance.
   */
  constructor(
    readonly queueName: string,
    private readonly makeClient?: () => SQSClient,
  ) {}

  /** Loaded on first use: the SQS client is needed only in an outage and by the sweeper, never on the fast path. */
  private sqs() {
    this.client ??= import('@aws-sdk/client-sqs').then((mod) => ({
      mod,
      // Quick to give up: the caller is a lead request waiting for its answer.
      sqs: this.makeClient?.() ?? new mod.SQSClient({ maxAttempts: 3, requestHandler: { connectionTimeout: 1000, requestTimeout: 3000 } }),
    }));
    return this.client;
  }

  private queueUrl(): Promise<string> {
    this.url ??= this.sqs()
      .then(({ sqs, mod }) => sqs.send(new mod.GetQueueUrlCommand({ QueueName: this.queueName })))
      .then((r) => r.QueueUrl!);
    // A failure is not remembered: the next call asks again.
    this.url.catch(() => (this.url = undefined));
    return this.url;
  }

  async put(t: SpooledTrigger): Promise<void> {
    try {
      const { sqs, mod } = await this.sqs();
      await sqs.send(new mod.SendMessageCommand({ QueueUrl: await this.queueUrl(), MessageBody: JSON.stringify({ v: 1, ...t }) }));
    } catch (e) {
      throw new SpoolUnavailableError(e);
    }
  }

  /**
   * Runs spooled triggers, oldest-ish first (SQS standard queues order loosely), while
   * `more()` says there is time. A message is deleted only once `run` settled it; one that
   * comes back `retry` stops the drain (the ledger is down again) and reappears after the
   * queue's visibility timeout, as do messages received but not run.
   */
  async drain(
    run: (t: SpooledTrigger) => Promise<SpoolOutcome>,
    opts: { more: () => boolean; onInvalid?: (messageId: string | undefined) => void },
  ): Promise<DrainResult> {
    const result: DrainResult = { received: 0, done: 0, kept: 0, invalid: 0 };
    const { sqs, mod } = await this.sqs();
    const QueueUrl = await this.queueUrl();
    const remove = (receipt: string | undefined) => sqs.send(new mod.DeleteMessageCommand({ QueueUrl, ReceiptHandle: receipt }));
    let stop = false;
    while (!stop && opts.more()) {
      const got = await sqs.send(new mod.ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
      const messages = got.Messages ?? [];
      if (!messages.length) break;
      result.received += messages.length;
      for (const m of messages) {
        if (stop || !opts.more()) {
          stop = true;
          result.kept++;
          continue;
        }
        const t = parseSpooled(m.Body);
        if (!t) {
          result.invalid++;
          opts.onInvalid?.(m.MessageId);
          await remove(m.ReceiptHandle);
          continue;
        }
        if ((await run(t)) === 'retry') {
          stop = true;
          result.kept++;
          continue;
        }
        await remove(m.ReceiptHandle);
        result.done++;
      }
    }
    return result;
  }
}
