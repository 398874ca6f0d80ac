import middy from '@middy/core';
import { HttpError, UpstreamError } from '@lead-intake/errors';
import { httpErrors, jsonResponse } from '@lead-intake/http';
import { lambdaContext, urlEvent } from '@lead-intake/testkit';
import { answerClasses, correlate, createLogger, createMetrics, injectLambdaContext, publishMetrics, userHash } from './index';

/** What a handler chain writes to stdout (Powertools writes logs and EMF there), parsed. */
async function captured(run: () => Promise<unknown>): Promise<any[]> {
  const lines: string[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: any) => (lines.push(String(chunk)), true));
  try {
    await run();
  } finally {
    spy.mockRestore();
  }
  return lines
    .join('')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l));
}

const saved = { ...process.env };
beforeAll(() => {
  delete process.env.POWERTOOLS_METRICS_DISABLED;
  delete process.env.POWERTOOLS_DEV;
  process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
});
afterAll(() => {
  process.env = saved;
});

it('every metric carries the stage as a dimension beside the service (alarms read their own stage only)', async () => {
  process.env.STAGE = 'staging';
  try {
    const metrics = createMetrics('obs-test');
    const out = await captured(async () => {
      metrics.addMetric('Probe', 'Count', 1);
      metrics.publishStoredMetrics();
      const single = metrics.singleMetric();
      single.addDimension('reason', 'x');
      single.addMetric('Single', 'Count', 1);
    });
    const emf = out.filter((l) => l._aws);
    expect(emf).toHaveLength(2);
    for (const m of emf) {
      expect(m.stage).toBe('staging');
      expect(m._aws.CloudWatchMetrics[0].Dimensions[0]).toEqual(expect.arrayContaining(['service', 'stage']));
    }
  } finally {
    delete process.env.STAGE;
  }
});

it('counts each answer by class (4xx, 5xx, upstream), published with the request, which Lambda’s Errors never sees', async () => {
  const metrics = createMetrics('obs-test');
  const outcomes: Array<() => unknown> = [
    () => jsonResponse(200, {}),
    () => {
      throw new HttpError(400, 'bad');
    },
    () => {
      throw new UpstreamError('openai', 'down');
    },
    () => {
      throw new Error('bug');
    },
    () => jsonResponse(503, { code: 'ledger_unavailable' }),
  ];
  let next = 0;
  const handler = middy()
    .use(publishMetrics(metrics))
    .use(answerClasses(metrics))
    .use(httpErrors())
    .handler(async () => outcomes[next++]!());
  const out = await captured(async () => {
    for (let i = 0; i < outcomes.length; i++) await handler(urlEvent(), lambdaContext());
  });
  const emf = out.filter((l) => l._aws);
  const count = (name: string) => emf.filter((m) => m[name] !== undefined).reduce((n, m) => n + m[name], 0);
  expect({ client: count('ClientErrors'), server: count('ServerErrors'), upstream: count('UpstreamFailures') }).toEqual({
    client: 1,
    server: 1,
    upstream: 2, // the 502 of an UpstreamError and the 503 answered
  });
  expect(emf.every((m) => m.service === 'obs-test' && m._aws.CloudWatchMetrics[0].Namespace === 'ChatkitLeadIntake')).toBe(true);
});

it('puts the correlation keys on every line of one request, never the user id, and not on the next request’s', async () => {
  const logger = createLogger('obs-test');
  let first = true;
  const handler = middy()
    .use(injectLambdaContext(logger))
    .handler(async () => {
      if (first) correlate(logger, { threadId: 'cthr_corr', user: 'u_secretUserId' });
      first = false;
      logger.info('one');
      logger.info('two');
      return jsonResponse(200, {});
    });
  const out = await captured(async () => {
    await handler(urlEvent(), lambdaContext());
    await handler(urlEvent(), lambdaContext());
  });
  const [a, b, c, d] = out.filter((l) => l.service === 'obs-test');
  for (const l of [a, b]) expect(l).toMatchObject({ threadId: 'cthr_corr', userHash: userHash('u_secretUserId') });
  for (const l of [c, d]) expect(l.threadId ?? l.userHash).toBeUndefined();
  expect(JSON.stringify(out)).not.toContain('u_secretUserId');
  expect(userHash('u_secretUserId')).toMatch(/^[A-Za-z0-9_-]{22}$/);
});
