/**
 * The owner's lead inbox: what one lead is in the list, and how the owner works it to an outcome.
 * Customer- and model-written strings are untrusted: pages escape them, the CSV neutralizes them.
 */

/** The outcomes the owner records, in the order the page offers them, with their labels (a contract: the page's buttons). */
export const OUTCOMES = {
  contacted: 'Contacted',
  booked: 'Booked',
  lost: 'Lost',
  not_customer: 'Not a customer',
} as const;
export type Outcome = keyof typeof OUTCOMES;
export const isOutcome = (s: unknown): s is Outcome => typeof s === 'string' && Object.hasOwn(OUTCOMES, s);

/** A lead's status: `new` until the owner records an outcome. */
export type LeadStatus = 'new' | Outcome;
export const STATUSES: readonly LeadStatus[] = ['new', 'contacted', 'booked', 'lost', 'not_customer'];
export const STATUS_LABELS: Record<LeadStatus, string> = { new: 'New', ...OUTCOMES };

/**
 * `lead`: an alert went out. `filtered`: the triage held it back (spam, a test, a vendor, a job
 * seeker): kept so a misjudged conversation can be rescued.
 */
export type RecordKind = 'lead' | 'filtered';

/** What the pipeline knows of a lead when its first delivery goes out (or of a conversation the triage filtered). */
export interface NewInboxLead {
  shopId: string;
  threadId: string;
  kind: RecordKind;
  /** Epoch seconds: when the lead went out (filtered: when it was judged). */
  at: number;
  name: string | null;
  /** E.164. */
  phones: string[];
  emails: string[];
  vehicle: string | null;
  /** The need in a line (the summary's project summary). */
  need: string | null;
  urgent: boolean;
  /** The shop was closed when the lead went out. */
  afterHours: boolean;
  /** The same customer's earlier lead (a follow-up). */
  followUpOf: string | null;
  /** `Callback requested: ...` / `Preferred drop-off: ...`, when the customer asked in the chat's form. */
  request: string | null;
  /** Filtered: what the triage said it was (spam, test, vendor, job_seeker). */
  leadKind: string | null;
  pageUrl: string | null;
  /** What sent it (the lead's trigger). */
  trigger: string;
  /** The AI summary the alert carried (JSON), for the detail page's summary, call script and drafts; null without one. */
  summary: string | null;
  /** The alert's triage flags (JSON: urgent, follow-up, callback, drop-off), as the email showed them. */
  flags: string | null;
  /** Epoch seconds when the record goes (retention follows the conversation's). */
  expiresAt: number;
}

export interface InboxLead extends NewInboxLead {
  status: LeadStatus;
  /** The first `Contacted`: with `at`, the lead's time to callback. */
  firstContactedAt: number | null;
  /** `Booked`: the job's value (the shop's currency), if given. */
  bookedValue: number | null;
  lostReason: string | null;
  note: string | null;
  /** Rescued from the filtered view ("This is a customer"): when, by whom. */
  rescuedAt: number | null;
  updatedAt: number;
}

/** One change the owner made, with who and when. */
export interface HistoryEntry {
  at: number;
  /** The owner's address (the shop's own, never a customer's). */
  by: string;
  status?: LeadStatus;
  bookedValue?: number | null;
  lostReason?: string | null;
  note?: string | null;
  /** `rescued`: "This is a customer" from the filtered view. */
  event?: 'rescued';
}

export interface InboxDetail {
  lead: InboxLead;
  /** Oldest first. */
  history: HistoryEntry[];
}

/** A change of status and/or note. */
export interface OutcomeChange {
  status?: Outcome;
  bookedValue?: number | null;
  lostReason?: string | null;
  note?: string | null;
}

export const NOTE_MAX = 2000;
export const REASON_MAX = 200;
