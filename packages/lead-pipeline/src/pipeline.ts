import type OpenAI from 'openai';
import { renderLeadEmail, type RenderedEmail } from '@lead-intake/email-template';
import { summarizeLead, type LeadSummary, type SummaryFailure } from '@lead-intake/lead-summary';
import type { ShopProfile } from '@lead-intake/shop-hours';
import { extractContacts, formatForModel, ThreadNotFoundError, type Contacts, type Transcript, type TranscriptSource } from '@lead-intake/transcript';
import type { LeadReason, LeadRequest } from './request';

/** Every `reason` the lead endpoint can answer with (docs/backend.md lists them with their meaning). */
export const ANSWER_REASONS = ['sent', 'already_sent', 'in_progress', 'cooldown', 'not_ready', 'no_contact', 'error', 'failed'] as const;
export type AnswerReason = (typeof ANSWER_REASONS)[number];
export interface LeadAnswer {
  sent: boolean;
  reason: AnswerReason;
}

/** The summary result for one transcript state: a summary, or why there is none. */
export type SummaryResult = { ok: true; summary: LeadSummary } | { ok: false; failure: SummaryFailure };

export interface EvaluateDeps {
  source: TranscriptSource;
  openai: OpenAI;
  profile: ShopProfile;
  model: string;
  /** Reuse a summary already paid for on this transcript state (the ledger provides it). */
  cachedSummary?: (transcript: Transcript) => SummaryResult | undefined;
}

export type Evaluation =
  | { kind: 'no_contact'; transcript: Transcript; contacts: Contacts }
  | { kind: 'not_ready'; transcript: Transcript; contacts: Contacts; summary: SummaryResult }
  | { kind: 'send'; transcript: Transcript; contacts: Contacts; summary: SummaryResult; email: RenderedEmail; replyTo: string | null };

/** Identifies a transcript state: the same items give the same key, any new item a new one. */
export function transcriptState(t: Transcript): string {
  return `${t.itemCount}:${t.lastItemId ?? ''}`;
}

/** The rule: `auto` sends only a handoff-ready summary; every other reason sends once a contact exists. */
export function decide(reason: LeadReason, contacts: Contacts, summary: SummaryResult | null): 'no_contact' | 'not_ready' | 'send' {
  if (contacts.emails.length === 0 && contacts.phones.length === 0) return 'no_contact';
  if (reason !== 'auto') return 'send';
  return summary?.ok && summary.summary.handoff_ready === true ? 'send' : 'not_ready';
}

/**
 * Reads the thread, finds contacts, gets the summary (or reuses one), decides, and renders the
 * email when it should go out. Never sends; the caller owns delivery (and the ledger around it).
 */
export async function evaluateLead(req: LeadRequest, deps: EvaluateDeps, signal?: AbortSignal): Promise<Evaluation & { summaryFromCache: boolean }> {
  const { profile } = deps;
  const transcript = await deps.source.fetch(req.threadId, { assistantName: profile.assistantName, signal });
  // Someone else's thread is answered as if it did not exist, before any summary is paid for.
  if (req.user && transcript.user && req.user !== transcript.user) throw new ThreadNotFoundError(req.threadId);
  const contacts = extractContacts(transcript.lines, { shopPhone: profile.phone });
  if (decide(req.reason, contacts, null) === 'no_contact') return { kind: 'no_contact', transcript, contacts, summaryFromCache: false };

  let summary = deps.cachedSummary?.(transcript);
  const summaryFromCache = summary !== undefined;
  summary ??= await summarize(deps, transcript, contacts, signal);
  const decision = decide(req.reason, contacts, summary);
  if (decision !== 'send') return { kind: 'not_ready', transcript, contacts, summary, summaryFromCache };

  const email = render(req, profile, transcript, contacts, summary);
  return { kind: 'send', transcript, contacts, summary, email, replyTo: contacts.emails[0] ?? null, summaryFromCache };
}

function render(req: LeadRequest, profile: ShopProfile, transcript: Transcript, contacts: Contacts, summary: SummaryResult | null) {
  return renderLeadEmail({
    shop: { name: profile.name, phone: profile.phone, assistantName: profile.assistantName, timezone: profile.timezone },
    threadId: req.threadId,
    reason: req.reason,
    // The page the browser named, else the one the self-hosted thread recorded.
    pageUrl: req.pageUrl ?? transcript.pageUrl ?? null,
    contacts,
    summary: summary?.ok ? summary.summary : null,
    lines: transcript.lines,
  });
}

async function summarize(deps: EvaluateDeps, transcript: Transcript, contacts: Contacts, signal?: AbortSignal): Promise<SummaryResult> {
  const outcome = await summarizeLead(deps.openai, { model: deps.model, shopName: deps.profile.name, transcriptText: formatForModel(transcript.lines), contacts, signal });
  return outcome.ok ? { ok: true, summary: outcome.summary } : { ok: false, failure: outcome.failure };
}

/**
 * What the email for a thread would be, whatever the decision: for `npm run lead -- preview`.
 * Reads the thread and asks for a summary; sends nothing and never touches the ledger.
 */
export async function previewLead(req: LeadRequest, deps: EvaluateDeps): Promise<{ decision: ReturnType<typeof decide>; email: RenderedEmail; summary: SummaryResult; contacts: Contacts }> {
  const transcript = await deps.source.fetch(req.threadId, { assistantName: deps.profile.assistantName });
  const contacts = extractContacts(transcript.lines, { shopPhone: deps.profile.phone });
  const summary = await summarize(deps, transcript, contacts);
  return { decision: decide(req.reason, contacts, summary), email: render(req, deps.profile, transcript, contacts, summary), summary, contacts };
}
