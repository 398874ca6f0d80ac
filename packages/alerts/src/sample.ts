import { sampleLead } from '@lead-intake/lead-message';
import { leadSmsText } from './lead-sms';
import type { LeadAlert } from './types';
import { leadDocument } from './webhook';

/**
 * The sample lead of the sample email (@lead-intake/lead-message `sampleLead`) as the other
 * channels see it, for docs/sample-lead-sms.txt and docs/sample-lead-webhook.json (`npm run
 * email:sample`) and the test that holds them equal to the code. Fixed times: the same bytes on
 * every run. Not part of the package's index: nothing deployed loads it.
 */
export function sampleAlerts(): { alert: LeadAlert; sms: string; webhook: string } {
  const lead = sampleLead(6, { callback: true });
  const alert: LeadAlert = {
    threadId: lead.threadId,
    trigger: lead.reason,
    pageUrl: lead.pageUrl,
    shop: { name: lead.shop.name, phone: lead.shop.phone, timezone: lead.shop.timezone },
    contacts: lead.contacts,
    summary: lead.summary,
    urgent: false,
    shopClosed: false,
    followUp: null,
    callback: lead.flags?.callback ?? null,
    dropOff: null,
    lines: lead.lines,
    createdAt: lead.lines[0]!.createdAt,
  };
  // Delivered a minute after the customer's last line.
  const deliveredAt = new Date((lead.lines.at(-1)!.createdAt + 60) * 1000);
  return { alert, sms: `${leadSmsText(alert)}\n`, webhook: `${JSON.stringify(leadDocument(alert, deliveredAt), null, 2)}\n` };
}
