import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { documentClient, dynamoClient } from '@lead-intake/testkit';
import { DailyBudget, UsageLimits } from './index';

/** Against DynamoDB Local, the chat stack's usage table (as the local stack creates it). */
const TABLE = 'chatkit-lead-intake-chat-local-limits';
const unique = (p: string) => `${p}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;

describe('UsageLimits', () => {
  it('counts per fixed window across instances, refuses when full, and says when the window ends', async () => {
    // 5 s into a window an hour from now: a fixed past date would give its rows a TTL already past,
    // and DynamoDB Local deletes expired rows whenever it runs its sweep (a count then reads 1).
    let now = (Math.floor(Date.now() / 60_000) + 60) * 60_000 + 5_000;
    const a = new UsageLimits({ tableName: TABLE, client: dynamoClient(), now: () => now });
    const b = new UsageLimits({ tableName: TABLE, client: dynamoClient(), now: () => now });
    const c = { key: unique('turn'), limit: 3, windowSeconds: 60 };
    expect(await a.take([c])).toEqual({ ok: true, counts: [1] });
    expect(await b.take([c])).toEqual({ ok: true, counts: [2] });
    expect(await a.take([c])).toEqual({ ok: true, counts: [3] });
    expect(await b.take([c])).toEqual({ ok: false, refused: 0, retryAfterSeconds: 55 });
    now += 60_000; // the next window
    expect(await a.take([c])).toEqual({ ok: true, counts: [1] });
  });

  it('is all or nothing: a full counter gives the others back', async () => {
    const l = new UsageLimits({ tableName: TABLE, client: dynamoClient() });
    const roomy = { key: unique('roomy'), limit: 100, windowSeconds: 3600 };
    const full = { key: unique('full'), limit: 1, windowSeconds: 3600 };
    expect((await l.take([full])).ok).toBe(true);
    expect(await l.take([roomy, full])).toMatchObject({ ok: false, refused: 1 });
    expect(await l.take([roomy])).toEqual({ ok: true, counts: [1] }); // the refused take spent nothing
    await l.refund(roomy);
    expect(await l.take([roomy])).toEqual({ ok: true, counts: [1] });
  });

  it('a shorter window within a counter: both bounds on one row, the refusal names the window that was full', async () => {
    // 10 minutes into an hour of tomorrow (the rows' TTL stays in the future).
    let now = (Math.floor(Date.now() / 86_400_000) + 1) * 86_400_000 + 3 * 3_600_000 + 600_000;
    const l = new UsageLimits({ tableName: TABLE, client: dynamoClient(), now: () => now });
    const net = { key: unique('net'), limit: 3, windowSeconds: 86400, within: { limit: 2, windowSeconds: 3600 } };
    const other = { key: unique('user'), limit: 100, windowSeconds: 60 };
    expect(await l.take([net])).toEqual({ ok: true, counts: [1] });
    expect(await l.take([net])).toEqual({ ok: true, counts: [2] });
    // The hour is full (the day is not): retry when the hour ends, and the other counter is given back.
    expect(await l.take([other, net])).toEqual({ ok: false, refused: 1, retryAfterSeconds: 3000 });
    expect(await l.take([other])).toEqual({ ok: true, counts: [1] });
    now += 3_600_000; // the next hour: the day's count goes on
    expect(await l.take([net])).toEqual({ ok: true, counts: [3] });
    // Now the day is full: retry when the day ends.
    expect(await l.take([net])).toEqual({ ok: false, refused: 0, retryAfterSeconds: 86400 - 4 * 3600 - 600 });
    // A refund gives back to both windows: one more this hour and this day.
    await l.refund(net);
    expect(await l.take([net])).toEqual({ ok: true, counts: [3] });
    const row = (
      await documentClient().send(new GetCommand({ TableName: TABLE, Key: { pk: `${net.key}#${Math.floor(now / 86_400_000) * 86400}` } }))
    ).Item!;
    expect(
      Object.keys(row)
        .filter((k) => k.startsWith('w'))
        .sort(),
    ).toEqual([`w${Math.floor(now / 3_600_000) * 3600 - 3600}`, `w${Math.floor(now / 3_600_000) * 3600}`]);
  });

  it("refuses a shorter window that does not divide the counter's (it would straddle two rows)", async () => {
    const l = new UsageLimits({ tableName: TABLE, client: dynamoClient() });
    for (const within of [
      { limit: 1, windowSeconds: 7 },
      { limit: 1, windowSeconds: 0 },
    ]) {
      await expect(l.take([{ key: unique('odd'), limit: 3, windowSeconds: 60, within }])).rejects.toThrow(
        /windowSeconds must be a multiple of within\.windowSeconds/,
      );
    }
  });

  it('concurrent takes never exceed the limit', async () => {
    const l = new UsageLimits({ tableName: TABLE, client: dynamoClient() });
    const c = { key: unique('race'), limit: 7, windowSeconds: 3600 };
    const results = await Promise.all(Array.from({ length: 30 }, () => l.take([c])));
    expect(results.filter((r) => r.ok)).toHaveLength(7);
  });
});

describe('DailyBudget', () => {
  const counter = async (key: string, day: number) =>
    (await documentClient().send(new GetCommand({ TableName: TABLE, Key: { pk: `${key}#${day * 86400}` } }))).Item?.n;

  it('reserves in blocks, spends locally, takes the last calls whole, and never goes over the ceiling across instances', async () => {
    const key = unique('model');
    // Noon of tomorrow (UTC): the rows' TTL (their day + 2) is never past, so DynamoDB Local keeps them.
    const now = (Math.floor(Date.now() / 86_400_000) + 1) * 86_400_000 + 12 * 3_600_000;
    const day = Math.floor(now / 86_400_000);
    const make = () => new DailyBudget({ tableName: TABLE, key, ceiling: 25, block: 10, client: dynamoClient(), now: () => now });
    const [a, b] = [make(), make()];
    expect(await a.take()).toEqual({ ok: true, used: 10 }); // a block of 10 reserved
    expect(await counter(key, day)).toBe(10);
    for (let i = 0; i < 9; i++) expect((await a.take()).ok).toBe(true); // spent locally: no write
    expect(await counter(key, day)).toBe(10);
    expect(await b.take()).toEqual({ ok: true, used: 20 });
    expect(await a.take()).toEqual({ ok: true, used: 25 }); // only 5 left: a takes them all
    for (let i = 0; i < 4; i++) expect((await a.take()).ok).toBe(true);
    expect(await a.take()).toEqual({ ok: false });
    for (let i = 0; i < 9; i++) expect((await b.take()).ok).toBe(true); // b spends its block
    expect(await b.take()).toEqual({ ok: false });
    expect(await counter(key, day)).toBe(25);
  });

  it('a call given back is spent by the next turn; a new UTC day starts from zero', async () => {
    const key = unique('model');
    let now = (Math.floor(Date.now() / 86_400_000) + 2) * 86_400_000 - 60_000; // 23:59 UTC tomorrow
    const budget = new DailyBudget({ tableName: TABLE, key, ceiling: 1, block: 5, client: dynamoClient(), now: () => now });
    expect(await budget.take()).toEqual({ ok: true, used: 1 });
    expect(await budget.take()).toEqual({ ok: false });
    budget.giveBack();
    expect((await budget.take()).ok).toBe(true);
    now += 120_000; // past midnight UTC
    expect(await budget.take()).toEqual({ ok: true, used: 1 });
  });
});

it('DailyBudget under concurrency: calls given back while other takes wait for their reservation are not lost', async () => {
  const budget = new DailyBudget({ tableName: TABLE, key: unique('model#day'), ceiling: 10, block: 1, client: dynamoClient() });
  // Ten turns at once, all refused by another bound and given back as each is decided.
  await Promise.all(Array.from({ length: 10 }, async () => ((await budget.take()).ok ? budget.giveBack() : undefined)));
  // The whole day is still there, one at a time.
  const later = [];
  for (let n = 0; n < 10; n++) later.push((await budget.take()).ok);
  expect(later).toEqual(Array(10).fill(true));
  expect((await budget.take()).ok).toBe(false);
});
