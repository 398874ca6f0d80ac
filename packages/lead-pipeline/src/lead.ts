import type OpenAI from 'openai';
import { Ledger, MemoryLedgerStore, type EvalCache, type Lease } from '@lead-intake/ledger';
import { leadKind as leadKindLine, renderLeadEmail, type LeadFlags, type RenderedEmail } from '@lead-intake/lead-message';
import { LeadSummarySchema, summarizeLead, type LeadSummary, type SummaryFailure } from '@lead-intake/lead-summary';
import { computeShopState } from '@lead-intake/shop';
import { EmailSendError } from '@lead-intake/ses-mailer';
import { ChannelError, type Channel, type LeadAlert } from '@lead-intake/alerts';
import type { ShopProfile } from '@lead-intake/shop';
import { extractContacts, type Contacts } from '@lead-intake/contacts';
import {
  formatForModel,
  isCallbackRequest,
  isVisitRequest,
  ThreadNotFoundError,
  type Transcript,
  type TranscriptSource,
} from '@lead-intake/transcript';
import type { NewInboxLead } from '@lead-intake/inbox-store';
import type { LeadTrigger } from './request';

/**
 * A lead, in the order it happens. The endpoint's middy chain does the first two steps; the rest
 * is in this file, as named steps over one job:
 *
 *   1 validate    ./request.ts `leadRequest`           400/401 before anything is read or written
 *   2 fast path   @lead-intake/ledger `sendOnce` over  the ledger answers a duplicate (no OpenAI,
 *                 `Ledger.runHeld`                     and this file is not even loaded); else a lease
 *   3 transcript  readTranscript                       the thread, for its owner only
 *   4 contacts    findContacts                         phones and emails in the customer's own lines
 *   5 summary     summarize                            the kept summary of this state, or OpenAI
 *                                                      (within the day's summary budget)
 *   6 decide      decide                               `auto`: handoff-ready or urgent; other triggers: a contact
 *   7 render      render                               the email (and the alert the other channels send)
 *   8 deliver     deliverAll                           every channel once: the email (SES), the owner's
 *                                                      texts, the webhook; each delivery recorded as it goes
 *   9 record      deliverAll / ledger.release          sent (every channel out), error (retried: only
 *                                                      what is missing), or idle / not_customer
 *
 * The endpoint, the sweeper (due records, armed idle evaluations, the trigger spool) and the
 * scheduler run `runLead` under `Ledger.runHeld`; `npm run lead -- preview` runs it with an
 * in-memory ledger and a sender that only keeps the email.
 */

/** One lead evaluation: which thread, for whom, from which page, under which lease. */
export interface LeadJob {
  readonly threadId: string;
  /** The user the request proved (client token, or hosted body): the thread must be theirs. */
  readonly user: string | null;
  /** The page the browser named; else the one the thread recorded. */
  readonly pageUrl: string | null;
  /** The ledger's lease. Its `effectiveReason` is the job's trigger: the request's, or a stronger one recorded meanwhile. */
  readonly lease: Lease;
  /**
   * Asked once the thread is read, before anything is paid for (the sweeper's, for an idle
   * evaluation the server armed): whether the conversation is still going after all, by its newest
   * item. True: the holder has let go of the lease (and armed it again); nothing more is done.
   */
  readonly stillActive?: (transcript: Transcript) => Promise<boolean>;
}

const triggerOf = (job: LeadJob) => job.lease.effectiveReason as LeadTrigger;

/** Every `reason` the lead endpoint can answer with (docs/backend.md lists them with their meaning). */
export const ANSWER_REASONS = [
  'sent',
  'already_sent',
  'in_progress',
  'cooldown',
  'not_ready',
  'no_contact',
  'not_customer',
  'error',
  'failed',
] as const;
export type AnswerReason = (typeof ANSWER_REASONS)[number];
export interface LeadAnswer {
  sent: boolean;
  reason: AnswerReason;
}

/** The summary result for one transcript state: a summary, or why there is none. */
export type SummaryResult = { ok: true; summary: LeadSummary } | { ok: false; failure: SummaryFailure | 'over_budget' };

export type Decision = 'no_contact' | 'not_customer' | 'not_ready' | 'send';

/** What steps 3 to 6 found, for logs and metrics (counts only reach the logs, never the text). */
export interface Evaluation {
  decision: Decision;
  transcript: Transcript;
  contacts: Contacts;
  summary: SummaryResult | null;
  summaryFromCache: boolean;
}

export interface LeadHooks {
  evaluated?(e: Evaluation, trigger: string): void;
  sent?(messageId: string, recorded: boolean): void;
  sendFailed?(error: EmailSendError, status: 'error' | 'failed'): void;
  /** An alert beside the email (SMS, webhook) went out; `recorded`: the ledger has it. */
  delivered?(channel: Channel, id: string, recorded: boolean): void;
  deliveryFailed?(channel: Channel, code: string, status: 'error' | 'failed'): void;
  /** The follow-up lookup or record failed (the lead still goes out, as a new one). */
  followUpFailed?(error: unknown, step: 'find' | 'remember'): void;
  transcriptFailed?(error: unknown): void;
  /** The inbox's record of a filtered conversation could not be written (it is judged, and written, again later). */
  inboxFailed?(error: unknown): void;
  leaseLost?(stage: 'release'): void;
}

/** What the steps use from outside. */
export interface LeadPorts {
  source: TranscriptSource;
  openai: OpenAI;
  profile: ShopProfile;
  model: string;
  ledger: Ledger;
  /** Sends the email; returns SES's MessageId or throws EmailSendError. */
  send(email: RenderedEmail, replyTo: string | null): Promise<string>;
  /** The stage's other channels for this lead (SMS to each owner phone, the webhook), by its urgency. */
  alerts?: (alert: LeadAlert, lease: Lease) => Delivery[];
  /** Cuts the OpenAI calls so that the send and the ledger write keep their reserve. */
  signal?: AbortSignal;
  /** When the invocation must be done (epoch ms): how long recording a sent email may be retried. */
  deadline?: number;
  /** One alert per customer: the earlier lead of the same phone or email within the window (@lead-intake/ledger ContactIndex). */
  followUps?: {
    find(contacts: string[], threadId: string): Promise<{ threadId: string; sentAt: number } | null>;
    remember(contacts: string[], threadId: string): Promise<void>;
  };
  /**
   * The owner's inbox (services/inbox): the lead's record, written with its deliveries (a delivery
   * of its own, `inbox`: a failed write is retried like a channel), and a conversation the triage
   * held back (best effort: it is judged again later).
   */
  inbox?: {
    /** Idempotent: a second call for the same thread changes nothing (the record is written once). */
    record(entry: InboxEntry): Promise<string>;
    filtered(entry: InboxEntry): Promise<void>;
    /** The lead's page in the inbox (the email's and the text's link), or null. */
    link(threadId: string): string | null;
  };
  /** The clock (tests freeze it): whether the shop is open when an urgent lead goes out. */
  now?: () => Date;
  /** A link that keeps working for the owner to one of the thread's self-hosted files, or null (@lead-intake/attachments). */
  fileLink?: (threadId: string, attachmentId: string) => string | null;
  /**
   * The stage's summaries per day (stages.config.json `leadDailySummaries`): `take` answers false
   * when today's are spent, and the lead goes out without an AI summary. A flood of conversations
   * with contacts cannot spend the model without limit.
   */
  summaryBudget?: { take(): Promise<boolean> };
  hooks?: LeadHooks;
}

/** Steps 3 to 9, for a lease holder. A strong trigger that arrives meanwhile is served before letting go. */
export async function runLead(job: LeadJob, ports: LeadPorts): Promise<LeadAnswer> {
  const { lease } = job;
  for (let round = 0; round < 4; round++) {
    const trigger = triggerOf(job);
    let transcript: Transcript;
    try {
      transcript = await readTranscript(job, ports);
    } catch (e) {
      if (e instanceof ThreadNotFoundError) {
        await ports.ledger.release(lease, { evalState: 'not_found' });
        throw e;
      }
      // Unknown whether it qualifies: record an error so a retry (trigger or sweeper) reads it again.
      ports.hooks?.transcriptFailed?.(e);
      await ports.ledger.markError(lease, `transcript:${(e as Error)?.name ?? 'Error'}`);
      return { sent: false, reason: 'error' };
    }
    if (round === 0 && (await job.stillActive?.(transcript))) return { sent: false, reason: 'in_progress' };
    const contacts = findContacts(transcript, ports.profile);
    const { summary, fromCache } = hasContact(contacts)
      ? await summarize(job, transcript, contacts, ports)
      : { summary: null, fromCache: false };
    // Once any delivery went out the lead is committed: a retry completes the others, whatever a new look at the thread says.
    const committed = Object.keys(lease.delivered).length > 0;
    const decision = committed ? 'send' : decide(trigger, contacts, summary, requested(transcript));
    ports.hooks?.evaluated?.({ decision, transcript, contacts, summary, summaryFromCache: fromCache }, trigger);

    const cache: EvalCache = { evalState: transcriptState(transcript), summary: summary?.ok ? JSON.stringify(summary.summary) : undefined };
    // A re-evaluation in this invocation (a strong trigger arrived) reuses what was just paid for.
    if (cache.summary) lease.cached = { evalState: cache.evalState, summary: cache.summary };

    if (decision === 'send') {
      const all = [...contacts.phones, ...contacts.emails];
      const followUp = await ports.followUps?.find(all, job.threadId).catch((e) => (ports.hooks?.followUpFailed?.(e, 'find'), null));
      const urgent = summary?.ok === true && summary.summary.urgency === 'urgent';
      const flags = {
        urgent,
        shopClosed: urgent && !computeShopState((ports.now ?? (() => new Date()))(), ports.profile).shop_is_open_now,
        followUp: followUp ?? null,
        ...requestFlags(transcript),
      };
      const linked = withFileLinks(job.threadId, transcript, ports.fileLink);
      const inboxLink = ports.inbox?.link(job.threadId) ?? null;
      const email = render(job, trigger, ports.profile, linked, contacts, summary, flags, inboxLink);
      const alert: LeadAlert = {
        threadId: job.threadId,
        trigger,
        pageUrl: job.pageUrl ?? linked.pageUrl ?? null,
        shop: { name: ports.profile.name, phone: ports.profile.phone, timezone: ports.profile.timezone },
        contacts,
        summary: summary?.ok ? summary.summary : null,
        ...flags,
        lines: linked.lines,
        createdAt: lease.createdAt,
        inboxLink,
      };
      const entry = inboxEntry(job, trigger, linked, contacts, summary, flags, ports);
      const deliveries: Delivery[] = [
        { key: 'email', channel: 'email', send: () => ports.send(email, contacts.emails[0] ?? null) },
        ...(ports.alerts?.(alert, lease) ?? []),
        ...(ports.inbox ? [{ key: 'inbox', channel: 'inbox', idempotent: true, send: () => ports.inbox!.record(entry) }] : []),
      ];
      // What the lead carries: a request recorded after this read is owed an update (./update.ts).
      lease.carried = transcript.requests.map((r) => r.itemId);
      const answer = await deliverAll(lease, deliveries, cache, ports);
      if (answer.emailNow) await ports.followUps?.remember(all, job.threadId).catch((e) => ports.hooks?.followUpFailed?.(e, 'remember'));
      return { sent: answer.sent, reason: answer.reason };
    }

    // Not a customer (spam, test, vendor, job seeker): no alert; the ledger records what it was,
    // and the inbox keeps it in Filtered so the owner can rescue a misjudged one.
    const leadKind = decision === 'not_customer' && summary?.ok ? summary.summary.lead_kind : undefined;
    if (leadKind && ports.inbox)
      await ports.inbox
        .filtered(inboxEntry(job, trigger, transcript, contacts, summary, requestFlagsOnly(transcript), ports, leadKind))
        .catch((e) => ports.hooks?.inboxFailed?.(e));
    const released = await ports.ledger.release(lease, cache, { leadKind });
    if (released.kind === 'released') return { sent: false, reason: decision };
    if (released.kind === 'lost') {
      ports.hooks?.leaseLost?.('release');
      return { sent: false, reason: 'in_progress' };
    }
    // A strong trigger arrived while we evaluated: evaluate again with it (fresh transcript).
  }
  // Still busy after several rounds: keep the lease; it expires and the sweeper finishes the work.
  return { sent: false, reason: 'in_progress' };
}

/** 3. The thread; someone else's is answered as if it did not exist, before any summary is paid for. */
export async function readTranscript(
  job: Pick<LeadJob, 'threadId' | 'user'>,
  ports: Pick<LeadPorts, 'source' | 'profile' | 'signal'>,
): Promise<Transcript> {
  const transcript = await ports.source.fetch(job.threadId, { assistantName: ports.profile.assistantName, signal: ports.signal });
  if (job.user && transcript.user && job.user !== transcript.user) throw new ThreadNotFoundError(job.threadId);
  return transcript;
}

/**
 * 4. Contacts from the customer's own lines (never the shop's own number); a phone given in the
 * chat's callback form first (the latest request's), the ones typed in the chat still listed.
 */
export function findContacts(t: Transcript, profile: ShopProfile): Contacts {
  const found = extractContacts(t.lines, { shopPhone: profile.phone });
  const form = t.requests
    .filter(isCallbackRequest)
    .map((r) => r.phone)
    .reverse();
  return { ...found, phones: [...new Set([...form, ...found.phones])] };
}

/** A callback request or a picked drop-off time: the customer asked the shop to act. */
const requested = (t: Transcript) => t.requests.length > 0;

/** The latest callback request and drop-off time of the conversation, as the lead's flags. */
export function requestFlags(t: Transcript): Pick<LeadFlags, 'callback' | 'dropOff'> {
  const callback = t.requests.filter(isCallbackRequest).at(-1);
  const visit = t.requests.filter(isVisitRequest).at(-1);
  return {
    callback: callback
      ? { phone: callback.phone, name: callback.name, bestTime: callback.best_time_label, textOk: callback.text_ok }
      : null,
    dropOff: visit ? { label: visit.label, time: visit.time } : null,
  };
}

const hasContact = (c: Contacts) => c.emails.length > 0 || c.phones.length > 0;

/** Identifies a transcript state: the same items give the same key, any new item a new one. */
export function transcriptState(t: Transcript): string {
  return `${t.itemCount}:${t.lastItemId ?? ''}`;
}

/** 5. The summary kept on the lease for this exact transcript state, else a new one from OpenAI (within the day's budget). */
async function summarize(
  job: LeadJob,
  t: Transcript,
  contacts: Contacts,
  ports: LeadPorts,
): Promise<{ summary: SummaryResult; fromCache: boolean }> {
  const kept = job.lease.cached;
  if (kept && kept.evalState === transcriptState(t)) {
    try {
      const parsed = LeadSummarySchema.safeParse(JSON.parse(kept.summary));
      if (parsed.success) return { summary: { ok: true, summary: parsed.data }, fromCache: true };
    } catch {
      // An unreadable kept summary is paid for again.
    }
  }
  if (ports.summaryBudget && !(await ports.summaryBudget.take()))
    return { summary: { ok: false, failure: 'over_budget' }, fromCache: false };
  const outcome = await summarizeLead(ports.openai, {
    model: ports.model,
    shopName: ports.profile.name,
    transcriptText: formatForModel(t.lines),
    contacts,
    signal: ports.signal,
  });
  return { summary: outcome.ok ? { ok: true, summary: outcome.summary } : { ok: false, failure: outcome.failure }, fromCache: false };
}

/**
 * 6. The rule: no contact, no alert; not a customer (spam, test, vendor, job seeker, from the
 * summary), no alert; `auto` sends a handoff-ready or an urgent lead; every other trigger sends
 * once a contact exists (with the summary unavailable too).
 */
export function decide(trigger: LeadTrigger, contacts: Contacts, summary: SummaryResult | null, requested = false): Decision {
  if (!hasContact(contacts)) return 'no_contact';
  // The owner's "This is a customer" (the inbox) overrules the triage.
  if (summary?.ok && summary.summary.lead_kind !== 'customer' && trigger !== 'rescue') return 'not_customer';
  // A callback request or a picked drop-off time is handoff-ready by definition.
  if (trigger !== 'auto' || requested) return 'send';
  if (summary?.ok && summary.summary.urgency === 'urgent') return 'send';
  return summary?.ok && summary.summary.handoff_ready === true ? 'send' : 'not_ready';
}

/** Self-hosted attachments keep no URL: each gets a signed link to our own endpoint (hosted ones keep theirs). */
export function withFileLinks(threadId: string, t: Transcript, link: LeadPorts['fileLink']): Transcript {
  if (!link || !t.lines.some((l) => l.attachments.some((a) => !a.previewUrl && a.id))) return t;
  return {
    ...t,
    lines: t.lines.map((l) => ({
      ...l,
      attachments: l.attachments.map((a) => (!a.previewUrl && a.id ? { ...a, previewUrl: link(threadId, a.id) } : a)),
    })),
  };
}

/**
 * What the owner's inbox records of a lead (or of a conversation the triage held back): the
 * inbox's own record (@lead-intake/inbox-store), before the port keys it by shop and serializes
 * the summary and flags.
 */
export type InboxEntry = Omit<NewInboxLead, 'shopId' | 'expiresAt' | 'summary' | 'flags'> & {
  summary: LeadSummary | null;
  flags: LeadFlags;
};

const requestFlagsOnly = (t: Transcript): LeadFlags => requestFlags(t);

function inboxEntry(
  job: LeadJob,
  trigger: LeadTrigger,
  t: Transcript,
  contacts: Contacts,
  summary: SummaryResult | null,
  flags: LeadFlags,
  ports: Pick<LeadPorts, 'now' | 'profile'>,
  leadKind?: string,
): InboxEntry {
  const now = (ports.now ?? (() => new Date()))();
  const s = summary?.ok ? summary.summary : null;
  const v = s?.vehicle;
  const vehicle = v ? [v.year, v.make, v.model].filter((x) => x !== null && x !== '').join(' ') || null : null;
  const kind = leadKindLine(flags);
  return {
    threadId: job.threadId,
    kind: leadKind ? 'filtered' : 'lead',
    at: Math.floor(now.getTime() / 1000),
    name: s?.customer_name || flags.callback?.name || null,
    phones: contacts.phones,
    emails: contacts.emails,
    vehicle,
    need: s?.project_summary || null,
    urgent: s?.urgency === 'urgent',
    afterHours: !computeShopState(now, ports.profile).shop_is_open_now,
    followUpOf: flags.followUp?.threadId ?? null,
    request: kind === 'New lead' || kind === 'Lead' ? null : kind,
    leadKind: leadKind ?? null,
    pageUrl: job.pageUrl ?? t.pageUrl ?? null,
    trigger,
    summary: s,
    flags,
  };
}

/** 7. The email. */
export function render(
  job: Pick<LeadJob, 'threadId' | 'pageUrl'>,
  trigger: LeadTrigger,
  profile: ShopProfile,
  t: Transcript,
  contacts: Contacts,
  summary: SummaryResult | null,
  flags?: LeadFlags,
  inboxLink?: string | null,
): RenderedEmail {
  return renderLeadEmail({
    inboxLink,
    flags,
    shop: { name: profile.name, phone: profile.phone, assistantName: profile.assistantName, timezone: profile.timezone },
    threadId: job.threadId,
    reason: trigger,
    pageUrl: job.pageUrl ?? t.pageUrl ?? null,
    contacts,
    summary: summary?.ok ? summary.summary : null,
    lines: t.lines,
  });
}

/**
 * One way the lead goes out: the email, a text to one owner phone, the webhook. Each is recorded
 * on the ledger under its own `key` once it went out, and never sent again for this lead.
 */
export interface Delivery {
  key: string;
  channel: Channel;
  /**
   * Made again, it changes nothing (a conditional write): exactly once needs no record of it before
   * the lead settles. Recorded by the `sent` write, or not at all (a retry makes it again).
   */
  idempotent?: boolean;
  /** Sends; answers the channel's message id, or throws (EmailSendError, ChannelError). */
  send(): Promise<string>;
}

const failureCode = (e: unknown) =>
  e instanceof EmailSendError
    ? `ses:${e.sesError}`
    : e instanceof ChannelError
      ? `${e.channel}:${e.code}`
      : `crash:${(e as Error)?.name ?? 'Error'}`;

/**
 * 8 and 9. Sends every delivery not made yet (at once), records each, and settles the record:
 * `sent` when all went out, else `error` with the first failure's code (the sweeper retries only
 * the missing ones after the cooldown). Each is recorded as it goes out, so a crash while another
 * is still under way never sends it twice; the last one out, when all went out, is recorded by the
 * `sent` write itself (with one delivery to make, one ledger write, as with email alone), and so is
 * every idempotent one (the inbox record), whenever it went out.
 */
export async function deliverAll(
  lease: Lease,
  deliveries: Delivery[],
  cache: EvalCache,
  ports: Pick<LeadPorts, 'ledger' | 'deadline' | 'hooks'>,
): Promise<LeadAnswer & { emailNow: boolean }> {
  const pending = deliveries.filter((d) => !lease.delivered[d.key]);
  // Never start a send on a lease that is about to expire: past it, another holder may send too.
  // (A live invocation cannot outrun its lease: the lease outlives the function timeout.)
  if (pending.length && lease.expiresAt * 1000 - Date.now() < 1000) {
    await ports.ledger.markError(lease, 'lease:expiring', cache);
    return { sent: false, reason: 'error', emailNow: false };
  }
  const record = (d: Delivery, id: string) => recordWithRetry(() => ports.ledger.markDelivered(lease, d.key, id), lease, ports.deadline);
  // Only what cannot be made twice counts for "the last one out".
  let outstanding = pending.filter((d) => !d.idempotent).length;
  let anyFailed = false;
  const results = await Promise.all(
    pending.map(async (d) => {
      let id: string;
      try {
        id = await d.send();
      } catch (error) {
        anyFailed = true;
        if (!d.idempotent) outstanding--;
        return { d, ok: false as const, error };
      }
      // The last one out, every other one out too: its record is the `sent` write that follows (a
      // write fewer, and the same window: one write after its send). Any other is recorded at once.
      // If it cannot be recorded before the lease ends, the record stays `sending` until the lease
      // expires: the documented at-least-once window (a later attempt may send it once more).
      const inSent = d.idempotent || (--outstanding === 0 && !anyFailed);
      const recorded = inSent || (await record(d, id));
      return { d, ok: true as const, id, recorded, inSent };
    }),
  );
  const done = results.filter((r) => r.ok);
  const failed = results.filter((r) => !r.ok);
  const emailNow = done.some((r) => r.d.channel === 'email');
  const emailOut = emailNow || !!lease.delivered.email;
  const answer = { sent: emailOut, reason: emailOut ? ('sent' as const) : ('error' as const), emailNow };
  const lost = done.some((r) => !r.recorded);

  let settled: { ok: boolean; status?: 'error' | 'failed' } = { ok: !lost };
  if (!lost && failed.length === 0) {
    const emailId = done.find((r) => r.d.channel === 'email')?.id ?? lease.delivered.email?.id ?? '';
    const withIt = Object.fromEntries(done.filter((r) => r.inSent).map((r) => [r.d.key, r.id]));
    settled = { ok: await recordWithRetry(() => ports.ledger.markSent(lease, emailId, withIt), lease, ports.deadline) };
  } else {
    // No `sent` write (another one's record did not get through, or one failed, an idempotent one
    // perhaps after the last one out): the last one out is recorded on its own. An idempotent one
    // is not: made again by a later attempt, it changes nothing.
    for (const r of done) if (r.inSent && !r.d.idempotent) r.recorded = await record(r.d, r.id);
  }
  if (!lost && failed.length) {
    const marked = await ports.ledger.markError(lease, failureCode(failed[0]!.error), cache);
    settled = marked;
  }
  for (const r of done) {
    if (r.d.channel === 'email') ports.hooks?.sent?.(r.id, r.recorded && settled.ok);
    else ports.hooks?.delivered?.(r.d.channel, r.id, r.recorded && settled.ok);
  }
  for (const r of failed) {
    const status = settled.status ?? 'error';
    if (r.error instanceof EmailSendError) ports.hooks?.sendFailed?.(r.error, status);
    else ports.hooks?.deliveryFailed?.(r.d.channel, failureCode(r.error), status);
  }
  // A failure that is not a channel's own (a bug) is the caller's to see, after the ledger has it.
  const crash = failed.find((r) => !(r.error instanceof EmailSendError) && !(r.error instanceof ChannelError));
  if (crash) throw crash.error;
  return answer;
}

/**
 * A delivery is out: recording it is worth waiting for through a short DynamoDB outage, because
 * once the lease expires another holder would send it again. Retried with backoff until the lease
 * (or the invocation) is about to end; `false` if it never got through or the lease was lost.
 */
async function recordWithRetry(write: () => Promise<boolean>, lease: Lease, deadline = Infinity): Promise<boolean> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await write();
    } catch {
      const wait = Math.min(200 * 2 ** attempt, 2000);
      if (Date.now() + wait >= Math.min(deadline, lease.expiresAt * 1000 - 1000)) return false;
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}

/**
 * `npm run lead -- preview`: the same steps on a throwaway in-memory ledger, with a sender that
 * only keeps the email. Sends nothing and never touches the real ledger. The email is rendered
 * whatever the decision, so that an operator sees what it would be.
 */
export async function previewLead(
  req: { threadId: string; reason: LeadTrigger; user: string | null; pageUrl: string | null },
  ports: Pick<LeadPorts, 'source' | 'openai' | 'profile' | 'model'>,
): Promise<{ decision: Decision; email: RenderedEmail; summary: SummaryResult | null; contacts: Contacts }> {
  const ledger = new Ledger(new MemoryLedgerStore());
  const got = await ledger.acquire(req.threadId, req.reason);
  if (got.kind !== 'acquired') throw new Error('preview: a fresh in-memory ledger refused the lease');
  const job: LeadJob = { threadId: req.threadId, user: req.user, pageUrl: req.pageUrl, lease: got.lease };
  let seen: Evaluation | undefined;
  let email: RenderedEmail | undefined;
  let unreadable: unknown;
  await runLead(job, {
    ...ports,
    ledger,
    send: async (e) => ((email = e), 'preview'),
    hooks: { evaluated: (e) => (seen ??= e), transcriptFailed: (e) => (unreadable = e) },
  });
  if (!seen) throw unreadable ?? new Error('preview: the transcript could not be read');
  email ??= render(job, req.reason, ports.profile, seen.transcript, seen.contacts, seen.summary);
  return { decision: seen.decision, email, summary: seen.summary, contacts: seen.contacts };
}
