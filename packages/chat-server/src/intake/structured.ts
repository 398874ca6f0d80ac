import {
  InvalidRequestError,
  type StructuredInputItem,
  type StructuredInputSubmission,
  type ThreadItem,
} from '@lead-intake/chatkit-protocol';

/**
 * A pending structured input, answered (chatkit/server.py `_apply_structured_input_submission`):
 * each question gets its values, or is skipped; a single-choice question keeps one value; answers
 * to questions the item does not ask are ignored. The client always offers an answer in the
 * customer's own words beside the options, so any value is taken (the request parser bounds them).
 */
export function answerStructuredInput(item: ThreadItem, submission: StructuredInputSubmission): StructuredInputItem {
  if (item.type !== 'structured_input' || item.status !== 'pending')
    throw new InvalidRequestError(`Item ${item.id} is not a pending structured input.`);
  const updated = structuredClone(item);
  for (const q of updated.inputs) {
    const a = submission.answers[q.id];
    if (submission.status === 'skipped' || !a || a.skipped || !a.values.length) {
      q.answer = { values: [], skipped: true };
      continue;
    }
    let values = a.values.map((v) => v.trim()).filter(Boolean);
    if (q.type === 'multiple_choice' && !q.multiple) values = values.slice(0, 1);
    q.answer = values.length ? { values, skipped: false } : { values: [], skipped: true };
  }
  updated.status = submission.status;
  return updated;
}
