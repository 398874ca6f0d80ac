/**
 * The ChatKit custom-server data model and stream events, as the official server (openai-chatkit
 * 1.6.5, chatkit/types.py) defines them and the ChatKit web client reads them. Field names are
 * the wire's (snake_case). docs/chatkit-protocol.md lists where this server differs on purpose.
 */

export type ThreadStatus = { type: 'active' } | { type: 'locked'; reason?: string } | { type: 'closed'; reason?: string };

/** What the store keeps of a thread. `metadata` is server-side only and never sent. */
export interface ThreadMetadata {
  id: string;
  title?: string | null;
  /** ISO-8601, UTC (`...Z`). */
  created_at: string;
  status: ThreadStatus;
  allowed_image_domains?: string[] | null;
  metadata: ThreadPrivateMetadata;
}

/** Server-side facts about a thread (never sent to the client). */
export interface ThreadPrivateMetadata {
  /** The page the chat ran on when the customer last wrote (from the client token). */
  page_url?: string;
  /** The customer's locale (BCP-47) from the client token. */
  locale?: string;
  /** Set on threads imported from the hosted ChatKit API. */
  migrated_from?: 'hosted';
  [key: string]: unknown;
}

export interface Page<T> {
  data: T[];
  has_more: boolean;
  after?: string;
}

export type Order = 'asc' | 'desc';

/** A thread as the client sees it: no private metadata, no hidden items. */
export interface ThreadResponse {
  id: string;
  title?: string;
  created_at: string;
  status: ThreadStatus;
  allowed_image_domains?: string[];
  metadata: Record<string, never>;
  items: Page<ThreadItem>;
}

export interface InputText {
  type: 'input_text';
  text: string;
}
export interface InputTag {
  type: 'input_tag';
  id: string;
  text: string;
  data: Record<string, unknown>;
  group?: string;
  interactive: boolean;
}
export type UserMessageContent = InputText | InputTag;

export interface InferenceOptions {
  tool_choice?: { id: string };
  model?: string;
}

export interface UploadDescriptor {
  url: string;
  method: 'POST' | 'PUT';
  headers: Record<string, string>;
}
interface AttachmentBase {
  id: string;
  name: string;
  mime_type: string;
  upload_descriptor?: UploadDescriptor;
  thread_id?: string;
}
export interface FileAttachment extends AttachmentBase {
  type: 'file';
}
export interface ImageAttachment extends AttachmentBase {
  type: 'image';
  preview_url: string;
}
export type Attachment = FileAttachment | ImageAttachment;

export interface Annotation {
  type: 'annotation';
  source: Record<string, unknown> & { type: string; title?: string };
  index?: number;
}
export interface AssistantContent {
  type: 'output_text';
  text: string;
  annotations: Annotation[];
}

interface ItemBase {
  id: string;
  thread_id: string;
  /** ISO-8601, UTC. */
  created_at: string;
}
export interface UserMessageItem extends ItemBase {
  type: 'user_message';
  content: UserMessageContent[];
  attachments: Attachment[];
  quoted_text?: string;
  inference_options: InferenceOptions;
}
export interface AssistantMessageItem extends ItemBase {
  type: 'assistant_message';
  content: AssistantContent[];
}
export interface ClientToolCallItem extends ItemBase {
  type: 'client_tool_call';
  status: 'pending' | 'completed';
  call_id: string;
  name: string;
  arguments: Record<string, unknown>;
  output?: unknown;
}
export interface WidgetItem extends ItemBase {
  type: 'widget';
  widget: Record<string, unknown>;
  copy_text?: string;
}
export interface GeneratedImageItem extends ItemBase {
  type: 'generated_image';
  image?: { id: string; url: string };
}
/** A question's recorded answer: its values, or skipped. */
export interface StructuredInputAnswer {
  values: string[];
  skipped: boolean;
}
interface StructuredInputBase {
  /** Stable within the item: answers are keyed by it. */
  id: string;
  question: string;
  answer?: StructuredInputAnswer | null;
}
export interface StructuredInputMultipleChoice extends StructuredInputBase {
  type: 'multiple_choice';
  options: Array<{ value: string }>;
  multiple?: boolean;
}
export interface StructuredInputFreeform extends StructuredInputBase {
  type: 'freeform';
  description?: string | null;
}
export type StructuredInput = StructuredInputMultipleChoice | StructuredInputFreeform;
export interface StructuredInputItem extends ItemBase {
  type: 'structured_input';
  status: 'pending' | 'answered' | 'skipped';
  inputs: StructuredInput[];
}
export interface Task {
  type: 'custom' | 'web_search' | 'thought' | 'file' | 'image';
  status_indicator?: 'none' | 'loading' | 'complete';
  title?: string;
  content?: string;
  [key: string]: unknown;
}
export interface WorkflowItem extends ItemBase {
  type: 'workflow';
  workflow: { type: 'custom' | 'reasoning'; tasks: Task[]; summary?: Record<string, unknown>; expanded: boolean };
}
export interface TaskItem extends ItemBase {
  type: 'task';
  task: Task;
}
export interface EndOfTurnItem extends ItemBase {
  type: 'end_of_turn';
}
export interface HiddenContextItem extends ItemBase {
  type: 'hidden_context_item';
  content: unknown;
}
export interface SdkHiddenContextItem extends ItemBase {
  type: 'sdk_hidden_context';
  content: string;
}

export type ThreadItem =
  | UserMessageItem
  | AssistantMessageItem
  | ClientToolCallItem
  | WidgetItem
  | GeneratedImageItem
  | StructuredInputItem
  | WorkflowItem
  | TaskItem
  | EndOfTurnItem
  | HiddenContextItem
  | SdkHiddenContextItem;
export type ThreadItemType = ThreadItem['type'];

/** Items the model sees but the client never does. */
export const HIDDEN_TYPES: ReadonlySet<string> = new Set<ThreadItemType>(['hidden_context_item', 'sdk_hidden_context']);
export function isHidden<T extends { type: string }>(item: T): item is Extract<T, { type: 'hidden_context_item' | 'sdk_hidden_context' }> {
  return HIDDEN_TYPES.has(item.type);
}

export type ItemUpdate =
  | { type: 'assistant_message.content_part.added'; content_index: number; content: AssistantContent }
  | { type: 'assistant_message.content_part.text_delta'; content_index: number; delta: string }
  | { type: 'assistant_message.content_part.annotation_added'; content_index: number; annotation_index: number; annotation: Annotation }
  | { type: 'assistant_message.content_part.done'; content_index: number; content: AssistantContent };

export type ErrorCode = 'stream.error' | 'custom';

export type ThreadStreamEvent =
  | { type: 'thread.created'; thread: ThreadResponse }
  | { type: 'thread.updated'; thread: ThreadResponse }
  | { type: 'thread.item.added'; item: ThreadItem }
  | { type: 'thread.item.updated'; item_id: string; update: ItemUpdate }
  | { type: 'thread.item.done'; item: ThreadItem }
  | { type: 'thread.item.removed'; item_id: string }
  | { type: 'thread.item.replaced'; item: ThreadItem }
  | { type: 'stream_options'; stream_options: { allow_cancel: boolean } }
  | { type: 'progress_update'; icon?: string; text: string }
  | { type: 'client_effect'; name: string; data: Record<string, unknown> }
  | { type: 'error'; code: ErrorCode; message?: string; allow_retry: boolean }
  | { type: 'notice'; level: 'info' | 'warning' | 'danger'; message: string; title?: string };
