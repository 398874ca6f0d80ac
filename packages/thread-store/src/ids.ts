import { createHash, randomBytes } from 'node:crypto';

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

/**
 * An item id derived from another item's: its time (it sorts beside it), then `ordinal` (the
 * derived ids of one item sort by it) and, in place of the random part, a hash of the item, `what`
 * and the ordinal. The same inputs give the same id, so a record written once conflicts on a
 * second write (a form submitted twice records one request).
 */
export function derivedItemId(prefix: string, fromItemId: string, what: string, ordinal = 0): string {
  // An id of another shape cannot be an item of this store; derived ids stay the same for the same inputs all the same.
  const ms = /^[a-z]{1,8}_([0-9a-z]{9})[0-9a-z]{4}[0-9a-f]{8}$/.exec(fromItemId)?.[1] ?? '000000000';
  const hash = createHash('sha256').update(`${fromItemId}#${what}#${ordinal}`).digest('hex').slice(0, 8);
  return `${prefix}_${ms}${Math.min(ordinal, 36 ** 4 - 1)
    .toString(36)
    .padStart(4, '0')}${hash}`;
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
