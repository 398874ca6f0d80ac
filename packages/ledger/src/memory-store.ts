import { DUE_SHARD, IDLE_SHARD, type LedgerRecord } from './record';
import {
  applyMutation,
  claimMutation,
  contactMutation,
  deliveredMutation,
  errorMutation,
  forgetMutation,
  holds,
  mayClaim,
  mayClearForResend,
  mayNoteContact,
  mayNoteOwner,
  mayNotePending,
  mayRelease,
  maySchedule,
  ownerMutation,
  pendingMutation,
  releaseMutation,
  reopenMutation,
  scheduleMutation,
  sentMutation,
  type Mutation,
  type Schedule,
} from './state';
import type { LedgerStore, WriteResult } from './store';

/**
 * The ledger's records in memory, with the rules of ./state.ts checked in the same step as the
 * write (atomic: nothing awaits in between). For tests of the ledger's rules and of code built on
 * it; not for production (one process, nothing kept).
 */
export class MemoryLedgerStore implements LedgerStore {
  private readonly records = new Map<string, LedgerRecord>();
  roundTrips = 0;

  private write(threadId: string, rule: (r: LedgerRecord | undefined) => boolean, m: Mutation): WriteResult {
    this.roundTrips++;
    const cur = this.records.get(threadId);
    if (!rule(cur)) return { ok: false, current: cur && structuredClone(cur) };
    this.records.set(threadId, applyMutation(threadId, cur, m));
    return { ok: true, old: cur && structuredClone(cur) };
  }

  async get(threadId: string) {
    this.roundTrips++;
    const r = this.records.get(threadId);
    return r && structuredClone(r);
  }

  async claim(threadId: string, c: Parameters<LedgerStore['claim']>[1]) {
    return this.write(threadId, (r) => mayClaim(r, c), claimMutation(c));
  }

  async notePending(threadId: string, holder: 'sending' | 'error', reason: string, now: number) {
    return this.write(threadId, (r) => mayNotePending(r, holder, now), pendingMutation(reason, now)).ok;
  }

  async noteContact(threadId: string, owner: string) {
    return this.write(threadId, (r) => mayNoteContact(r, owner), contactMutation).ok;
  }

  async noteOwner(threadId: string, owner: string) {
    return this.write(threadId, mayNoteOwner, ownerMutation(owner)).ok;
  }

  async finishSent(...[lease, messageId, now, ttl, delivered, requests]: Parameters<LedgerStore['finishSent']>) {
    return this.write(lease.threadId, (r) => holds(r, lease), sentMutation(messageId, now, ttl, delivered, requests)).ok;
  }

  async markDelivered(...[lease, key, d, now]: Parameters<LedgerStore['markDelivered']>) {
    return this.write(lease.threadId, (r) => holds(r, lease), deliveredMutation(key, d, now)).ok;
  }

  async reopen(threadId: string, keys: string[], now: number, ttl: number) {
    return this.write(threadId, mayClearForResend, reopenMutation(keys, now, ttl));
  }

  async finishError(lease: Parameters<LedgerStore['finishError']>[0], e: Parameters<LedgerStore['finishError']>[1]) {
    return this.write(lease.threadId, (r) => holds(r, lease), errorMutation(e)).ok;
  }

  async releaseIdle(...[lease, seen, served, cache, now, ttl, leadKind]: Parameters<LedgerStore['releaseIdle']>) {
    return this.write(lease.threadId, (r) => mayRelease(r, lease, seen), releaseMutation(cache, served, now, ttl, leadKind));
  }

  async schedule(threadId: string, s: Schedule) {
    return this.write(threadId, (r) => maySchedule(r, s), scheduleMutation(s));
  }

  async idleDue(now: number, limit: number) {
    this.roundTrips++;
    return [...this.records.values()]
      .filter((r) => r.idle_shard === IDLE_SHARD && r.idle_at !== undefined && r.idle_at <= now)
      .sort((a, b) => a.idle_at! - b.idle_at!)
      .slice(0, limit)
      .map((r) => ({ thread_id: r.thread_id, idle_at: r.idle_at }));
  }

  async due(now: number, limit: number) {
    this.roundTrips++;
    return [...this.records.values()]
      .filter((r) => r.due_shard === DUE_SHARD && r.due_at !== undefined && r.due_at <= now)
      .sort((a, b) => a.due_at! - b.due_at!)
      .slice(0, limit)
      .map((r) => ({ thread_id: r.thread_id, due_at: r.due_at }));
  }

  async forgetSummary(threadId: string) {
    return this.write(threadId, (r) => !!r, forgetMutation).ok;
  }
}
