import { signedLink } from '@lead-intake/attachments';
import {
  inboxNumbers,
  isOutcome,
  leadsCsv,
  NotFoundInInbox,
  STATUSES,
  type LeadStatus,
  type ListQuery,
  type OutcomeChange,
} from '@lead-intake/inbox-store';
import { leadEmailContent, type LeadFlags } from '@lead-intake/lead-message';
import { LeadSummarySchema, type LeadSummary } from '@lead-intake/lead-summary';
import { MetricUnit, type Logger, type Metrics } from '@lead-intake/observability';
import { loadShopProfile } from '@lead-intake/shop';
import { StoreTranscriptSource } from '@lead-intake/thread-store';
import { ThreadNotFoundError, type Transcript } from '@lead-intake/transcript';
import type { Session } from './auth';
import { deps } from './deps';
import { errorPage } from './errors';
import { pageResponse, redirect, type Request, type Result } from './http';
import type { InboxSettings } from './settings';
import { detailPage } from './views/detail';
import { listPage } from './views/list';
import { numbersPage } from './views/numbers';

export interface OwnerContext {
  session: Session;
  csrf: string;
  settings: InboxSettings;
  logger: Logger;
  metrics: Metrics;
  /** The stage's token secret: the photo links are the files function's signed links. */
  secret: string;
}

const THREAD = /^cthr_[A-Za-z0-9_-]{1,128}$/;
const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
/** The numbers' period. */
export const NUMBERS_DAYS = 84;

class BadInput extends Error {}

/** The signed-in owner's pages and changes (after the session, and for a POST the CSRF token, were checked). */
export async function ownerRoute(req: Request, ctx: OwnerContext): Promise<Result> {
  const { method, path } = req;
  const page = (status: number, body: string) => pageResponse(status, body, ctx.settings, ctx);
  try {
    if (method === 'GET' && (path === '/' || path === '/filtered')) return await list(req, ctx, path === '/' ? 'lead' : 'filtered');
    if (method === 'GET' && path === '/numbers') return await numbers(ctx);
    if (method === 'GET' && path === '/export.csv') return await csv(ctx);
    const lead = /^\/leads\/([^/]+)(\/outcome|\/note)?$/.exec(path);
    if (lead && THREAD.test(lead[1]!)) {
      if (method === 'GET' && !lead[2]) return await detail(lead[1]!, ctx);
      if (method === 'POST' && lead[2]) return await change(lead[1]!, lead[2] === '/note' ? 'note' : 'outcome', req, ctx);
    }
    const rescue = /^\/filtered\/([^/]+)\/customer$/.exec(path);
    if (rescue && THREAD.test(rescue[1]!) && method === 'POST') return await rescueLead(rescue[1]!, ctx);
    return page(404, errorPage('Not found', 'There is no such page in the inbox.'));
  } catch (e) {
    if (e instanceof BadInput) return page(400, errorPage('That did not work', e.message));
    if (e instanceof NotFoundInInbox) return page(404, errorPage('Not found', 'There is no such lead in this inbox.'));
    throw e;
  }
}

const shop = () => loadShopProfile();

/** Midnight of a YYYY-MM-DD day in the shop's time zone (epoch seconds), or `end`: the day's last second. */
function dayBound(day: string, tz: string, end: boolean): number {
  const m = DAY.exec(day);
  if (!m) throw new BadInput('Dates are written YYYY-MM-DD.');
  const utc = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  if (Number.isNaN(utc)) throw new BadInput('That date does not exist.');
  // The zone's offset at that moment: the same wall-clock midnight there.
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: tz,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
  })
    .formatToParts(new Date(utc))
    .reduce<Record<string, number>>((a, p) => (p.type !== 'literal' ? { ...a, [p.type]: Number(p.value) } : a), {});
  const offset = Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!) - utc;
  return Math.floor((utc - offset) / 1000) + (end ? 86399 : 0);
}

function listQuery(req: Request, view: 'lead' | 'filtered'): ListQuery & { fromDate?: string; toDate?: string } {
  const q = req.query;
  const tz = shop().timezone;
  const status = q.status || undefined;
  if (status && !STATUSES.includes(status as LeadStatus)) throw new BadInput(`Status must be one of: ${STATUSES.join(', ')}.`);
  if (q.urgent && q.urgent !== '1' && q.urgent !== '0') throw new BadInput('Urgency must be 1 or 0.');
  if ((q.q ?? '').length > 100) throw new BadInput('Search for at most 100 characters.');
  return {
    view,
    status: status as LeadStatus | undefined,
    urgent: q.urgent ? q.urgent === '1' : undefined,
    from: q.from ? dayBound(q.from, tz, false) : undefined,
    to: q.to ? dayBound(q.to, tz, true) : undefined,
    fromDate: q.from || undefined,
    toDate: q.to || undefined,
    search: q.q || undefined,
    cursor: q.cursor || undefined,
    limit: 50,
  };
}

const CHANNEL_LABEL = (key: string) => (key === 'email' ? 'Email' : key === 'webhook' ? 'Webhook' : key.startsWith('sms_') ? 'Text' : key);
/** The deliveries to the owner (the inbox's own record is not one). */
const toOwner = (ds: Record<string, { at: number }>) => Object.entries(ds).filter(([key]) => key !== 'inbox');

async function list(req: Request, ctx: OwnerContext, view: 'lead' | 'filtered'): Promise<Result> {
  const query = listQuery(req, view);
  const d = deps(ctx.settings);
  const page = await d.inbox.list(shop().id, query);
  const delivered = view === 'lead' && page.leads.length ? await d.deliveries(page.leads.map((l) => l.threadId)) : new Map();
  const channels = new Map(
    [...delivered].map(([id, ds]): [string, string[]] => [id, [...new Set(toOwner(ds).map(([key]) => CHANNEL_LABEL(key)))]]),
  );
  if (req.wantsJson)
    return {
      statusCode: 200,
      headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
      body: JSON.stringify({
        leads: page.leads.map(({ summary, flags, ...l }) => ({ ...l, channels: channels.get(l.threadId) ?? [] })),
        next: page.next,
      }),
    };
  return pageResponse(
    200,
    listPage({ view, leads: page.leads, channels, query, next: page.next, now: Math.floor(Date.now() / 1000), session: sessionOf(ctx) }),
    ctx.settings,
  );
}

const sessionOf = (ctx: OwnerContext) => ({ email: ctx.session.email, csrf: ctx.csrf });

function parsed<T>(json: string | null, check: (x: unknown) => T | null): T | null {
  if (!json) return null;
  try {
    return check(JSON.parse(json));
  } catch {
    return null;
  }
}

async function detail(threadId: string, ctx: OwnerContext): Promise<Result> {
  const profile = shop();
  const d = deps(ctx.settings);
  const [found, delivered, transcript] = await Promise.all([
    d.inbox.get(profile.id, threadId),
    d.deliveries([threadId]),
    new StoreTranscriptSource(d.threads()).fetch(threadId, { assistantName: profile.assistantName }).catch((e): Transcript | null => {
      if (e instanceof ThreadNotFoundError) return null;
      throw e;
    }),
  ]);
  if (!found) throw new NotFoundInInbox(threadId);
  const l = found.lead;
  const summary = parsed<LeadSummary>(l.summary, (x) => {
    const r = LeadSummarySchema.safeParse(x);
    return r.success ? r.data : null;
  });
  const flags = parsed<LeadFlags>(l.flags, (x) => (x && typeof x === 'object' ? (x as LeadFlags) : null));
  const expires = Math.floor(Date.now() / 1000) + 86400;
  const { filesUrl } = ctx.settings;
  // Photos: the same signed links the lead email has (the files function), for a day.
  const lines = (transcript?.lines ?? []).map((line) => ({
    ...line,
    attachments: line.attachments.map((a) =>
      !a.previewUrl && a.id && filesUrl
        ? { ...a, previewUrl: signedLink(filesUrl, ctx.secret, { threadId, attachmentId: a.id, expires }) }
        : a,
    ),
  }));
  const content = leadEmailContent({
    shop: profile,
    threadId,
    reason: l.trigger,
    pageUrl: l.pageUrl,
    contacts: { phones: l.phones, emails: l.emails },
    summary,
    lines,
    flags: flags ?? undefined,
  });
  const deliveries = toOwner(delivered.get(threadId) ?? {})
    .map(([key, v]) => ({ label: CHANNEL_LABEL(key), at: v.at }))
    .sort((a, b) => a.at - b.at);
  ctx.logger.info('inbox: lead opened', { threadId });
  return pageResponse(
    200,
    detailPage({
      detail: found,
      sections: transcript ? content.sections : content.sections.filter((s) => s.kind !== 'transcript'),
      deliveries,
      transcriptMissing: !transcript,
      timeZone: profile.timezone,
      now: Math.floor(Date.now() / 1000),
      session: sessionOf(ctx),
    }),
    ctx.settings,
  );
}

const MONEY = /^\d{1,9}(\.\d{1,2})?$/;

async function change(threadId: string, what: 'outcome' | 'note', req: Request, ctx: OwnerContext): Promise<Result> {
  const form = new URLSearchParams(req.rawBody);
  const c: OutcomeChange = {};
  if (what === 'note') {
    const note = (form.get('note') ?? '').trim();
    if (note.length > 2000) throw new BadInput('A note is at most 2,000 characters.');
    c.note = note || null;
  } else {
    const status = form.get('status');
    if (!isOutcome(status)) throw new BadInput('Choose Contacted, Booked, Lost or Not a customer.');
    c.status = status;
    const value = (form.get('value') ?? '').trim();
    if (status === 'booked' && value) {
      if (!MONEY.test(value)) throw new BadInput('The job value is a number, like 450 or 450.50.');
      c.bookedValue = Number(value);
    }
    const reason = (form.get('reason') ?? '').trim();
    if (status === 'lost') {
      if (reason.length > 200) throw new BadInput('A reason is at most 200 characters.');
      c.lostReason = reason || null;
    }
  }
  await deps(ctx.settings).inbox.change(shop().id, threadId, c, ctx.session.email);
  ctx.metrics.addMetric(what === 'note' ? 'InboxNotes' : 'InboxOutcomes', MetricUnit.Count, 1);
  ctx.logger.info('inbox: lead changed', { threadId, status: c.status ?? null, note: what === 'note' });
  return redirect(`/leads/${threadId}`);
}

/** "This is a customer": recorded, then the lead service asked for the lead (its sweeper sends it, once: the ledger decides). */
async function rescueLead(threadId: string, ctx: OwnerContext): Promise<Result> {
  const d = deps(ctx.settings);
  const found = await d.inbox.get(shop().id, threadId);
  if (!found) throw new NotFoundInInbox(threadId);
  // Already a lead (sent, or a second click after it went out): its page, nothing asked again.
  if (found.lead.kind === 'lead') return redirect(`/leads/${threadId}`);
  const owner = await d.threads().threadOwner(threadId);
  if (!owner) throw new NotFoundInInbox(threadId);
  await d.inbox.rescue(shop().id, threadId, ctx.session.email);
  await d.spool().put({ threadId, reason: 'rescue', user: owner, pageUrl: null, at: Date.now() });
  ctx.metrics.addMetric('InboxRescues', MetricUnit.Count, 1);
  ctx.logger.info('inbox: a filtered conversation was marked a customer', { threadId });
  return redirect('/filtered');
}

async function numbers(ctx: OwnerContext): Promise<Result> {
  const since = Math.floor(Date.now() / 1000) - NUMBERS_DAYS * 86400;
  const leads = await deps(ctx.settings).inbox.all(shop().id, { view: 'lead', from: since });
  return pageResponse(200, numbersPage(inboxNumbers(leads, NUMBERS_DAYS), NUMBERS_DAYS, sessionOf(ctx)), ctx.settings);
}

async function csv(ctx: OwnerContext): Promise<Result> {
  const leads = await deps(ctx.settings).inbox.all(shop().id, { view: 'lead' });
  ctx.logger.info('inbox: leads exported', { leads: leads.length });
  return {
    statusCode: 200,
    headers: {
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': `attachment; filename="leads-${new Date().toISOString().slice(0, 10)}.csv"`,
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    },
    body: leadsCsv(leads),
  };
}
