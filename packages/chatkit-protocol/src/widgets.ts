/**
 * The widget components this server streams, as the official server types them (chatkit/widgets.py;
 * the client's types in @openai/chatkit). A subset: what the intake widgets use. Every object here
 * validates against the official `WidgetRoot` (test/conformance checks the ones we emit).
 */

/** What a widget sends when the customer acts (chatkit/actions.py `ActionConfig`). */
export interface ActionConfig {
  type: string;
  payload?: Record<string, unknown>;
  /** `server` (the default): the action comes to this server as `threads.custom_action`. */
  handler?: 'server' | 'client';
  loadingBehavior?: 'auto' | 'none' | 'self' | 'container';
  /** false: `threads.sync_custom_action` (the answer is the updated item, no stream). */
  streaming?: boolean;
}

interface Base {
  key?: string;
  id?: string;
}
type Gap = number | string;

export interface TextComponent extends Base {
  type: 'Text';
  value: string;
  size?: 'xs' | 'sm' | 'md' | 'lg' | 'xl';
  weight?: 'normal' | 'medium' | 'semibold' | 'bold';
  color?: string;
}
export interface TitleComponent extends Base {
  type: 'Title';
  value: string;
  size?: 'sm' | 'md' | 'lg' | 'xl' | '2xl' | '3xl' | '4xl' | '5xl';
}
export interface CaptionComponent extends Base {
  type: 'Caption';
  value: string;
  color?: string;
}
export interface DividerComponent extends Base {
  type: 'Divider';
}
export interface InputComponent extends Base {
  type: 'Input';
  name: string;
  inputType?: 'number' | 'email' | 'text' | 'password' | 'tel' | 'url';
  defaultValue?: string;
  required?: boolean;
  pattern?: string;
  placeholder?: string;
}
export interface SelectComponent extends Base {
  type: 'Select';
  name: string;
  options: Array<{ value: string; label: string; disabled?: boolean; description?: string }>;
  placeholder?: string;
  defaultValue?: string;
  block?: boolean;
}
export interface CheckboxComponent extends Base {
  type: 'Checkbox';
  name: string;
  label?: string;
  defaultChecked?: boolean;
}
export interface ButtonComponent extends Base {
  type: 'Button';
  label?: string;
  submit?: boolean;
  onClickAction?: ActionConfig;
  style?: 'primary' | 'secondary';
  block?: boolean;
}
export interface BoxComponent extends Base {
  type: 'Col' | 'Row';
  children: WidgetComponent[];
  gap?: Gap;
  align?: 'start' | 'center' | 'end' | 'baseline' | 'stretch';
}
export interface FormComponent extends Base {
  type: 'Form';
  children: WidgetComponent[];
  onSubmitAction?: ActionConfig;
  direction?: 'row' | 'col';
  gap?: Gap;
}

export type WidgetComponent =
  | TextComponent
  | TitleComponent
  | CaptionComponent
  | DividerComponent
  | InputComponent
  | SelectComponent
  | CheckboxComponent
  | ButtonComponent
  | BoxComponent
  | FormComponent;

export interface CardRoot extends Base {
  type: 'Card';
  children: WidgetComponent[];
  size?: 'sm' | 'md' | 'lg' | 'full';
  status?: { text: string; icon?: string };
}
export interface ListViewItemComponent extends Base {
  type: 'ListViewItem';
  children: WidgetComponent[];
  onClickAction?: ActionConfig;
  gap?: Gap;
}
export interface ListViewRoot extends Base {
  type: 'ListView';
  children: ListViewItemComponent[];
  status?: { text: string; icon?: string };
}
export type WidgetRoot = CardRoot | ListViewRoot;

/** Every action a widget offers (its buttons', forms' and list items' actions), in tree order. */
export function offeredActions(widget: unknown): ActionConfig[] {
  const out: ActionConfig[] = [];
  const walk = (node: unknown) => {
    if (!node || typeof node !== 'object') return;
    const n = node as Record<string, unknown>;
    for (const key of ['onClickAction', 'onSubmitAction', 'onChangeAction']) {
      const a = n[key] as ActionConfig | undefined;
      if (a && typeof a === 'object' && typeof a.type === 'string') out.push(a);
    }
    if (Array.isArray(n.children)) n.children.forEach(walk);
  };
  walk(widget);
  return out;
}
