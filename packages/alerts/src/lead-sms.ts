import { formatPhone } from '@lead-intake/contacts';
import { callbackLine, oneLine, requestKind } from '@lead-intake/lead-message';
import { fitSegments } from './sms';
import type { LeadAlert } from './types';

/**
 * The owner's text: who, the need in a few words, the vehicle, the number to call back, and the
 * urgency, in at most two segments (UCS-2 when a name needs it: fewer characters then). No
 * transcript. The customer-influenced parts are cut in this order when it is too long: the need,
 * the vehicle, the name; the callback last.
 *
 *   URGENT (shop closed) lead: Dana Whitfield
 *   Will not start, needs a tow (2016 Toyota Tacoma)
 *   Call (408) 555-0142
 *
 * A callback requested in the chat's form, or a picked drop-off time, comes first on the last
 * line (`Callback requested: Tomorrow morning. Call (408) 555-0142`): the owner acts on it first.
 */
export function leadSmsText(a: LeadAlert): string {
  const urgency = a.urgent ? `URGENT${a.shopClosed ? ' (shop closed)' : ''} ` : '';
  const head = `${urgency}${a.followUp ? 'Follow-up lead' : a.urgent ? 'lead' : 'New lead'}`;
  const phone = a.contacts.phones[0];
  const email = a.contacts.emails[0];
  const asked = [
    a.callback ? `${callbackLine(a.callback)}.` : '',
    a.dropOff ? `Preferred drop-off: ${oneLine(a.dropOff.label)}.` : '',
  ].filter(Boolean);
  const reach = phone ? `Call ${formatPhone(phone)}` : email ? `Email ${email}` : '';
  const callback = [...asked, reach].filter(Boolean).join(' ');
  const name = oneLine(a.summary?.customer_name ?? '') || (phone ? formatPhone(phone) : (email ?? 'website visitor'));
  const v = a.summary?.vehicle;
  const vehicle = v ? oneLine([v.year, v.make, v.model].filter((x) => x !== null && x !== '').join(' ')) : '';
  const need = oneLine(a.summary?.project_summary ?? '') || 'AI summary unavailable, see the email';
  // The inbox link last, never cut (a link cut short opens nothing).
  const link = a.inboxLink ?? '';
  return fitSegments([need, vehicle, name, callback], ([n, veh, who, cb]) =>
    [`${head}: ${who}`, `${n}${veh ? ` (${veh})` : ''}`, cb, link].filter(Boolean).join('\n'),
  );
}

/**
 * The owner's text for a request made after the lead went out (`alert.update`): what was asked,
 * the name, the number, and which lead it updates. No transcript.
 *
 *   Update to the lead of Dec 2, 2:14 PM: Maria
 *   Callback requested: Tomorrow morning
 *   Call (408) 555-0142
 */
export function updateSmsText(a: LeadAlert): string {
  const phone = a.callback?.phone ?? a.contacts.phones[0];
  const email = a.contacts.emails[0];
  const reach = phone ? `Call ${formatPhone(phone)}` : email ? `Email ${email}` : '';
  const sent = new Intl.DateTimeFormat('en-US', {
    timeZone: a.shop.timezone,
    month: 'short',
    day: 'numeric',
    hour: 'numeric',
    minute: '2-digit',
  }).format(new Date((a.update?.leadSentAt ?? 0) * 1000));
  const name = oneLine(a.callback?.name ?? '') || (phone ? formatPhone(phone) : (email ?? 'website visitor'));
  const kind = requestKind({ callback: a.callback ?? null, dropOff: a.dropOff ?? null });
  return fitSegments([name, kind, reach], ([who, k, r]) => [`Update to the lead of ${sent}: ${who}`, k, r].filter(Boolean).join('\n'));
}
