import type { CardRoot, ListViewRoot, WidgetComponent } from '@lead-intake/chatkit-protocol';
import type { Choice } from './choices';

/** The action types the intake widgets offer: the server accepts each only from a widget that offered it. */
export const ACTIONS = {
  callbackSubmit: 'callback.submit',
  callbackChange: 'callback.change',
  visitPick: 'visit.pick',
} as const;

/** The fields of the callback form, by name (the action's payload keys). */
export const FIELDS = { name: 'name', phone: 'phone', bestTime: 'best_time', textOk: 'text_ok' } as const;

export interface FormState {
  /** What the customer entered, shown again with an error. */
  values?: { name?: string; phone?: string; best_time?: string; text_ok?: boolean };
  /** Errors by field name, shown under the form. */
  errors?: Partial<Record<(typeof FIELDS)[keyof typeof FIELDS] | 'form', string>>;
}

/** The callback form: name, phone (required), a best time among the shop's open hours, texting consent. */
export function callbackForm(choices: Choice[], state: FormState = {}): CardRoot {
  const v = state.values ?? {};
  const errors = Object.values(state.errors ?? {}).filter(Boolean) as string[];
  const children: WidgetComponent[] = [
    { type: 'Title', value: 'Request a call back', size: 'sm' },
    { type: 'Input', name: FIELDS.name, inputType: 'text', placeholder: 'Your name', ...(v.name ? { defaultValue: v.name } : {}) },
    {
      type: 'Input',
      name: FIELDS.phone,
      inputType: 'tel',
      required: true,
      placeholder: 'Phone number',
      ...(v.phone ? { defaultValue: v.phone } : {}),
    },
    {
      type: 'Select',
      name: FIELDS.bestTime,
      options: choices.map((c) => ({ value: c.value, label: c.label })),
      placeholder: 'Best time to call',
      block: true,
      ...(v.best_time && choices.some((c) => c.value === v.best_time) ? { defaultValue: v.best_time } : {}),
    },
    { type: 'Checkbox', name: FIELDS.textOk, label: 'OK to text me about this', ...(v.text_ok ? { defaultChecked: true } : {}) },
    ...errors.map((e): WidgetComponent => ({ type: 'Text', value: e, size: 'sm', color: 'danger' })),
    { type: 'Button', label: 'Request call', submit: true, style: 'primary', block: true },
  ];
  return {
    type: 'Card',
    size: 'md',
    children: [{ type: 'Form', direction: 'col', gap: 2, onSubmitAction: { type: ACTIONS.callbackSubmit }, children }],
  };
}

/** The status line of a sent form's confirmation. */
export const CONFIRMED = 'Callback requested';

/** The form once sent: what the shop will do, and a way to change it (the form again). */
export function callbackConfirmation(phoneShown: string, bestTimeLabel: string | null): CardRoot {
  const when = bestTimeLabel ? ` ${bestTimeLabel.charAt(0).toLowerCase()}${bestTimeLabel.slice(1)}` : ' soon';
  return {
    type: 'Card',
    size: 'md',
    status: { text: CONFIRMED, icon: 'check' },
    children: [
      { type: 'Text', value: `We'll call you at ${phoneShown}${when}.` },
      { type: 'Button', label: 'Change', style: 'secondary', onClickAction: { type: ACTIONS.callbackChange } },
    ],
  };
}

/** Drop-off times to pick from: a request the shop confirms, not a booking. */
export function visitTimes(slots: Choice[]): ListViewRoot {
  return {
    type: 'ListView',
    status: { text: 'Pick a drop-off time (the shop confirms it)', icon: 'calendar' },
    children: slots.map((s) => ({
      type: 'ListViewItem',
      children: [{ type: 'Text', value: s.label }],
      onClickAction: { type: ACTIONS.visitPick, payload: { time: s.value } },
    })),
  };
}

/** The list once a time is picked. */
export function visitConfirmation(label: string): CardRoot {
  return {
    type: 'Card',
    size: 'md',
    status: { text: 'Drop-off requested', icon: 'calendar' },
    children: [{ type: 'Text', value: `Preferred drop-off: ${label}. The shop will confirm it with you.` }],
  };
}
