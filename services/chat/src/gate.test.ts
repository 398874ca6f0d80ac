import { dynamoClient } from '@lead-intake/testkit';
import { DailyBudget, networkOf, UsageLimits } from '@lead-intake/usage-limits';
import { networkLimits, usageGate } from './gate';

/**
 * The chat's turn gate on DynamoDB Local (the chat stack's usage table), as the attack run found it:
 * three new users from one network sending turns in parallel emptied the day's model calls for
 * everyone. With the per-network share, that network spends its share only.
 */
const TABLE = 'chatkit-lead-intake-chat-local-limits';
const unique = (p: string) => `${p}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
// A fresh network per run (the counters of a day outlive a test run in the shared table).
const net = () => networkOf(`10.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}.7`);

function gate(ceiling: number, shares = { day: 10, hour: 10 }) {
  const budget = new DailyBudget({ tableName: TABLE, key: unique('model#day'), ceiling, block: 1, client: dynamoClient() });
  return usageGate({
    limits: new UsageLimits({ tableName: TABLE, client: dynamoClient() }),
    budget,
    turnsPerMinute: 100,
    dailyModelCalls: ceiling,
    networkDailySharePercent: shares.day,
    networkHourlySharePercent: shares.hour,
    shopPhone: '+14083793820',
  });
}

it('a flood from one network spends its share only: the chat keeps answering every other network', async () => {
  const g = gate(30); // 10% of 30: three turns a day per network
  const flood = net();
  // Three users of that network, ten turns each at once (as in the attack run).
  const share = networkLimits({ dailyModelCalls: 30, networkDailySharePercent: 10, networkHourlySharePercent: 10 }).day;
  const verdicts = await Promise.all(Array.from({ length: 30 }, (_, n) => g.admit(unique(`flood${n % 3}`), flood)));
  // Never more than the share. In a burst, takes holding one counter while another refused turn
  // others away before they give their slots back, so a burst may get less (even none): the
  // refused turns are kept and answered with the fixed text, nothing is lost.
  let admitted = verdicts.filter((v) => v.ok).length;
  expect(admitted).toBeLessThanOrEqual(share);
  // What the burst left is still the network's, and no more: one at a time until refused.
  for (let v = await g.admit(unique('flood-late'), flood); v.ok; v = await g.admit(unique('flood-late'), flood)) admitted++;
  expect(admitted).toBe(share);
  const refused = verdicts.filter((v) => !v.ok) as Array<{ reason: string; keep?: boolean; message: string }>;
  expect(new Set(refused.map((v) => v.reason))).toEqual(new Set(['network_share']));
  // Refused for the model's sake: the message is kept and answered honestly, with the shop's phone.
  expect(refused.every((v) => v.keep === true && v.message.includes('+14083793820'))).toBe(true);
  // Everyone else still gets answers.
  for (let n = 0; n < 5; n++) expect(await g.admit(unique('elsewhere'), net())).toEqual({ ok: true });
});

it('the hour’s share is its own bound; the day’s ceiling keeps the message too; a user’s own pace is refused without keeping', async () => {
  const hourly = gate(100, { day: 50, hour: 2 }); // 2 turns an hour per network
  const n1 = net();
  expect((await hourly.admit(unique('a'), n1)).ok).toBe(true);
  expect((await hourly.admit(unique('b'), n1)).ok).toBe(true);
  expect(await hourly.admit(unique('c'), n1)).toMatchObject({ ok: false, reason: 'network_share', keep: true });

  const tiny = gate(2, { day: 100, hour: 100 }); // the whole day: two calls
  expect((await tiny.admit(unique('x'), net())).ok).toBe(true);
  expect((await tiny.admit(unique('y'), net())).ok).toBe(true);
  expect(await tiny.admit(unique('z'), net())).toMatchObject({ ok: false, reason: 'daily_ceiling', keep: true });

  const paced = usageGate({
    limits: new UsageLimits({ tableName: TABLE, client: dynamoClient() }),
    budget: new DailyBudget({ tableName: TABLE, key: unique('model#day'), ceiling: 100, block: 1, client: dynamoClient() }),
    turnsPerMinute: 1,
    dailyModelCalls: 100,
    networkDailySharePercent: 100,
    networkHourlySharePercent: 100,
    shopPhone: '+14083793820',
  });
  const user = unique('fast');
  expect((await paced.admit(user, net())).ok).toBe(true);
  const second = await paced.admit(user, net());
  expect(second).toMatchObject({ ok: false, reason: 'user_rate' });
  expect((second as { keep?: boolean }).keep).toBeUndefined();
});

it('a refused turn spends no bound: a network refused for the day’s ceiling keeps its share', async () => {
  const g = gate(1, { day: 100, hour: 100 });
  const n1 = net();
  expect((await g.admit(unique('first'), net())).ok).toBe(true); // the day's one call
  for (let i = 0; i < 3; i++) expect(await g.admit(unique('later'), n1)).toMatchObject({ reason: 'daily_ceiling' });
  // Its network counters were given back: with a new day's budget it is admitted at once.
  const next = usageGate({
    limits: new UsageLimits({ tableName: TABLE, client: dynamoClient() }),
    budget: new DailyBudget({ tableName: TABLE, key: unique('model#day'), ceiling: 10, block: 1, client: dynamoClient() }),
    turnsPerMinute: 100,
    dailyModelCalls: 10,
    networkDailySharePercent: 10, // one a day
    networkHourlySharePercent: 10,
    shopPhone: '+14083793820',
  });
  expect(await next.admit(unique('again'), n1)).toEqual({ ok: true });
});

it('expects an admission only from what it saw: a block of the day in hand, the user under pace, the network not refused', async () => {
  const made = (turnsPerMinute: number, block: number, ceiling = 100, share = 100) =>
    usageGate({
      limits: new UsageLimits({ tableName: TABLE, client: dynamoClient() }),
      budget: new DailyBudget({ tableName: TABLE, key: unique('model#day'), ceiling, block, client: dynamoClient() }),
      turnsPerMinute,
      dailyModelCalls: ceiling,
      networkDailySharePercent: share,
      networkHourlySharePercent: share,
      shopPhone: '+14083793820',
    });
  // No block reserved yet: the first turn's gate writes the day's counter, so it is asked first.
  const g = made(2, 10);
  const user = unique('expect');
  const n = net();
  expect(g.expects!(user, n)).toBe(false);
  expect((await g.admit(user, n)).ok).toBe(true);
  expect(g.expects!(user, n)).toBe(true); // a block in hand, one turn of two this minute
  expect((await g.admit(user, n)).ok).toBe(true);
  expect(g.expects!(user, n)).toBe(false); // the user's pace is spent
  expect(g.expects!(unique('other'), n)).toBe(true);
  // A network refused for its share is not expected to pass again (its share is per hour and day).
  const shared = made(100, 10, 100, 1); // 1% of 100: one turn per network
  const n2 = net();
  expect((await shared.admit(unique('a'), n2)).ok).toBe(true);
  expect(await shared.admit(unique('b'), n2)).toMatchObject({ ok: false, reason: 'network_share' });
  expect(shared.expects!(unique('c'), n2)).toBe(false);
  expect(shared.expects!(unique('c'), net())).toBe(true);
});
