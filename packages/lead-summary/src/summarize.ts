import OpenAI from 'openai';
import { zodTextFormat } from 'openai/helpers/zod';
import { LeadSummarySchema, type LeadSummary } from './schema';
import { leadSummaryInstructions } from './instructions';

/** The structured output's name: how the request log (and the bench) tells a summary from a chat turn. */
export const SUMMARY_FORMAT = 'lead_summary';

export type SummaryFailure = 'timeout' | 'api_error' | 'refusal' | 'incomplete' | 'invalid_output';

export type SummaryOutcome =
  { ok: true; summary: LeadSummary; responseId: string | null } | { ok: false; failure: SummaryFailure; status?: number };

export interface SummarizeInput {
  model: string;
  shopName: string;
  /** The transcript as speaker-labelled text (formatForModel). */
  transcriptText: string;
  contacts: { emails: string[]; phones: string[] };
  /** Per-request deadline on top of the client's own timeout and retries. */
  signal?: AbortSignal;
}

export function summaryInput(i: Pick<SummarizeInput, 'transcriptText' | 'contacts'>): string {
  const contacts = [...i.contacts.phones, ...i.contacts.emails];
  return [
    `Contact details found in the customer's messages: ${contacts.length ? contacts.join(', ') : 'none'}.`,
    '',
    'Transcript:',
    i.transcriptText,
  ].join('\n');
}

/**
 * Asks for the structured summary. Never throws for an upstream or model failure: every failure
 * shape (timeout, API error, refusal, incomplete output, invalid JSON or schema) is an outcome, so
 * the caller decides whether the lead still goes out.
 */
export async function summarizeLead(client: OpenAI, i: SummarizeInput): Promise<SummaryOutcome> {
  let res;
  try {
    res = await client.responses.parse(
      {
        model: i.model,
        instructions: leadSummaryInstructions(i.shopName),
        input: [{ role: 'user', content: summaryInput(i) }],
        text: { format: zodTextFormat(LeadSummarySchema, SUMMARY_FORMAT) },
        store: false, // the transcript is PII: do not keep it at OpenAI beyond the call
      },
      i.signal ? { signal: i.signal } : undefined,
    );
  } catch (e) {
    if (e instanceof OpenAI.APIConnectionTimeoutError || e instanceof OpenAI.APIUserAbortError) return { ok: false, failure: 'timeout' };
    if (e instanceof OpenAI.APIError)
      return { ok: false, failure: e.status === undefined && /timed? ?out/i.test(e.message) ? 'timeout' : 'api_error', status: e.status };
    // SyntaxError (not JSON), ZodError (wrong shape), TypeError (no output array).
    return { ok: false, failure: 'invalid_output' };
  }
  if (res.status === 'incomplete') return { ok: false, failure: 'incomplete' };
  const refused = res.output?.some((o: any) => o.type === 'message' && o.content?.some((c: any) => c.type === 'refusal'));
  if (refused) return { ok: false, failure: 'refusal' };
  if (!res.output_parsed) return { ok: false, failure: 'invalid_output' };
  return { ok: true, summary: res.output_parsed, responseId: res.id ?? null };
}
