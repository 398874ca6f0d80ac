/**
 * What a customer requested through the chat's widgets, as the chat server records it on the
 * thread (a hidden context item's content: the model reads it, the customer never sees it) and
 * as the lead reads it from the transcript.
 */
export interface CallbackRequest {
  type: 'callback_request';
  name: string | null;
  /** E.164, checked with the project's phone rule when the form was sent. */
  phone: string;
  /** The best time's value and label as the form offered them, or null. */
  best_time: string | null;
  best_time_label: string | null;
  text_ok: boolean;
  /** The form it came from. */
  form_item_id: string;
}

/** A drop-off time the customer picked: a request the shop confirms, not a booking. */
export interface VisitRequest {
  type: 'visit_request';
  /** ISO 8601 with the shop's offset. */
  time: string;
  label: string;
  list_item_id: string;
}

export type CustomerRequest = CallbackRequest | VisitRequest;

/** A request as the transcript holds it: with the id of the hidden item that recorded it (one per request, never reused). */
export type RecordedRequest = CustomerRequest & { itemId: string };

export const isCallbackRequest = <T>(c: T): c is T & CallbackRequest =>
  !!c &&
  typeof c === 'object' &&
  (c as { type?: unknown }).type === 'callback_request' &&
  typeof (c as { phone?: unknown }).phone === 'string';
export const isVisitRequest = <T>(c: T): c is T & VisitRequest =>
  !!c && typeof c === 'object' && (c as { type?: unknown }).type === 'visit_request' && typeof (c as { time?: unknown }).time === 'string';

/** A request as one line of the transcript (the customer's: its phone is a contact they gave). */
export function requestLine(r: CustomerRequest): string {
  if (r.type === 'visit_request') return `Preferred drop-off (picked in the chat): ${r.label}`;
  const parts = [
    r.name ? `name ${r.name}` : null,
    `phone ${r.phone}`,
    r.best_time_label ? `best time ${r.best_time_label}` : null,
    r.text_ok ? 'OK to text' : 'no texts',
  ].filter(Boolean);
  return `Callback requested (form): ${parts.join(', ')}`;
}
