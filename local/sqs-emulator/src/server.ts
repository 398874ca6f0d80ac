import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseAttributes, Queue, QueueError, type Message } from './queue';

/**
 * Amazon SQS as the AWS SDK v3 speaks to it (the AWS JSON 1.0 protocol: `POST /` with
 * `X-Amz-Target: AmazonSQS.<Action>`): enough of the API for standard queues with delays,
 * visibility timeouts, long polling and a redrive policy. Signatures are not checked, as in the
 * other local stand-ins. `GET /` lists the queues and their messages for a person.
 */

export const ACCOUNT_ID = '000000000000';

export interface SqsEmulatorOptions {
  host?: string;
  port?: number;
  region?: string;
  clock?: () => number;
}

export interface RunningSqsEmulator {
  endpoint: string;
  server: Server;
  /** The queue with this name, if it exists (tests and the local stack read it directly). */
  queue(name: string): Queue | undefined;
  /** Creates a queue (or updates its attributes) as CreateQueue does; answers its URL. */
  createQueue(name: string, attributes?: Record<string, string>): string;
  close(): Promise<void>;
}

const MAX_BODY = 1024 * 1024;

class Emulator {
  readonly queues = new Map<string, Queue>();
  constructor(
    private readonly region: string,
    private endpoint: () => string,
    private readonly clock: () => number,
  ) {}

  urlOf = (name: string) => `${this.endpoint()}/${ACCOUNT_ID}/${name}`;
  arnOf = (name: string) => `arn:aws:sqs:${this.region}:${ACCOUNT_ID}:${name}`;

  createQueue(name: string, attributes: Record<string, string> = {}): string {
    if (typeof name !== 'string' || !/^[A-Za-z0-9_-]{1,80}$/.test(name))
      throw new QueueError(
        'InvalidParameterValue',
        'InvalidParameterValue',
        'Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length',
      );
    if (name.endsWith('.fifo') || attributes.FifoQueue === 'true')
      throw new QueueError('InvalidAttributeName', 'InvalidAttributeName', 'FIFO queues are not emulated.');
    const existing = this.queues.get(name);
    const parsed = parseAttributes(attributes);
    if (existing) {
      existing.attributes = parsed;
      return existing.url;
    }
    const q = new Queue(name, this.urlOf(name), this.arnOf(name), parsed, this.clock);
    this.queues.set(name, q);
    return q.url;
  }

  /** The queue a QueueUrl names: its last path segment, whatever host the caller used. */
  byUrl(url: unknown): Queue {
    if (typeof url !== 'string' || !url)
      throw new QueueError('MissingParameter', 'MissingParameter', 'The request must contain the parameter QueueUrl.');
    const name = url.replace(/\/+$/, '').split('/').pop()!;
    const q = this.queues.get(name);
    if (!q) throw new QueueError('QueueDoesNotExist', 'AWS.SimpleQueueService.NonExistentQueue', 'The specified queue does not exist.');
    return q;
  }

  private deadLetterFor(q: Queue) {
    return (m: Message) => {
      const arn = q.attributes.RedrivePolicy?.deadLetterTargetArn;
      const dlq = [...this.queues.values()].find((x) => x.arn === arn);
      // SQS drops nothing silently: without its dead-letter queue a message stays where it was.
      if (dlq) dlq.adopt(m);
      else q.adopt(m);
    };
  }

  async handle(action: string, input: any): Promise<unknown> {
    switch (action) {
      case 'CreateQueue':
        return { QueueUrl: this.createQueue(input.QueueName, input.Attributes) };
      case 'GetQueueUrl': {
        const q = this.queues.get(input.QueueName);
        if (!q) throw new QueueError('QueueDoesNotExist', 'AWS.SimpleQueueService.NonExistentQueue', 'The specified queue does not exist.');
        return { QueueUrl: q.url };
      }
      case 'ListQueues':
        return {
          QueueUrls: [...this.queues.values()]
            .filter((q) => !input.QueueNamePrefix || q.name.startsWith(input.QueueNamePrefix))
            .map((q) => q.url),
        };
      case 'DeleteQueue':
        this.queues.delete(this.byUrl(input.QueueUrl).name);
        return {};
      case 'PurgeQueue':
        this.byUrl(input.QueueUrl).purge();
        return {};
      case 'SetQueueAttributes': {
        const q = this.byUrl(input.QueueUrl);
        q.attributes = parseAttributes(input.Attributes ?? {}, q.attributes);
        return {};
      }
      case 'GetQueueAttributes': {
        const q = this.byUrl(input.QueueUrl);
        const c = q.counts();
        const a = q.attributes;
        const all: Record<string, string> = {
          ...a.other,
          QueueArn: q.arn,
          VisibilityTimeout: String(a.VisibilityTimeout),
          DelaySeconds: String(a.DelaySeconds),
          MessageRetentionPeriod: String(a.MessageRetentionPeriod),
          ReceiveMessageWaitTimeSeconds: String(a.ReceiveMessageWaitTimeSeconds),
          MaximumMessageSize: String(a.MaximumMessageSize),
          ApproximateNumberOfMessages: String(c.visible),
          ApproximateNumberOfMessagesNotVisible: String(c.inFlight),
          ApproximateNumberOfMessagesDelayed: String(c.delayed),
          ...(a.RedrivePolicy ? { RedrivePolicy: JSON.stringify(a.RedrivePolicy) } : {}),
        };
        const names: string[] = input.AttributeNames ?? [];
        return { Attributes: names.includes('All') ? all : Object.fromEntries(names.filter((n) => n in all).map((n) => [n, all[n]!])) };
      }
      case 'SendMessage': {
        const m = this.byUrl(input.QueueUrl).send(input.MessageBody, input.DelaySeconds);
        return { MessageId: m.id, MD5OfMessageBody: m.md5 };
      }
      case 'SendMessageBatch': {
        const q = this.byUrl(input.QueueUrl);
        const entries: any[] = input.Entries ?? [];
        if (!entries.length || entries.length > 10)
          throw new QueueError(
            'TooManyEntriesInBatchRequest',
            'AWS.SimpleQueueService.TooManyEntriesInBatchRequest',
            'A batch takes 1 to 10 entries.',
          );
        const Successful: unknown[] = [];
        const Failed: unknown[] = [];
        for (const e of entries) {
          try {
            const m = q.send(e.MessageBody, e.DelaySeconds);
            Successful.push({ Id: e.Id, MessageId: m.id, MD5OfMessageBody: m.md5 });
          } catch (err) {
            const qe = err as QueueError;
            Failed.push({ Id: e.Id, SenderFault: true, Code: qe.code ?? 'InternalError', Message: qe.message });
          }
        }
        return { Successful, Failed };
      }
      case 'ReceiveMessage': {
        const q = this.byUrl(input.QueueUrl);
        const max = input.MaxNumberOfMessages === undefined ? 1 : Number(input.MaxNumberOfMessages);
        if (!Number.isInteger(max) || max < 1 || max > 10)
          throw new QueueError(
            'InvalidParameterValue',
            'InvalidParameterValue',
            'Value for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10.',
          );
        const wait = input.WaitTimeSeconds ?? q.attributes.ReceiveMessageWaitTimeSeconds;
        if (!Number.isInteger(wait) || wait < 0 || wait > 20)
          throw new QueueError(
            'InvalidParameterValue',
            'InvalidParameterValue',
            'Value for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= 20.',
          );
        const deadline = Date.now() + wait * 1000;
        const names = new Set<string>([...(input.AttributeNames ?? []), ...(input.MessageSystemAttributeNames ?? [])]);
        let got = q.receive(max, input.VisibilityTimeout, this.deadLetterFor(q));
        while (!got.length && Date.now() < deadline) {
          const next = q.nextVisibleIn();
          await q.waitForMessage(Math.min(deadline - Date.now(), next === undefined ? Infinity : next + 5));
          got = q.receive(max, input.VisibilityTimeout, this.deadLetterFor(q));
        }
        return {
          Messages: got.map((m) => {
            const attrs: Record<string, string> = {
              SentTimestamp: String(m.sentAt),
              ApproximateReceiveCount: String(m.receiveCount),
              ApproximateFirstReceiveTimestamp: String(m.firstReceivedAt),
            };
            const wanted = names.has('All') ? attrs : Object.fromEntries(Object.entries(attrs).filter(([k]) => names.has(k)));
            return {
              MessageId: m.id,
              ReceiptHandle: m.receipt,
              MD5OfBody: m.md5,
              Body: m.body,
              ...(Object.keys(wanted).length ? { Attributes: wanted } : {}),
            };
          }),
        };
      }
      case 'DeleteMessage':
        this.byUrl(input.QueueUrl).delete(input.ReceiptHandle);
        return {};
      case 'DeleteMessageBatch': {
        const q = this.byUrl(input.QueueUrl);
        const Successful: unknown[] = [];
        const Failed: unknown[] = [];
        for (const e of input.Entries ?? []) {
          try {
            q.delete(e.ReceiptHandle);
            Successful.push({ Id: e.Id });
          } catch (err) {
            Failed.push({ Id: e.Id, SenderFault: true, Code: (err as QueueError).code, Message: (err as Error).message });
          }
        }
        return { Successful, Failed };
      }
      case 'ChangeMessageVisibility':
        this.byUrl(input.QueueUrl).changeVisibility(input.ReceiptHandle, input.VisibilityTimeout);
        return {};
      default:
        throw new QueueError(
          'UnsupportedOperation',
          'AWS.SimpleQueueService.UnsupportedOperation',
          `The local SQS emulator does not implement ${action}.`,
        );
    }
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new QueueError('RequestTooLarge', 'RequestTooLarge', 'The request is larger than 1 MB.'));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/x-amz-json-1.0',
    'x-amzn-requestid': randomUUID(),
    'content-length': Buffer.byteLength(text),
    ...extra,
  });
  res.end(text);
}

function overview(emu: Emulator) {
  return {
    queues: [...emu.queues.values()].map((q) => ({
      name: q.name,
      url: q.url,
      arn: q.arn,
      ...q.counts(),
      messages: q.snapshot().map((m) => ({
        id: m.id,
        body: m.body,
        sentAt: new Date(m.sentAt).toISOString(),
        receiveCount: m.receiveCount,
        visible: m.visibleAt <= Date.now(),
      })),
    })),
  };
}

export async function startSqsEmulator(opts: SqsEmulatorOptions = {}): Promise<RunningSqsEmulator> {
  const host = opts.host ?? '127.0.0.1';
  let endpoint = '';
  const emu = new Emulator(opts.region ?? 'us-west-2', () => endpoint, opts.clock ?? Date.now);
  const server = createServer(async (req, res) => {
    try {
      if (req.method === 'GET' && (req.url === '/' || req.url === '/queues'))
        return send(res, 200, overview(emu), { 'content-type': 'application/json' });
      const target = String(req.headers['x-amz-target'] ?? '');
      if (req.method !== 'POST' || !target.startsWith('AmazonSQS.')) {
        return send(
          res,
          400,
          {
            __type: 'com.amazonaws.sqs#InvalidAction',
            message: 'Only the JSON protocol (POST / with X-Amz-Target: AmazonSQS.<Action>) is emulated.',
          },
          { 'x-amzn-query-error': 'InvalidAction;Sender' },
        );
      }
      const raw = await readBody(req);
      let input: unknown;
      try {
        input = raw ? JSON.parse(raw) : {};
      } catch {
        return send(
          res,
          400,
          { __type: 'com.amazonaws.sqs#InvalidParameterValue', message: 'The request body is not JSON.' },
          { 'x-amzn-query-error': 'InvalidParameterValue;Sender' },
        );
      }
      send(res, 200, await emu.handle(target.slice('AmazonSQS.'.length), input ?? {}));
    } catch (e) {
      if (e instanceof QueueError)
        return send(
          res,
          400,
          { __type: `com.amazonaws.sqs#${e.code}`, message: e.message },
          { 'x-amzn-query-error': `${e.queryCode};Sender` },
        );
      send(res, 500, { __type: 'com.amazonaws.sqs#InternalError', message: 'Internal error in the SQS emulator.' });
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  endpoint = `http://${host}:${(server.address() as AddressInfo).port}`;
  return {
    endpoint,
    server,
    queue: (name) => emu.queues.get(name),
    createQueue: (name, attributes) => emu.createQueue(name, attributes),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections?.();
      }),
  };
}
