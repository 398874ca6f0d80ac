import { UpstreamError } from '@lead-intake/errors';
import type { Channel } from './types';

/**
 * A channel did not take the alert. `code` is short and never carries the receiver's answer (an
 * SMS API error name, `http_500`, `timeout`, `redirect`...): it is logged and kept on the ledger.
 */
export class ChannelError extends UpstreamError {
  constructor(
    readonly channel: Exclude<Channel, 'email'>,
    readonly code: string,
    options?: { cause?: unknown },
  ) {
    super(channel, `${channel} alert failed: ${code}`, options);
  }
}
