import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import middy from '@middy/core';
import { documentClient } from '@lead-intake/dynamo';
import { ledgerTableName, dynamoClient, lambdaContext } from '@lead-intake/testkit';
import { useOwnLedgerTable } from '@lead-intake/testkit';
import {
  Ledger,
  DynamoLedgerStore,
  MemoryLedgerStore,
  type LedgerStore,
  LedgerUnavailableError,
  sendOnce,
  ledgerConfigFromEnv,
  ownerHash,
  type LedgerRecord,
} from './index';

// Its own ledger table: it sweeps (or sets its own clock), so no other file's records meet its own.
useOwnLedgerTable('ledger');
let table: string;
beforeAll(async () => {
  table = await ledgerTableName();
});

const client = dynamoClient;
const dynamoStore = () => new DynamoLedgerStore({ tableName: table, client: client() });
/** A ledger on `store` (the real table by default) with a clock the test moves. */
function ledgerOn(makeStore: () => LedgerStore, start = 1_800_000_000_000) {
  const clock = { now: start };
  const store = makeStore();
  const l = new Ledger(store, { leaseSeconds: 60, errorCooldownSeconds: 30, ttlDays: 7, maxAttempts: 3, clock: () => clock.now });
  return { l, store, clock, advance: (s: number) => (clock.now += s * 1000) };
}
const ledger = (start?: number) => ledgerOn(dynamoStore, start);
const tid = () => `cthr_test_${randomUUID().replace(/-/g, '')}`;
const read = (store: LedgerStore, id: string) => store.get(id) as Promise<LedgerRecord>;

/**
 * The ledger's rules, as contract tests: the same tests on DynamoDB Local (the conditions as
 * DynamoDB evaluates them) and on the in-memory store (the rules of ./state.ts in plain code).
 */
describe.each([
  ['DynamoDB Local', dynamoStore],
  ['the in-memory store', () => new MemoryLedgerStore()],
] as const)('on %s', (_name, makeStore) => {
  const ledger = (start?: number) => ledgerOn(makeStore, start);

  describe('state transitions', () => {
    it('a new thread: acquire -> sending, with integer epoch-second times and a TTL', async () => {
      const { l, store, clock } = ledger();
      const id = tid();
      const r = await l.acquire(id, 'auto');
      expect(r.kind).toBe('acquired');
      const rec = await read(store, id);
      const now = clock.now / 1000;
      expect(rec).toMatchObject({
        thread_id: id,
        status: 'sending',
        trigger_reason: 'auto',
        lock_expires_at: now + 60,
        created_at: now,
        updated_at: now,
        ttl: now + 7 * 86400,
        attempts: 0,
        due_shard: 'due',
        due_at: now + 60,
      });
      for (const k of ['lock_expires_at', 'created_at', 'updated_at', 'ttl', 'due_at'] as const)
        expect(Number.isInteger(rec[k])).toBe(true);
    });

    it('sending (live): auto gets in_progress; a strong trigger is recorded as pending', async () => {
      const { l, store } = ledger();
      const id = tid();
      await l.acquire(id, 'auto');
      expect(await l.acquire(id, 'auto')).toMatchObject({ kind: 'busy', reason: 'in_progress' });
      expect((await read(store, id)).pending_reason).toBeUndefined();
      expect(await l.acquire(id, 'pagehide')).toMatchObject({ kind: 'busy', reason: 'in_progress' });
      expect(await read(store, id)).toMatchObject({ pending_reason: 'pagehide', pending_seq: 1 });
    });

    it('sending -> sent: later triggers get already_sent with one round trip', async () => {
      const { l, store } = ledger();
      const id = tid();
      const a = await l.acquire(id, 'manual');
      if (a.kind !== 'acquired') throw new Error('not acquired');
      expect(await l.markSent(a.lease, 'ses-msg-1')).toBe(true);
      const rec = await read(store, id);
      expect(rec).toMatchObject({ status: 'sent', message_id: 'ses-msg-1' });
      expect(rec.lease_id).toBeUndefined();
      expect(rec.due_at).toBeUndefined();
      const before = store.roundTrips;
      expect(await l.acquire(id, 'pagehide')).toMatchObject({ kind: 'busy', reason: 'already_sent' });
      expect(store.roundTrips - before).toBe(1);
    });

    it('sending -> idle (not ready) keeps the evaluated state and summary; the next trigger takes it over', async () => {
      const { l, store } = ledger();
      const id = tid();
      const a = await l.acquire(id, 'auto');
      if (a.kind !== 'acquired') throw new Error();
      expect(await l.release(a.lease, { evalState: '4:cthi_4', summary: '{"x":1}' })).toEqual({ kind: 'released' });
      expect(await read(store, id)).toMatchObject({ status: 'idle', eval_state: '4:cthi_4', summary: '{"x":1}' });
      const b = await l.acquire(id, 'auto');
      expect(b).toMatchObject({
        kind: 'acquired',
        lease: { cached: { evalState: '4:cthi_4', summary: '{"x":1}' }, effectiveReason: 'auto' },
      });
    });

    it('a strong trigger recorded during a lease blocks the release until the holder re-evaluates with it', async () => {
      const { l, store } = ledger();
      const id = tid();
      const a = await l.acquire(id, 'auto');
      if (a.kind !== 'acquired') throw new Error();
      await l.acquire(id, 'close'); // arrives while the auto evaluation runs
      const r = await l.release(a.lease, { evalState: '2:x' });
      expect(r).toEqual({ kind: 'pending', reason: 'close' });
      expect((await read(store, id)).status).toBe('sending'); // nothing let go
      expect(a.lease.effectiveReason).toBe('close');
      // Re-evaluated with `close` and still no contact: now it may let go, and the trigger is served.
      expect(await l.release(a.lease, { evalState: '2:x' })).toEqual({ kind: 'released' });
      expect((await read(store, id)).pending_reason).toBeUndefined();
    });

    it('error within the cooldown answers cooldown; after it, the next trigger retries with the failed attempt’s reason', async () => {
      const { l, store, advance } = ledger();
      const id = tid();
      const a = await l.acquire(id, 'pagehide');
      if (a.kind !== 'acquired') throw new Error();
      expect(await l.markError(a.lease, 'ses:MessageRejected')).toMatchObject({ ok: true, status: 'error' });
      const rec = await read(store, id);
      expect(rec).toMatchObject({ status: 'error', attempts: 1, last_error: 'ses:MessageRejected', pending_reason: 'pagehide' });
      expect(rec.cooldown_until).toBe(rec.updated_at! + 30);
      expect(rec.due_at).toBe(rec.cooldown_until);
      expect(await l.acquire(id, 'auto')).toMatchObject({ kind: 'busy', reason: 'cooldown' });
      advance(31);
      const b = await l.acquire(id, 'auto');
      expect(b).toMatchObject({ kind: 'acquired', lease: { effectiveReason: 'pagehide', attempts: 1 } });
    });

    it('grows the cooldown exponentially and ends in failed after the maximum attempts', async () => {
      const { l, store, advance } = ledger();
      const id = tid();
      const cooldowns: number[] = [];
      for (let n = 0; n < 3; n++) {
        const a = await l.acquire(id, 'manual');
        if (a.kind !== 'acquired') throw new Error(`attempt ${n}: ${JSON.stringify(a)}`);
        const m = await l.markError(a.lease, 'ses:Throttling');
        const rec = await read(store, id);
        if (m.status === 'error') cooldowns.push(rec.cooldown_until! - rec.updated_at!);
        advance(1000);
      }
      expect(cooldowns).toEqual([30, 60]);
      const rec = await read(store, id);
      expect(rec).toMatchObject({ status: 'failed', attempts: 3 });
      expect(rec.due_at).toBeUndefined();
      expect(await l.acquire(id, 'manual')).toMatchObject({ kind: 'busy', reason: 'failed' });
    });
  });

  describe('fencing', () => {
    it('a holder whose lease expired and was taken over can neither mark sent, nor error, nor release', async () => {
      const { l, store, advance } = ledger();
      const id = tid();
      const stale = await l.acquire(id, 'manual');
      if (stale.kind !== 'acquired') throw new Error();
      advance(61); // the holder stalled past its lease
      const fresh = await l.acquire(id, 'manual');
      if (fresh.kind !== 'acquired') throw new Error();
      expect(fresh.lease.effectiveReason).toBe('manual');
      expect(await l.markSent(stale.lease, 'stale-msg')).toBe(false);
      expect((await l.markError(stale.lease, 'x')).ok).toBe(false);
      expect(await l.release(stale.lease, { evalState: 'x' })).toEqual({ kind: 'lost' });
      expect(await read(store, id)).toMatchObject({ status: 'sending', lease_id: fresh.lease.leaseId });
      expect(await l.markSent(fresh.lease, 'fresh-msg')).toBe(true);
      expect((await read(store, id)).message_id).toBe('fresh-msg');
    });

    it('a crash after acquiring: the lease expires and the next trigger takes over, with the pending trigger', async () => {
      const { l, advance } = ledger();
      const id = tid();
      await l.acquire(id, 'auto'); // this holder dies
      await l.acquire(id, 'pagehide'); // recorded as pending
      advance(61);
      expect(await l.acquire(id, 'auto')).toMatchObject({ kind: 'acquired', lease: { effectiveReason: 'pagehide' } });
    });
  });

  describe('concurrency', () => {
    it('100 concurrent acquirers: exactly one lease', async () => {
      const { l } = ledger();
      const id = tid();
      const results = await Promise.all(Array.from({ length: 100 }, (_, n) => l.acquire(id, n % 3 ? 'auto' : 'pagehide')));
      expect(results.filter((r) => r.kind === 'acquired')).toHaveLength(1);
      expect(results.filter((r) => r.kind === 'busy' && r.reason === 'in_progress')).toHaveLength(99);
    });
  });

  describe('the owner is checked before anything is written', () => {
    const asker = (user: string, owns: boolean | (() => Promise<boolean>)) => {
      const calls = { n: 0 };
      return { calls, requester: { user, verify: async () => (calls.n++, typeof owns === 'function' ? owns() : owns) } };
    };

    it('the first trigger proves ownership from the conversation, then the record keeps a hash of the owner (not the id)', async () => {
      const { l, store } = ledger();
      const id = tid();
      const alice = asker('alice', true);
      expect((await l.acquire(id, 'auto', { requester: alice.requester })).kind).toBe('acquired');
      expect(alice.calls.n).toBe(1);
      const rec = await read(store, id);
      expect(rec.owner_hash).toMatch(/^[A-Za-z0-9_-]{22}$/);
      expect(JSON.stringify(rec)).not.toContain('alice');
    });

    it('a duplicate from the owner is answered by the record alone: the conversation is not read again', async () => {
      const { l } = ledger();
      const id = tid();
      const alice = asker('alice', true);
      const got = await l.acquire(id, 'close', { requester: alice.requester });
      if (got.kind !== 'acquired') throw new Error('setup');
      await l.markSent(got.lease, 'm-1');
      expect(await l.acquire(id, 'pagehide', { requester: alice.requester })).toMatchObject({ kind: 'busy', reason: 'already_sent' });
      expect(alice.calls.n).toBe(1);
    });

    it.each(['sending', 'sent', 'error (cooling down)', 'error (cooldown over, pagehide pending)', 'idle', 'failed'])(
      'another user on a record that is %s: not_owner, the record untouched, the conversation not read',
      async (state) => {
        const { l, store, advance } = ledger();
        const id = tid();
        const alice = asker('alice', true);
        const got = await l.acquire(id, state.startsWith('error') ? 'pagehide' : 'auto', { requester: alice.requester });
        if (got.kind !== 'acquired') throw new Error('setup');
        if (state === 'sent') await l.markSent(got.lease, 'm');
        if (state.startsWith('error')) await l.markError(got.lease, 'ses:Throttling');
        if (state === 'error (cooldown over, pagehide pending)') advance(31);
        if (state === 'idle') await l.release(got.lease, { evalState: '1:x' });
        if (state === 'failed')
          for (let n = 0; n < 3; n++) {
            advance(1000);
            const again = await l.acquire(id, 'pagehide', { requester: alice.requester });
            if (again.kind === 'acquired') await l.markError(again.lease, 'ses:x');
          }
        const before = await read(store, id);
        const mallory = asker('mallory', true); // even a verify that would say yes is never asked
        expect(await l.acquire(id, 'auto', { requester: mallory.requester })).toEqual({ kind: 'not_owner' });
        expect(await l.acquire(id, 'manual', { requester: mallory.requester })).toEqual({ kind: 'not_owner' });
        expect(mallory.calls.n).toBe(0);
        expect(await read(store, id)).toEqual(before);
      },
    );

    it('an unknown thread (or one the caller does not own) leaves no record', async () => {
      const { l, store } = ledger();
      const id = tid();
      const nobody = asker('mallory', false);
      expect(await l.acquire(id, 'manual', { requester: nobody.requester })).toEqual({ kind: 'not_owner' });
      expect(await store.get(id)).toBeUndefined();
    });

    it('a record from before owners were kept is claimed by its verified owner only', async () => {
      const { l, store } = ledger();
      const id = tid();
      const old = await l.acquire(id, 'auto'); // no requester: written the old way
      if (old.kind !== 'acquired') throw new Error('setup');
      await l.release(old.lease, { evalState: '1:x' });
      const before = await read(store, id);
      expect(await l.acquire(id, 'auto', { requester: asker('mallory', false).requester })).toEqual({ kind: 'not_owner' });
      expect(await read(store, id)).toEqual(before);
      expect((await l.acquire(id, 'close', { requester: asker('alice', true).requester })).kind).toBe('acquired');
      expect((await read(store, id)).owner_hash).toBeDefined();
    });

    it('a verify that fails (the thread store is down) fails closed: LedgerUnavailableError, nothing written', async () => {
      const { l, store } = ledger();
      const id = tid();
      await expect(
        l.acquire(id, 'pagehide', { requester: asker('alice', () => Promise.reject(new Error('down'))).requester }),
      ).rejects.toBeInstanceOf(LedgerUnavailableError);
      expect(await store.get(id)).toBeUndefined();
    });
  });

  describe('the server’s schedule (self-hosted idle evaluations)', () => {
    const armedIds = async (store: LedgerStore, now: number) => (await store.idleDue(now, 1000)).map((r) => r.thread_id);

    it('arms an idle evaluation on a new record (idle, the owner’s hash) and re-arms it only for newer activity', async () => {
      const { l, store, clock } = ledger();
      const id = tid();
      const now = clock.now / 1000;
      expect(await l.scheduleIdle(id, { owner: 'alice', activityAt: now, idleAt: now + 600 })).toMatchObject({ armed: true });
      const rec = await read(store, id);
      expect(rec).toMatchObject({ status: 'idle', idle_shard: 'idle', idle_at: now + 600, activity_at: now, attempts: 0 });
      expect(rec.owner_hash).toBe(ownerHash('alice'));
      // A stream record delivered again, or late: it arms nothing.
      expect(await l.scheduleIdle(id, { owner: 'alice', activityAt: now, idleAt: now + 600 })).toMatchObject({ armed: false });
      expect(await l.scheduleIdle(id, { owner: 'alice', activityAt: now - 30, idleAt: now + 570 })).toMatchObject({ armed: false });
      expect(await l.scheduleIdle(id, { owner: 'alice', activityAt: now + 40, idleAt: now + 640 })).toMatchObject({ armed: true });
      expect(await read(store, id)).toMatchObject({ idle_at: now + 640, activity_at: now + 40 });
      // Another owner's activity cannot arm it.
      expect(await l.scheduleIdle(id, { owner: 'mallory', activityAt: now + 50, idleAt: now + 650 })).toMatchObject({ armed: false });
      // The owner's browser triggers still meet the same record.
      expect(await l.acquire(id, 'auto', { requester: { user: 'alice', verify: async () => false } })).toMatchObject({ kind: 'acquired' });
    });

    it('keeps whether a customer line could hold a contact: no until one could, then for good; not known counts as could', async () => {
      const { l, store, clock } = ledger();
      const id = tid();
      const now = clock.now / 1000;
      const at = (dt: number, mayHaveContact?: boolean) =>
        l.scheduleIdle(id, { owner: 'alice', activityAt: now + dt, idleAt: now + dt + 600, mayHaveContact });
      expect(await at(0, false)).toEqual({ armed: true, mayHaveContact: false });
      expect((await read(store, id)).may_have_contact).toBe(false);
      expect(await at(10, false)).toEqual({ armed: true, mayHaveContact: false });
      // Activity that does not say (the sweeper's re-arm) leaves the mark, and is answered as could.
      expect(await at(15)).toEqual({ armed: true, mayHaveContact: true });
      expect((await read(store, id)).may_have_contact).toBe(false);
      expect(await at(20, true)).toEqual({ armed: true, mayHaveContact: true });
      expect(await at(30, false)).toEqual({ armed: true, mayHaveContact: true });
      expect((await read(store, id)).may_have_contact).toBe(true);
      // Not armed (a stream record again): nothing known from it.
      expect(await at(30, false)).toEqual({ armed: false, mayHaveContact: true });
      // A record the schedule did not start (a browser's trigger came first): not known.
      const other = tid();
      const got = await l.acquire(other, 'auto');
      if (got.kind !== 'acquired') throw new Error('expected a lease');
      await l.release(got.lease, { evalState: '1:a' });
      expect(await l.scheduleIdle(other, { owner: 'alice', activityAt: now, idleAt: now + 600, mayHaveContact: false })).toEqual({
        armed: true,
        mayHaveContact: true,
      });
    });

    it('a schedule refused for activity no newer than the record’s still marks a line that could hold a contact', async () => {
      const { l, store, clock } = ledger();
      const id = tid();
      const now = clock.now / 1000;
      const at = (dt: number, mayHaveContact: boolean, owner = 'alice') =>
        l.scheduleIdle(id, { owner, activityAt: now + dt, idleAt: now + dt + 600, mayHaveContact });
      expect(await at(0, false)).toEqual({ armed: true, mayHaveContact: false });
      // The customer's number, stored in the same second as the answer before it (a batch of its own).
      expect(await at(0, true)).toEqual({ armed: false, mayHaveContact: true });
      expect(await read(store, id)).toMatchObject({ may_have_contact: true, activity_at: now, idle_at: now + 600 });
      expect(await at(5, false)).toEqual({ armed: true, mayHaveContact: true });
      // Nobody else's activity marks it, and nothing marks a settled record.
      const other = tid();
      await l.scheduleIdle(other, { owner: 'alice', activityAt: now, idleAt: now + 600, mayHaveContact: false });
      await l.scheduleIdle(other, { owner: 'mallory', activityAt: now + 5, idleAt: now + 605, mayHaveContact: true });
      expect((await read(store, other)).may_have_contact).toBe(false);
      const got = await l.acquire(other, 'manual');
      if (got.kind !== 'acquired') throw new Error('expected a lease');
      await l.markSent(got.lease, 'ses-1');
      await l.scheduleIdle(other, { owner: 'alice', activityAt: now + 9, idleAt: now + 609, mayHaveContact: true });
      expect((await read(store, other)).may_have_contact).toBe(false);
      // A record from before the mark existed (scheduled without it) is marked too.
      const legacy = tid();
      await l.scheduleIdle(legacy, { owner: 'alice', activityAt: now, idleAt: now + 600 });
      expect((await read(store, legacy)).may_have_contact).toBeUndefined();
      expect(await l.scheduleIdle(legacy, { owner: 'alice', activityAt: now, idleAt: now + 600, mayHaveContact: true })).toEqual({
        armed: false,
        mayHaveContact: true,
      });
      expect((await read(store, legacy)).may_have_contact).toBe(true);
    });

    it('is due only once its time has come, is taken as an `idle` trigger, and is disarmed by the claim', async () => {
      const { l, store, clock, advance } = ledger();
      const id = tid();
      const now = clock.now / 1000;
      await l.scheduleIdle(id, { owner: 'alice', activityAt: now, idleAt: now + 10 });
      expect(await armedIds(store, now + 9)).not.toContain(id);
      expect(await l.acquire(id, 'idle', { mode: 'idle' })).toMatchObject({ kind: 'busy' }); // not yet: nothing written
      expect((await read(store, id)).status).toBe('idle');
      advance(10);
      expect(await armedIds(store, now + 10)).toContain(id);
      const got = await l.acquire(id, 'idle', { mode: 'idle' });
      expect(got).toMatchObject({ kind: 'acquired', lease: { effectiveReason: 'idle' } });
      const rec = await read(store, id);
      expect(rec).toMatchObject({ status: 'sending', pending_reason: 'idle' });
      expect(rec.idle_at).toBeUndefined();
      expect(await armedIds(store, now + 1000)).not.toContain(id);
    });

    it('never takes a live lease: the idle evaluation stays armed until the holder lets go', async () => {
      const { l, store, clock, advance } = ledger();
      const id = tid();
      const now = clock.now / 1000;
      await l.scheduleIdle(id, { owner: 'alice', activityAt: now, idleAt: now + 5 });
      const held = await l.acquire(id, 'auto');
      advance(6);
      expect(await l.acquire(id, 'idle', { mode: 'idle' })).toMatchObject({ kind: 'busy', reason: 'in_progress' });
      expect(await armedIds(store, now + 6)).toContain(id);
      if (held.kind !== 'acquired') throw new Error('expected a lease');
      await l.release(held.lease, { evalState: '2:x' });
      expect(await l.acquire(id, 'idle', { mode: 'idle' })).toMatchObject({ kind: 'acquired' });
    });

    it('a sent or failed record is never armed again, and sending disarms it', async () => {
      const { l, store, clock } = ledger();
      const id = tid();
      const now = clock.now / 1000;
      await l.scheduleIdle(id, { owner: 'alice', activityAt: now, idleAt: now + 600 });
      const got = await l.acquire(id, 'manual');
      if (got.kind !== 'acquired') throw new Error('expected a lease');
      await l.markSent(got.lease, 'ses-1');
      const rec = await read(store, id);
      expect(rec.status).toBe('sent');
      expect(rec.idle_at).toBeUndefined();
      expect(await l.scheduleIdle(id, { owner: 'alice', activityAt: now + 60, idleAt: now + 660 })).toMatchObject({ armed: false });
      expect((await read(store, id)).idle_at).toBeUndefined();
    });

    it('a release records what a non-customer was (spam, test...), and a later customer evaluation clears it', async () => {
      const { l, store } = ledger();
      const id = tid();
      const first = await l.acquire(id, 'pagehide');
      if (first.kind !== 'acquired') throw new Error('expected a lease');
      await l.release(first.lease, { evalState: '2:a' }, { leadKind: 'spam' });
      expect(await read(store, id)).toMatchObject({ status: 'idle', lead_kind: 'spam' });
      const again = await l.acquire(id, 'auto');
      if (again.kind !== 'acquired') throw new Error('expected a lease');
      await l.release(again.lease, { evalState: '4:b' });
      expect((await read(store, id)).lead_kind).toBeUndefined();
    });

    it('keeps the page a trigger named, for a later holder (the sweeper)', async () => {
      const { l, advance } = ledger();
      const id = tid();
      const first = await l.acquire(id, 'pagehide', { pageUrl: 'https://craigs.autos/brakes' });
      if (first.kind !== 'acquired') throw new Error('expected a lease');
      expect(first.lease.pageUrl).toBe('https://craigs.autos/brakes');
      advance(61); // the holder died: its lease expired
      const taken = await l.acquire(id, 'auto', { mode: 'sweeper' });
      expect(taken).toMatchObject({ kind: 'acquired', lease: { pageUrl: 'https://craigs.autos/brakes', effectiveReason: 'pagehide' } });
    });
  });

  describe('deliveries (email, texts, webhook), each recorded on its own', () => {
    it('a retry holds what went out and sends only the rest; sent keeps the record of every delivery', async () => {
      const { l, store, advance } = ledger();
      const id = tid();
      const first = await l.acquire(id, 'pagehide');
      if (first.kind !== 'acquired') throw new Error('not acquired');
      expect(first.lease.delivered).toEqual({});
      expect(await l.markDelivered(first.lease, 'email', 'ses-1')).toBe(true);
      expect(await l.markDelivered(first.lease, 'webhook', 'msg_1')).toBe(true);
      await l.markError(first.lease, 'sms:ThrottlingException');
      advance(31);
      const retry = await l.acquire(id, 'auto', { mode: 'sweeper' });
      if (retry.kind !== 'acquired') throw new Error('not acquired');
      expect(Object.keys(retry.lease.delivered).sort()).toEqual(['email', 'webhook']);
      expect(retry.lease.delivered.email).toEqual({ id: 'ses-1', at: expect.any(Number) });
      expect(retry.lease.createdAt).toBe(first.lease.createdAt); // the webhook id stays the same
      expect(await l.markSent(retry.lease, 'ses-1', { sms_abc: 'sms-1' })).toBe(true);
      const rec = await read(store, id);
      expect(rec).toMatchObject({ status: 'sent', message_id: 'ses-1' });
      expect(
        Object.keys(rec)
          .filter((k) => k.startsWith('delivered_'))
          .sort(),
      ).toEqual(['delivered_email', 'delivered_sms_abc', 'delivered_webhook']);
    });

    it('a delivery is fenced on the lease: a holder that lost it records nothing', async () => {
      const { l, store, advance } = ledger();
      const id = tid();
      const stale = await l.acquire(id, 'pagehide');
      advance(61);
      const taken = await l.acquire(id, 'auto', { mode: 'sweeper' });
      if (stale.kind !== 'acquired' || taken.kind !== 'acquired') throw new Error('not acquired');
      expect(await l.markDelivered(stale.lease, 'email', 'ses-stale')).toBe(false);
      expect((await read(store, id)).delivered_email).toBeUndefined();
      await expect(l.markDelivered(taken.lease, 'Bad Key', 'x')).rejects.toThrow(/delivery key/);
    });

    it('reopen (an operator resends one channel): a settled record forgets those deliveries, due now; a held one is refused', async () => {
      const { l, store } = ledger();
      const id = tid();
      const got = await l.acquire(id, 'close');
      if (got.kind !== 'acquired') throw new Error('not acquired');
      expect((await l.reopen(id, ['webhook'])).ok).toBe(false); // a lease is held
      await l.markDelivered(got.lease, 'webhook', 'msg_1');
      await l.markSent(got.lease, 'ses-1', { email: 'ses-1' });
      expect((await l.reopen(id, ['webhook'])).ok).toBe(true);
      const rec = await read(store, id);
      expect(rec).toMatchObject({ status: 'error', due_shard: 'due', pending_reason: 'manual', resend_seq: 1, attempts: 0 });
      expect(rec.delivered_webhook).toBeUndefined();
      expect(rec.delivered_email).toBeDefined();
      const again = await l.acquire(id, 'auto', { mode: 'sweeper' });
      expect(again).toMatchObject({ kind: 'acquired', lease: { resendSeq: 1, delivered: { email: expect.any(Object) } } });
    });
  });

  describe('runHeld (the one way a lead runs under the ledger)', () => {
    it('acquires as the endpoint does, runs, and records a failed run as an error for the sweeper', async () => {
      const { l, store } = ledger();
      const id = tid();
      const failed = await l.runHeld(id, 'pagehide', {}, async () => {
        throw new TypeError('boom');
      });
      expect(failed).toMatchObject({ kind: 'failed', status: 'error' });
      expect(await read(store, id)).toMatchObject({ status: 'error', last_error: 'crash:TypeError', attempts: 1, due_shard: 'due' });
      // Cooling down: the ledger answers, nothing runs.
      let ran = false;
      expect(await l.runHeld(id, 'pagehide', {}, async () => void (ran = true))).toMatchObject({
        kind: 'busy',
        reason: 'cooldown',
      });
      expect(ran).toBe(false);
    });

    it('refuses another user before anything is written, and never runs', async () => {
      const { l, store } = ledger();
      const id = tid();
      let ran = false;
      expect(
        await l.runHeld(id, 'manual', { requester: { user: 'intruder', verify: async () => false } }, async () => void (ran = true)),
      ).toEqual({
        kind: 'not_owner',
      });
      expect(ran).toBe(false);
      expect(await store.get(id)).toBeUndefined();
      const ok = await l.runHeld(id, 'manual', { requester: { user: 'owner', verify: async () => true } }, async (lease) => {
        await l.markSent(lease, 'ses-1');
        return 'sent';
      });
      expect(ok).toEqual({ kind: 'processed', value: 'sent' });
      expect(await read(store, id)).toMatchObject({ status: 'sent', message_id: 'ses-1' });
    });
  });
});

describe('a sweep (in memory: a sweep on the shared table would take other tests’ records)', () => {
  it('runs the due records, then the armed idle evaluations whose time has come, each once', async () => {
    const { l, advance, clock } = ledgerOn(() => new MemoryLedgerStore());
    const now = clock.now / 1000;
    const [quiet, later] = [tid(), tid()];
    await l.scheduleIdle(quiet, { owner: 'a', activityAt: now, idleAt: now + 5 });
    await l.scheduleIdle(later, { owner: 'b', activityAt: now, idleAt: now + 500 });
    advance(5);
    const seen: string[] = [];
    const result = await l.sweep(async (lease) => {
      seen.push(`${lease.threadId}:${lease.effectiveReason}`);
      await l.release(lease, { evalState: '1:x' });
    });
    expect(seen).toEqual([`${quiet}:idle`]);
    expect(result).toMatchObject({ due: 0, idle: 1, processed: 1, skipped: 0, failed: 0 });
    expect((await l.sweep(async () => undefined)).idle).toBe(0); // served: not armed any more
  });

  it('is a bounded pool: a slow lead holds one slot while the others go through it', async () => {
    const { l, advance, clock } = ledgerOn(() => new MemoryLedgerStore());
    const now = clock.now / 1000;
    const ids = Array.from({ length: 8 }, () => tid());
    for (const [i, id] of ids.entries()) await l.scheduleIdle(id, { owner: 'a', activityAt: now, idleAt: now + 1 + (i % 2) });
    advance(5);
    let release!: () => void;
    const slow = new Promise<void>((r) => (release = r));
    let running = 0;
    let most = 0;
    const done: string[] = [];
    const result = await l.sweep(
      async (lease) => {
        most = Math.max(most, ++running);
        // The first lead waits until every other one has gone out: with pages it would hold its page.
        if (lease.threadId === ids[0]) await slow;
        else if (done.push(lease.threadId) === ids.length - 1) release();
        await l.release(lease, { evalState: '1:x' });
        running--;
      },
      { parallel: 3, limit: 2 },
    );
    expect(done.sort()).toEqual(ids.slice(1).sort());
    expect(result).toMatchObject({ idle: 8, processed: 8, failed: 0, peak: 3 });
    expect(most).toBe(3);
  });

  it('keeps taking idle evaluations as their time comes within its window, each once', async () => {
    const { l, advance, clock } = ledgerOn(() => new MemoryLedgerStore());
    const now = clock.now / 1000;
    const [first, soon, later, outside] = [tid(), tid(), tid(), tid()];
    await l.scheduleIdle(first, { owner: 'a', activityAt: now, idleAt: now });
    await l.scheduleIdle(soon, { owner: 'b', activityAt: now, idleAt: now + 3 });
    await l.scheduleIdle(later, { owner: 'c', activityAt: now, idleAt: now + 8 });
    await l.scheduleIdle(outside, { owner: 'd', activityAt: now, idleAt: now + 20 });
    const seen: Array<[string, number]> = [];
    const waited: number[] = [];
    const steps: string[] = [];
    const result = await l.sweep(
      async (lease) => {
        seen.push([lease.threadId, clock.now / 1000 - now]);
        steps.push('lead');
        await l.release(lease, { evalState: '1:x' });
      },
      {
        parallel: 2,
        takeForMs: 10_000,
        // What runs beside the window (the spool's drain) starts once the due query answered, not after the window.
        afterDue: () => steps.push('afterDue'),
        // The run's waits, on the test's clock: each lands on the next evaluation's time.
        sleep: async (ms) => {
          waited.push(ms);
          steps.push('wait');
          advance(ms / 1000);
        },
      },
    );
    expect(steps[0]).toBe('afterDue');
    expect(steps.filter((x) => x === 'wait')).toHaveLength(2);
    // Each taken in its turn, never before its time, the waits landing on the next one's time.
    expect(seen.map(([id]) => id)).toEqual([first, soon, later]);
    expect(seen[1]![1]).toBe(3);
    expect(seen[2]![1]).toBe(8);
    expect(waited).toEqual([3000, 5000]);
    expect(result).toMatchObject({ idle: 3, processed: 3 });
    // The one past the window is left armed for the next run.
    advance(12);
    expect((await l.sweep(async (lease) => void (await l.release(lease, { evalState: '1:x' })))).processed).toBe(1);
  });

  it('leaves a record someone else holds armed, reads past it, and stops when out of time', async () => {
    const { l, advance, clock } = ledgerOn(() => new MemoryLedgerStore());
    const now = clock.now / 1000;
    const [held, free] = [tid(), tid()];
    await l.scheduleIdle(held, { owner: 'a', activityAt: now, idleAt: now + 1 });
    await l.scheduleIdle(free, { owner: 'b', activityAt: now, idleAt: now + 2 });
    advance(5);
    expect((await l.acquire(held, 'auto')).kind).toBe('acquired'); // a live trigger holds it
    const seen: string[] = [];
    const result = await l.sweep(
      async (lease) => {
        seen.push(lease.threadId);
        await l.release(lease, { evalState: '1:x' });
      },
      // A window shorter than the holder's lease (60 s): an expired lease would be the sweeper's to take.
      { limit: 1, takeForMs: 30_000, sleep: async () => void advance(1) },
    );
    expect(seen).toEqual([free]);
    expect(result).toMatchObject({ idle: 2, processed: 1, skipped: 1 });
    expect(await l.sweep(async () => undefined, { more: () => false })).toMatchObject({ idle: 0, processed: 0 });
  });
  it('looks again within its run at an idle evaluation someone held, once they let go, with growing pauses', async () => {
    const { l, advance, clock } = ledgerOn(() => new MemoryLedgerStore());
    const now = clock.now / 1000;
    const [held, free] = [tid(), tid()];
    await l.scheduleIdle(held, { owner: 'a', activityAt: now, idleAt: now + 1 });
    await l.scheduleIdle(free, { owner: 'b', activityAt: now, idleAt: now + 1 });
    advance(2);
    // The scheduler's `auto` evaluation of the same last turn holds it when its idle time comes.
    const auto = await l.acquire(held, 'auto');
    if (auto.kind !== 'acquired') throw new Error('expected a lease');
    const seen: string[] = [];
    const waited: number[] = [];
    const result = await l.sweep(
      async (lease) => {
        seen.push(lease.threadId);
        await l.release(lease, { evalState: '1:x' });
      },
      {
        takeForMs: 10_000,
        sleep: async (ms) => {
          waited.push(ms);
          advance(ms / 1000);
          // The holder lets go after the sweeper's second look.
          if (waited.length === 2) await l.release(auto.lease, { evalState: '1:x' });
        },
      },
    );
    expect(seen).toEqual([free, held]);
    expect(waited).toEqual([500, 1000]);
    expect(result).toMatchObject({ idle: 2, processed: 2, skipped: 0 });
    expect(await l.sweep(async () => undefined)).toMatchObject({ idle: 0, processed: 0 });
  });

  it('leaves a held idle evaluation armed for the next run when its holder outlasts the window', async () => {
    const { l, advance, clock } = ledgerOn(() => new MemoryLedgerStore());
    const now = clock.now / 1000;
    const id = tid();
    await l.scheduleIdle(id, { owner: 'a', activityAt: now, idleAt: now });
    const auto = await l.acquire(id, 'auto');
    if (auto.kind !== 'acquired') throw new Error('expected a lease');
    const waited: number[] = [];
    const result = await l.sweep(async () => undefined, {
      takeForMs: 5_000,
      sleep: async (ms) => void (waited.push(ms), advance(ms / 1000)),
    });
    // 0.5 + 1 + 2 s of pauses fit in the window, the next (4 s) does not.
    expect(waited).toEqual([500, 1000, 2000]);
    expect(result).toMatchObject({ idle: 1, processed: 0, skipped: 1 });
    await l.release(auto.lease, { evalState: '1:x' });
    const seen: string[] = [];
    await l.sweep(async (lease) => void seen.push(lease.threadId));
    expect(seen).toEqual([id]);
  });
});

describe('DynamoDB unavailable', () => {
  it('fails closed: LedgerUnavailableError, and the middleware answers 503 ledger_unavailable', async () => {
    const down = new Ledger(
      new DynamoLedgerStore({
        tableName: table,
        client: new DynamoDBClient({
          endpoint: 'http://127.0.0.1:9',
          region: 'us-west-2',
          maxAttempts: 1,
          credentials: { accessKeyId: 'l', secretAccessKey: 'l' },
        }),
      }),
    );
    await expect(down.acquire(tid(), 'manual')).rejects.toBeInstanceOf(LedgerUnavailableError);
    let unavailable = 0;
    const handler = middy()
      .use({ onError: async (r: any) => void (r.response = { statusCode: r.error.statusCode, body: r.error.code }) })
      .handler(
        sendOnce<any, unknown>({
          ledger: () => down,
          subject: () => ({ threadId: tid(), reason: 'pagehide' }),
          run: async () => 'ran',
          onUnavailable: () => void unavailable++,
        }),
      );
    const res: any = await handler({}, lambdaContext());
    expect(res).toEqual({ statusCode: 503, body: 'ledger_unavailable' });
    expect(unavailable).toBe(1);
  });
});

describe('DynamoLedgerStore on a client other stores share', () => {
  it('counts its own round trips only, and another ledger on the same client is no conflict', async () => {
    const shared = dynamoClient();
    try {
      const store = new DynamoLedgerStore({ tableName: table, client: shared });
      const other = new DynamoLedgerStore({ tableName: table, client: shared });
      const neighbour = documentClient(shared);
      const l = new Ledger(store, { leaseSeconds: 60 });
      const id = tid();
      const a = await l.acquire(id, 'manual');
      if (a.kind !== 'acquired') throw new Error('not acquired');
      expect(await l.markSent(a.lease, 'ses-msg-1')).toBe(true);
      const before = store.roundTrips;
      await neighbour.send(new GetCommand({ TableName: table, Key: { thread_id: id } }));
      await other.get(id);
      expect(store.roundTrips).toBe(before);
      expect(await l.acquire(id, 'pagehide')).toMatchObject({ kind: 'busy', reason: 'already_sent' });
      expect(store.roundTrips - before).toBe(1);
      expect(other.roundTrips).toBe(1);
    } finally {
      shared.destroy();
    }
  });
});

describe('the middy step', () => {
  it('ends the chain with the ledger’s answer, and records a crash of the holder as an error', async () => {
    const { l, store } = ledger();
    const id = tid();
    let ran = 0;
    const crashes: Array<string | undefined> = [];
    const handler = middy().handler(
      sendOnce<any, unknown>({
        ledger: () => l,
        subject: () => ({ threadId: id, reason: 'close' }),
        run: async () => {
          ran++;
          throw new TypeError('boom');
        },
        onOutcome: (o) => void (o.kind === 'failed' && crashes.push(o.status)),
      }),
    );
    await expect(handler({}, lambdaContext())).rejects.toThrow('boom');
    expect(await read(store, id)).toMatchObject({ status: 'error', last_error: 'crash:TypeError', attempts: 1 });
    expect(crashes).toEqual(['error']);
    const again: any = await handler({}, lambdaContext());
    expect(JSON.parse(again.body)).toEqual({ sent: false, reason: 'cooldown' });
    expect(ran).toBe(1);
  });
});

describe('configuration', () => {
  it('has documented defaults and refuses a lease that does not outlive the function timeout', () => {
    expect(ledgerConfigFromEnv({ LEAD_DEDUPE_TABLE_NAME: 't' })).toMatchObject({
      tableName: 't',
      leaseSeconds: 90,
      errorCooldownSeconds: 60,
      ttlDays: 90,
      maxAttempts: 5,
    });
    expect(() =>
      ledgerConfigFromEnv({ LEAD_DEDUPE_TABLE_NAME: 't', LEAD_DEDUPE_LEASE_SECONDS: '30', LEAD_FUNCTION_TIMEOUT_SECONDS: '30' }),
    ).toThrow(/longer than the function timeout/);
    expect(() => ledgerConfigFromEnv({})).toThrow(/LEAD_DEDUPE_TABLE_NAME/);
  });
});
