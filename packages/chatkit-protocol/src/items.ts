import type {
  AssistantContent,
  AssistantMessageItem,
  Attachment,
  Annotation,
  InferenceOptions,
  UserMessageContent,
  UserMessageItem,
} from './types';

/**
 * The message items, built in one place: the chat server's turns, the hosted-thread import and
 * the test fixtures all make their items here, so the wire shape is written once.
 */

export const outputText = (text: string, annotations: Annotation[] = []): AssistantContent => ({ type: 'output_text', text, annotations });

export interface UserMessageFields {
  id: string;
  threadId: string;
  /** ISO-8601, UTC. */
  createdAt: string;
  content: UserMessageContent[];
  attachments?: Attachment[];
  quotedText?: string | null;
  inferenceOptions?: InferenceOptions;
}

export function userMessageItem(f: UserMessageFields): UserMessageItem {
  return {
    id: f.id,
    thread_id: f.threadId,
    created_at: f.createdAt,
    type: 'user_message',
    content: f.content,
    // An attachment sent in a message belongs to its thread from then on.
    attachments: (f.attachments ?? []).map((a) => ({ ...a, thread_id: f.threadId })),
    ...(f.quotedText ? { quoted_text: f.quotedText } : {}),
    inference_options: f.inferenceOptions ?? {},
  };
}

export function assistantMessageItem(f: {
  id: string;
  threadId: string;
  createdAt: string;
  content?: AssistantContent[];
}): AssistantMessageItem {
  return { id: f.id, thread_id: f.threadId, created_at: f.createdAt, type: 'assistant_message', content: f.content ?? [] };
}
