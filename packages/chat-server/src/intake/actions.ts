import {
  ConflictError,
  InvalidRequestError,
  offeredActions,
  type CustomActionParams,
  type HiddenContextItem,
  type ThreadItem,
  type ThreadMetadata,
  type ThreadStreamEvent,
  type WidgetItem,
} from '@lead-intake/chatkit-protocol';
import { formatPhone, phoneFromField } from '@lead-intake/contacts';
import type { ShopProfile } from '@lead-intake/shop';
import type { CallbackRequest, VisitRequest } from '@lead-intake/transcript/requests';
import { bestTimeChoices, type Choice } from './choices';
import { ACTIONS, callbackConfirmation, callbackForm, CONFIRMED, FIELDS, visitConfirmation, type FormState } from './widgets';

export const MAX_NAME = 80;

/** What an accepted action did: the widget's new state, and what is recorded for the model and the lead. */
export type ActionOutcome =
  | { kind: 'replace'; item: WidgetItem }
  /** Recorded once (`record`'s id is derived from the widget: a second submit of it conflicts); then the widget's new state. */
  | { kind: 'record'; record: HiddenContextItem; item: WidgetItem; acknowledge: string };

/**
 * The intake widgets' actions (threads.custom_action / sync_custom_action), decided before anything
 * is written: the sender must be a widget of the caller's own thread (else 404, as an unknown item)
 * that offered this action type (else 400); the payload is checked against what the widget offered.
 */
export function decideAction(
  params: CustomActionParams,
  sender: ThreadItem | null,
  ctx: { thread: ThreadMetadata; profile: ShopProfile; now: Date; recordId: (itemId: string, what: string, ordinal?: number) => string },
): ActionOutcome {
  if (!sender) throw new InvalidRequestError('Actions here come from a widget: item_id is required.');
  if (ctx.thread.status.type !== 'active') throw new ConflictError(`The thread is ${ctx.thread.status.type}.`);
  const offered = sender.type === 'widget' ? offeredActions(sender.widget) : [];
  // A submit that comes after its form was sent (the second of two clicks, a retried request): the
  // confirmation as it is, nothing recorded again.
  if (params.action.type === ACTIONS.callbackSubmit && sender.type === 'widget' && isConfirmation(sender))
    return { kind: 'replace', item: sender };
  if (!offered.some((a) => a.type === params.action.type))
    throw new InvalidRequestError(`Item ${sender.id} did not offer the action ${JSON.stringify(params.action.type.slice(0, 64))}.`);
  const widget = sender as WidgetItem;
  const payload = (params.action.payload ?? {}) as Record<string, unknown>;
  if (typeof payload !== 'object' || Array.isArray(payload)) throw new InvalidRequestError('action.payload must be an object.');
  switch (params.action.type) {
    case ACTIONS.callbackSubmit:
      return callbackSubmit(widget, payload, ctx);
    case ACTIONS.callbackChange:
      // The form again, with fresh best times; its submit is a new request (a new revision).
      return { kind: 'replace', item: { ...widget, widget: formWidget(bestTimeChoices(ctx.now, ctx.profile), revisionOf(widget) + 1) } };
    case ACTIONS.visitPick: {
      const time = payload.time;
      const slot = offered.find((a) => a.type === ACTIONS.visitPick && a.payload?.time === time);
      if (typeof time !== 'string' || !slot) throw new InvalidRequestError('action.payload.time must be one of the offered times.');
      const label = labelOfSlot(widget, time);
      const content: VisitRequest = { type: 'visit_request', time, label, list_item_id: widget.id };
      return {
        kind: 'record',
        record: hidden(ctx.recordId(widget.id, 'visit'), ctx.thread.id, ctx.now, content),
        item: { ...widget, widget: visitConfirmation(label) as unknown as Record<string, unknown> },
        acknowledge: `Thanks! I've asked the shop for a drop-off ${label}. They'll confirm it with you.`,
      };
    }
    default:
      throw new InvalidRequestError(`The action ${JSON.stringify(params.action.type.slice(0, 64))} is not handled here.`);
  }
}

function callbackSubmit(
  widget: WidgetItem,
  payload: Record<string, unknown>,
  ctx: { thread: ThreadMetadata; profile: ShopProfile; now: Date; recordId: (itemId: string, what: string, ordinal?: number) => string },
): ActionOutcome {
  const choices = choicesOf(widget);
  const str = (k: string) => (typeof payload[k] === 'string' ? (payload[k] as string) : '');
  const rawName = str(FIELDS.name);
  const values: NonNullable<FormState['values']> = {
    name: rawName
      .replace(/\s+/g, ' ')
      .trim()
      .slice(0, MAX_NAME * 2),
    phone: str(FIELDS.phone).trim().slice(0, 40),
    best_time: str(FIELDS.bestTime),
    text_ok: payload[FIELDS.textOk] === true || payload[FIELDS.textOk] === 'true' || payload[FIELDS.textOk] === 'on',
  };
  const errors: NonNullable<FormState['errors']> = {};
  const phone = values.phone ? phoneFromField(values.phone, { shopPhone: ctx.profile.phone }) : null;
  if (!values.phone) errors.phone = 'Enter a phone number we can call.';
  else if (!phone) errors.phone = `${values.phone.slice(0, 40)} is not a phone number we can call. Check the number and area code.`;
  if (values.name && values.name.length > MAX_NAME) errors.name = `Your name can be at most ${MAX_NAME} characters.`;
  // No control or invisible characters in a name (a line break could forge a line in the owner's text).
  if (/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]/.test(rawName))
    errors.name = 'Your name has characters we cannot use.';
  const bestTime = values.best_time ? choices.find((c) => c.value === values.best_time) : null;
  if (values.best_time && !bestTime) errors.best_time = 'Pick one of the times offered.';
  if (Object.keys(errors).length)
    return { kind: 'replace', item: { ...widget, widget: formWidget(choices, revisionOf(widget), { values, errors }) } };
  const content: CallbackRequest = {
    type: 'callback_request',
    name: values.name || null,
    phone: phone!,
    best_time: bestTime?.value ?? null,
    best_time_label: bestTime?.label ?? null,
    text_ok: values.text_ok === true,
    form_item_id: widget.id,
  };
  const shown = formatPhone(phone!);
  const when = bestTime ? lowerFirst(bestTime.label) : 'soon';
  return {
    kind: 'record',
    record: hidden(ctx.recordId(widget.id, 'callback', revisionOf(widget)), ctx.thread.id, ctx.now, content),
    item: {
      ...widget,
      widget: { ...callbackConfirmation(shown, bestTime?.label ?? null), key: `rev-${revisionOf(widget)}` } as unknown as Record<
        string,
        unknown
      >,
    },
    acknowledge: `Thanks${content.name ? `, ${content.name}` : ''}! We'll call you at ${shown} ${when}.`,
  };
}

const lowerFirst = (s: string) => s.charAt(0).toLowerCase() + s.slice(1);

/** A callback form that was sent (its confirmation). */
const isConfirmation = (w: WidgetItem) => (w.widget as { status?: { text?: unknown } }).status?.text === CONFIRMED;

/** A form's revision: each "Change" makes a new one, whose submit is a new request. */
function revisionOf(widget: WidgetItem): number {
  const rev = (widget.widget as { key?: unknown }).key;
  return typeof rev === 'string' && /^rev-\d+$/.test(rev) ? Number(rev.slice(4)) : 0;
}
function formWidget(choices: Choice[], rev: number, state?: FormState): Record<string, unknown> {
  return { ...callbackForm(choices, state), key: `rev-${rev}` } as unknown as Record<string, unknown>;
}

/** The best times a form offered (its Select's options): the only ones it accepts. */
function choicesOf(widget: WidgetItem): Choice[] {
  let found: Choice[] = [];
  const walk = (n: unknown) => {
    if (!n || typeof n !== 'object') return;
    const o = n as Record<string, unknown>;
    if (o.type === 'Select' && o.name === FIELDS.bestTime && Array.isArray(o.options)) found = o.options as Choice[];
    if (Array.isArray(o.children)) o.children.forEach(walk);
  };
  walk(widget.widget);
  return found;
}

function labelOfSlot(widget: WidgetItem, time: string): string {
  const items = ((widget.widget as { children?: unknown[] }).children ?? []) as Array<{
    onClickAction?: { payload?: { time?: string } };
    children?: Array<{ value?: string }>;
  }>;
  const item = items.find((i) => i.onClickAction?.payload?.time === time);
  return item?.children?.[0]?.value ?? time;
}

function hidden(id: string, threadId: string, now: Date, content: CallbackRequest | VisitRequest): HiddenContextItem {
  return { id, thread_id: threadId, created_at: now.toISOString(), type: 'hidden_context_item', content };
}

/** The events an accepted outcome streams (the official server's `thread.item.replaced` for a widget's new state). */
export function outcomeEvents(outcome: ActionOutcome): ThreadStreamEvent[] {
  return [{ type: 'thread.item.replaced', item: outcome.item }];
}
