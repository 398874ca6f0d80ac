import {
  isHidden,
  type StructuredInputItem,
  type ThreadItem,
  type ThreadStreamEvent,
  type WidgetItem,
} from '@lead-intake/chatkit-protocol';
import type { ShopProfile } from '@lead-intake/shop';
import { bestTimeChoices, visitSlots } from './choices';
import { ACTIONS, callbackForm, visitTimes } from './widgets';

/**
 * The assistant's tools (Responses function tools, run here, never in the browser): the callback
 * form, drop-off times, a quick question. Each streams an item and tells the model what it did.
 */
const noArgs = { type: 'object', properties: {}, required: [], additionalProperties: false };
export const INTAKE_TOOLS = [
  {
    type: 'function' as const,
    name: 'show_callback_form',
    description:
      'Show the customer a form to request a call back (name, phone, best time, texting consent). Use it when they want a call, ' +
      'a quote or an appointment and have not given a phone number.',
    parameters: noArgs,
    strict: true,
  },
  {
    type: 'function' as const,
    name: 'offer_visit_times',
    description: "Show up to six drop-off times in the shop's coming open hours for the customer to pick (a request the shop confirms).",
    parameters: noArgs,
    strict: true,
  },
  {
    type: 'function' as const,
    name: 'ask_customer',
    description: 'Ask one quick triage question with a few answers to pick from (e.g. "Is the car safe to drive?").',
    parameters: {
      type: 'object',
      properties: {
        question: { type: 'string', description: 'The question, short.' },
        options: { type: 'array', items: { type: 'string' }, description: 'Up to six short answers.' },
        allow_freeform: { type: 'boolean', description: 'Whether the customer may answer in their own words.' },
      },
      required: ['question', 'options', 'allow_freeform'],
      additionalProperties: false,
    },
    strict: true,
  },
];
export type IntakeToolName = (typeof INTAKE_TOOLS)[number]['name'];

export interface ToolContext {
  threadId: string;
  now: Date;
  profile: ShopProfile;
  newItemId: () => string;
  /** The conversation so far (the turn's history and what this turn has streamed). */
  history: readonly ThreadItem[];
}

export interface ToolRun {
  /** Streamed before the items: what is happening. */
  progress: string;
  icon: string;
  /** The items the tool shows (each streamed as `thread.item.done` and stored). */
  items: ThreadItem[];
  /** The function call's output: what the model is told. */
  output: string;
  /** The turn ends after this tool (a question now waits for the customer). */
  endsTurn: boolean;
}

const MAX_QUESTION = 200;
const MAX_OPTIONS = 6;
const MAX_OPTION = 80;

/** The widget a callback form was shown in (its submit action), for "never the same form twice in a row". */
export const isCallbackForm = (item: ThreadItem): item is WidgetItem =>
  item.type === 'widget' && JSON.stringify(item.widget).includes(`"type":"${ACTIONS.callbackSubmit}"`);

/** Runs one tool call; arguments the model got wrong are said back to it (it may try again), never thrown. */
export function runTool(name: string, rawArgs: string, ctx: ToolContext): ToolRun {
  const base = { id: ctx.newItemId(), thread_id: ctx.threadId, created_at: ctx.now.toISOString() };
  switch (name as IntakeToolName) {
    case 'show_callback_form': {
      const last = [...ctx.history].reverse().find((i) => !isHidden(i));
      if (last && isCallbackForm(last))
        return {
          progress: 'Preparing a callback form',
          icon: 'phone',
          items: [],
          output: 'The callback form is already on screen: do not show it again.',
          endsTurn: false,
        };
      const choices = bestTimeChoices(ctx.now, ctx.profile);
      const widget: WidgetItem = { ...base, type: 'widget', widget: callbackForm(choices) as unknown as Record<string, unknown> };
      return {
        progress: 'Preparing a callback form',
        icon: 'phone',
        items: [widget],
        output:
          `The callback form is shown (best times offered: ${choices.map((c) => c.label).join(', ') || 'none'}). ` +
          'Invite the customer to fill it in; a phone number typed in the chat works too.',
        endsTurn: false,
      };
    }
    case 'offer_visit_times': {
      const slots = visitSlots(ctx.now, ctx.profile);
      if (!slots.length)
        return {
          progress: 'Finding drop-off times',
          icon: 'calendar',
          items: [],
          output: 'No drop-off times are open in the next two weeks: offer a call back instead.',
          endsTurn: false,
        };
      const widget: WidgetItem = { ...base, type: 'widget', widget: visitTimes(slots) as unknown as Record<string, unknown> };
      return {
        progress: 'Finding drop-off times',
        icon: 'calendar',
        items: [widget],
        output: `Drop-off times shown: ${slots.map((s) => s.label).join('; ')}. A pick is a request the shop confirms, not a booking.`,
        endsTurn: false,
      };
    }
    case 'ask_customer': {
      let args: { question?: unknown; options?: unknown; allow_freeform?: unknown };
      try {
        args = JSON.parse(rawArgs);
      } catch {
        return {
          progress: 'Asking a question',
          icon: 'circle-question',
          items: [],
          output: 'The arguments were not JSON: nothing was shown.',
          endsTurn: false,
        };
      }
      const question = typeof args.question === 'string' ? args.question.trim().slice(0, MAX_QUESTION) : '';
      const options = (Array.isArray(args.options) ? args.options : [])
        .filter((o): o is string => typeof o === 'string' && o.trim().length > 0)
        .map((o) => o.trim().slice(0, MAX_OPTION))
        .slice(0, MAX_OPTIONS);
      if (!question || (!options.length && args.allow_freeform !== true))
        return {
          progress: 'Asking a question',
          icon: 'circle-question',
          items: [],
          output: 'A question needs its text and options (or allow_freeform): nothing was shown.',
          endsTurn: false,
        };
      const item: StructuredInputItem = {
        ...base,
        type: 'structured_input',
        status: 'pending',
        inputs: [
          options.length
            ? { id: 'answer', type: 'multiple_choice', question, options: options.map((value) => ({ value })), multiple: false }
            : { id: 'answer', type: 'freeform', question },
        ],
      };
      return {
        progress: 'Asking a question',
        icon: 'circle-question',
        items: [item],
        output: 'The question is shown; the customer answers next.',
        endsTurn: true,
      };
    }
    default:
      return { progress: 'Working', icon: 'sparkle', items: [], output: `There is no tool named ${name}.`, endsTurn: false };
  }
}

/** A tool's events: what it is doing, then its items. */
export function toolEvents(run: ToolRun): ThreadStreamEvent[] {
  return [
    { type: 'progress_update', icon: run.icon, text: run.progress },
    ...run.items.map((item): ThreadStreamEvent => ({ type: 'thread.item.done', item })),
  ];
}
