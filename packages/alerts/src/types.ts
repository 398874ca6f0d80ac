import type { LeadSummary } from '@lead-intake/lead-summary';
import type { TranscriptLine } from '@lead-intake/transcript';

/** A delivery channel's name: `email` (always on), or an owner channel's from the registry (./channels/registry.ts). */
export type Channel = string;

/** Which leads a channel gets: every lead, or urgent ones only. */
export type ChannelLeads = 'all' | 'urgent';

/** One lead, as every channel renders it (the email has its own renderer over the same facts). */
export interface LeadAlert {
  threadId: string;
  /** The trigger the lead went out on (auto, idle, pagehide, close, manual; request: the chat's form). */
  trigger: string;
  pageUrl: string | null;
  shop: { name: string; phone: string; timezone: string };
  contacts: { phones: string[]; emails: string[] };
  /** null: the AI summary was unavailable (the lead still goes out). */
  summary: LeadSummary | null;
  urgent: boolean;
  /** Only meaningful when urgent: the shop was closed when the lead went out. */
  shopClosed: boolean;
  /** The same phone or email produced this earlier lead within the follow-up window. */
  followUp: { threadId: string; sentAt: number } | null;
  /** The customer asked for a call back through the chat's form (the latest request), or null. */
  callback?: { phone: string; name: string | null; bestTime: string | null; textOk: boolean } | null;
  /** A drop-off time the customer picked in the chat, or null. */
  dropOff?: { label: string; time: string } | null;
  /**
   * Not a lead: an update to the conversation's lead, which went out at `leadSentAt` (epoch
   * seconds), for one request made since (its `callback` or `dropOff`). Only channels that carry
   * updates get it (`ChannelModule.updates`).
   */
  update?: { leadSentAt: number } | null;
  lines: TranscriptLine[];
  /** The lead's page in the owner's inbox, or null: the text's last line. */
  inboxLink?: string | null;
  /** When the lead's ledger record was created (epoch seconds): with the thread, names the lead for the webhook id. */
  createdAt: number;
}
