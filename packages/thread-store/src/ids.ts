import { randomBytes } from 'node:crypto';

let last = 0;
let seq = 0;

/**
 * Unique, time-sortable ids: `<prefix>_<ms since epoch, base36, 9><sequence, base36, 4><random, 8 hex>`.
 * The part after the prefix (the order key) sorts by creation time; keys.ts makes it the sort key.
 * Thread ids use `cthr_`, which the lead endpoint accepts.
 */
export function timeSortableId(prefix: string, now = Date.now()): string {
  if (now === last) seq++;
  else {
    last = now;
    seq = 0;
  }
  return `${prefix}_${now.toString(36).padStart(9, '0')}${seq.toString(36).padStart(4, '0')}${randomBytes(4).toString('hex')}`;
}

/** The official server's id prefixes per item kind (chatkit/store.py). */
export const ITEM_PREFIX: Record<string, string> = {
  message: 'msg',
  tool_call: 'tc',
  workflow: 'wf',
  task: 'tsk',
  attachment: 'atc',
  sdk_hidden_context: 'shcx',
};
