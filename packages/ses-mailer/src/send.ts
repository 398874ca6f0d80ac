import { SendRawEmailCommand, SESClient } from '@aws-sdk/client-ses';
import { buildMime, type OutgoingEmail } from './mime';

export class EmailSendError extends Error {
  constructor(
    /** SES's error name (e.g. MessageRejected, Throttling), or the network error's. */
    readonly sesError: string,
    options?: { cause?: unknown },
  ) {
    super(`SES send failed: ${sesError}`, options);
    this.name = 'EmailSendError';
  }
}

let client: SESClient | undefined;
/** One SES client per instance, created on first send (AWS_ENDPOINT_URL_SES is honoured by the SDK). */
export function sesClient(): SESClient {
  client ??= new SESClient({ maxAttempts: 3 });
  return client;
}

/**
 * Sends through SendRawEmail: every To recipient is a destination (SES v1 `SendEmail` in the local
 * emulator keeps only the first To and Reply-To; raw keeps all). Returns SES's MessageId.
 */
export async function sendEmail(ses: SESClient, e: OutgoingEmail, opts: { signal?: AbortSignal } = {}): Promise<string> {
  const raw = buildMime(e);
  let out;
  try {
    out = await ses.send(new SendRawEmailCommand({ Source: e.from, Destinations: e.to, RawMessage: { Data: Buffer.from(raw, 'utf8') } }), { abortSignal: opts.signal as any });
  } catch (err) {
    throw new EmailSendError((err as Error)?.name || 'Error', { cause: err });
  }
  if (!out.MessageId) throw new EmailSendError('NoMessageId');
  return out.MessageId;
}
