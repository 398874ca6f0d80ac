import { deliveriesOf, type Lease, type LedgerRecord } from '@lead-intake/ledger';
import { renderRequestUpdate } from '@lead-intake/lead-message';
import type { LeadAlert } from '@lead-intake/alerts';
import { isCallbackRequest, ThreadNotFoundError, type RecordedRequest } from '@lead-intake/transcript';
import { deliverAll, findContacts, readTranscript, withFileLinks, type Delivery, type LeadPorts } from './lead';

/**
 * A request the customer made after the conversation's lead went out (a callback through the
 * chat's form, a picked drop-off time) is owed one update to the owner: the email and a text to
 * each phone the lead was texted to, never a second full lead. It runs under a ledger record of
 * its own (`requestKey(thread, request)`), so each request is sent once whatever retries and
 * replays come, and its failures are retried by the sweeper like a lead's.
 *
 * Whether it is owed is read from the lead's own record, never guessed from times: a sent lead
 * records the requests it carried (`requests`, written with `sent`). A lead still being sent (or
 * cooling down after a failure) cannot say yet: the update waits and is retried.
 */
export interface UpdateJob {
  readonly threadId: string;
  /** The id of the hidden item that recorded the request. */
  readonly requestId: string;
  /** The lease on the update's own record. */
  readonly lease: Lease;
}

export const UPDATE_REASONS = ['sent', 'in_lead', 'no_lead', 'waiting', 'gone', 'error'] as const;
/**
 * sent: the update went out; in_lead: the lead itself carried the request; no_lead: the lead was not
 * sent (not a customer, gave up): nothing to update; waiting: the lead is being sent or retried,
 * asked again later; gone: the conversation or the request no longer exists; error: retried.
 */
export type UpdateReason = (typeof UPDATE_REASONS)[number];
export interface UpdateAnswer {
  sent: boolean;
  reason: UpdateReason;
}

/** What the lead's record says of one request: owed an update, carried by the lead, nothing to update, or not yet known. */
export function leadState(lead: LedgerRecord | undefined, requestId: string): 'owed' | 'in_lead' | 'no_lead' | 'waiting' {
  if (!lead) return 'no_lead';
  if (lead.status === 'sent') return (lead.requests ?? []).includes(requestId) ? 'in_lead' : 'owed';
  if (lead.status === 'sending' || lead.status === 'error') return 'waiting';
  return 'no_lead';
}

export async function runRequestUpdate(job: UpdateJob, ports: LeadPorts): Promise<UpdateAnswer> {
  const { lease } = job;
  const lead = await ports.ledger.store.get(job.threadId);
  // Once part of the update went out it is committed: a retry completes the rest.
  if (!Object.keys(lease.delivered).length) {
    const state = leadState(lead, job.requestId);
    if (state === 'waiting') {
      await ports.ledger.markError(lease, 'request:lead_pending');
      return { sent: false, reason: 'waiting' };
    }
    if (state !== 'owed') return settle(lease, ports, state);
  }
  let request: RecordedRequest | undefined;
  let transcript;
  try {
    transcript = await readTranscript({ threadId: job.threadId, user: null }, ports);
    request = transcript.requests.find((r) => r.itemId === job.requestId);
  } catch (e) {
    if (e instanceof ThreadNotFoundError) return settle(lease, ports, 'gone');
    ports.hooks?.transcriptFailed?.(e);
    await ports.ledger.markError(lease, `transcript:${(e as Error)?.name ?? 'Error'}`);
    return { sent: false, reason: 'error' };
  }
  if (!request) return settle(lease, ports, 'gone');

  const leadSentAt = lead?.sent_at ?? lease.createdAt;
  const found = findContacts(transcript, ports.profile);
  // This request's phone first (findContacts puts the latest form's first).
  const contacts = isCallbackRequest(request) ? { ...found, phones: [...new Set([request.phone, ...found.phones])] } : found;
  const callback = isCallbackRequest(request)
    ? { phone: request.phone, name: request.name, bestTime: request.best_time_label, textOk: request.text_ok }
    : null;
  const dropOff = request.type === 'visit_request' ? { label: request.label, time: request.time } : null;
  const linked = withFileLinks(job.threadId, transcript, ports.fileLink);
  const since = linked.lines.filter((l) => l.createdAt >= leadSentAt);
  const pageUrl = linked.pageUrl ?? lead?.page_url ?? null;
  const email = renderRequestUpdate({
    shop: ports.profile,
    threadId: job.threadId,
    pageUrl,
    leadSentAt,
    request: { callback, dropOff },
    contacts,
    lines: since,
  });
  const alert: LeadAlert = {
    threadId: job.threadId,
    trigger: 'request',
    pageUrl,
    shop: { name: ports.profile.name, phone: ports.profile.phone, timezone: ports.profile.timezone },
    contacts,
    summary: null,
    urgent: false,
    shopClosed: false,
    followUp: null,
    callback,
    dropOff,
    update: { leadSentAt },
    lines: since,
    createdAt: lease.createdAt,
  };
  // Where the lead went: the email, and a text to each phone the lead was texted to.
  const leadDelivered = deliveriesOf(lead);
  const deliveries: Delivery[] = [
    { key: 'email', channel: 'email', send: () => ports.send(email, contacts.emails[0] ?? null) },
    ...(ports.alerts?.(alert, lease) ?? []).filter((d) => leadDelivered[d.key]),
  ];
  const answer = await deliverAll(lease, deliveries, { evalState: '' }, ports);
  return { sent: answer.sent, reason: answer.sent ? 'sent' : 'error' };
}

/** Nothing to send for this request (now): the update's record lets go; a replay checks again, cheaply. */
async function settle(lease: Lease, ports: Pick<LeadPorts, 'ledger'>, reason: 'in_lead' | 'no_lead' | 'gone'): Promise<UpdateAnswer> {
  await ports.ledger.release(lease, { evalState: '' });
  return { sent: false, reason };
}
