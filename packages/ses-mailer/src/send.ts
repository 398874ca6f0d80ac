import { UpstreamError } from '@lead-intake/errors';
import type { SESClient } from '@aws-sdk/client-ses';
import { buildMime, type OutgoingEmail } from './mime';

// The SES client is loaded when the first email goes out, not at cold start.
const sdk = () => import('@aws-sdk/client-ses');

export class EmailSendError extends UpstreamError {
  constructor(
    /** SES's error name (e.g. MessageRejected, Throttling), or the network error's. */
    readonly sesError: string,
    options?: { cause?: unknown },
  ) {
    super('ses', `SES send failed: ${sesError}`, options);
  }
}

/** A new SES client (AWS_ENDPOINT_URL_SES is honoured by the SDK); callers keep one per instance. */
export async function createSesClient(): Promise<SESClient> {
  const { SESClient: Client } = await sdk();
  return new Client({ maxAttempts: 3 });
}

/**
 * Sends through SendRawEmail: every To recipient is a destination (SES v1 `SendEmail` in the local
 * emulator keeps only the first To and Reply-To; raw keeps all). Returns SES's MessageId.
 */
export async function sendEmail(
  ses: SESClient | Promise<SESClient>,
  e: OutgoingEmail,
  opts: { signal?: AbortSignal } = {},
): Promise<string> {
  let raw: string;
  try {
    raw = buildMime(e);
  } catch (err) {
    // A message that cannot be built is a failed send (recorded, alarmed), never a crash.
    throw new EmailSendError((err as Error)?.name || 'InvalidMessage', { cause: err });
  }
  const { SendRawEmailCommand } = await sdk();
  let out;
  try {
    out = await (
      await ses
    ).send(new SendRawEmailCommand({ Source: e.from, Destinations: e.to, RawMessage: { Data: Buffer.from(raw, 'utf8') } }), {
      abortSignal: opts.signal as any,
    });
  } catch (err) {
    // A timeout (the caller's signal) is ambiguous: SES may have accepted the message
    // (docs/idempotency.md, "A send that may have gone out").
    throw new EmailSendError(opts.signal?.aborted ? 'TimeoutError' : (err as Error)?.name || 'Error', { cause: err });
  }
  if (!out.MessageId) throw new EmailSendError('NoMessageId');
  return out.MessageId;
}
