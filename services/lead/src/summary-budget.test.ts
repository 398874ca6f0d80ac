import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import { localFunction } from '@lead-intake/local-stack';
import {
  clearFollowUps,
  clearSes,
  createTableLike,
  dynamoClient,
  emailsFor,
  emulator,
  leadAuth,
  leadEnv,
  leadSummary,
  threads,
  urlEvent,
} from '@lead-intake/testkit';

/**
 * Summaries have a bound of their own (stages.config.json leadDailySummaries): a flood of
 * conversations with contacts cannot spend the model without limit. Past the day's ceiling a lead
 * still goes out on every channel, without the AI summary. The deploy's lead function, with a
 * ceiling of 2 and a limits table of this file's own.
 */
const admin = emulator();
const SOURCE = 'chatkit-lead-intake-lead-local-limits';
let table: string;
let lead: Awaited<ReturnType<typeof localFunction>> | undefined;

beforeAll(async () => {
  table = await createTableLike(SOURCE, `${SOURCE}-budget-${Date.now().toString(36)}`);
  lead = await localFunction('lead', 'lead', {
    env: await leadEnv({ LEAD_LIMITS_TABLE_NAME: table, LEAD_DAILY_SUMMARIES: '2', POWERTOOLS_METRICS_DISABLED: 'false' }),
  });
});
afterAll(async () => {
  await lead?.stop();
  if (table) await dynamoClient().send(new DeleteTableCommand({ TableName: table }));
});
beforeEach(async () => {
  await admin.reset();
  await clearSes();
  await clearFollowUps();
});

async function close(threadId: string) {
  const outcome = await lead!.invoke(
    urlEvent({
      body: JSON.stringify({ threadId, reason: 'close' }),
      headers: { 'content-type': 'application/json', ...leadAuth(threadId) },
    }),
  );
  if (outcome.kind !== 'result') throw new Error(`lead invocation: ${outcome.kind}`);
  return JSON.parse(outcome.result.body);
}

/**
 * What the function instances print (piped into this process's stdout) while `fn` runs and until
 * `until` matches (a line may arrive a moment after the invocation's result).
 */
async function printed<T>(fn: () => Promise<T>, until: RegExp): Promise<{ value: T; out: string }> {
  let out = '';
  const write = process.stdout.write;
  process.stdout.write = ((chunk: unknown, ...rest: unknown[]) => {
    out += String(chunk);
    return (write as (...a: unknown[]) => boolean).call(process.stdout, chunk, ...rest);
  }) as typeof process.stdout.write;
  try {
    const value = await fn();
    for (let waited = 0; waited < 10_000 && !until.test(out); waited += 50) await new Promise((r) => setTimeout(r, 50));
    return { value, out };
  } finally {
    process.stdout.write = write;
  }
}

it('past the day’s summaries a lead goes out without one (no model call), and is counted', async () => {
  const ids: string[] = [];
  for (const n of [1, 2, 3])
    ids.push(
      await threads.seedThread({
        user: `u-budget-${n}`,
        items: [
          { role: 'user', text: `Brakes grinding on car ${n}, call 415-555-04${20 + n}` },
          { role: 'assistant', text: 'Thanks, noted.' },
        ],
      }),
    );
  for (const n of [1, 2]) await admin.queueOutput(leadSummary({ customer_name: `Budget Customer ${n}` }));
  const { value: answers, out } = await printed(async () => {
    const got = [];
    for (const id of ids) got.push(await close(id));
    return got;
  }, /"SummariesOverBudget"/);
  expect(answers).toEqual(ids.map(() => ({ sent: true, reason: 'sent' })));
  const summaryCalls = (await admin.requests()).filter((r) => r.path === '/v1/responses');
  expect(summaryCalls).toHaveLength(2);
  expect((await emailsFor(ids[0]!))[0]!.subject).toContain('Budget Customer 1');
  expect((await emailsFor(ids[1]!))[0]!.subject).toContain('Budget Customer 2');
  const third = (await emailsFor(ids[2]!))[0]!;
  expect(third.body.text).toContain('(415) 555-0423'); // the contact and the transcript still reach the owner
  expect(third.body.text).toContain('Brakes grinding on car 3');
  expect(out).toMatch(/"SummariesOverBudget":1\b/);
  expect(out).toMatch(/"summaryFailure":"over_budget"/);
}, 60_000);
