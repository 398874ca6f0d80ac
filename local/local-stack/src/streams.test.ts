import { fromPrinted } from './service-config';
import { laneOf, matchesFilter } from './streams';

/** Lambda's event filtering, as the local event source mapping applies it (the deploy's own patterns). */
describe('matchesFilter', () => {
  const insert = { eventName: 'INSERT', dynamodb: { Keys: { pk: { S: 'THREAD#x' }, sk: { S: 'ITM#0001#msg' } } } };
  const pattern = { eventName: ['INSERT'], dynamodb: { Keys: { sk: { S: [{ prefix: 'ITM#' }] } } } };

  it('matches values, prefixes, exists and anything-but, at any depth', () => {
    expect(matchesFilter(pattern, insert)).toBe(true);
    expect(matchesFilter(pattern, { ...insert, eventName: 'MODIFY' })).toBe(false);
    expect(matchesFilter(pattern, { ...insert, dynamodb: { Keys: { sk: { S: 'META' } } } })).toBe(false);
    expect(matchesFilter(pattern, { eventName: 'INSERT' })).toBe(false);
    expect(matchesFilter({ dynamodb: { NewImage: [{ exists: false }] } }, insert)).toBe(true);
    expect(matchesFilter({ dynamodb: { Keys: [{ exists: true }] } }, insert)).toBe(true);
    expect(matchesFilter({ eventName: [{ 'anything-but': ['REMOVE'] }] }, insert)).toBe(true);
    expect(matchesFilter({ eventName: [{ 'anything-but': 'INSERT' }] }, insert)).toBe(false);
  });

  it('refuses a rule it cannot run locally instead of guessing', () => {
    expect(() => matchesFilter({ n: [{ numeric: ['>', 1] }] }, { n: 2 })).toThrow(/not supported locally/);
  });
});

/** A `stream` event's settings as the deploy prints them, with Lambda's defaults and limits. */
describe('stream event settings', () => {
  const withStream = (stream: Record<string, unknown>) =>
    fromPrinted(
      {
        service: 'svc',
        functions: {
          fn: { handler: 'src/fn.handler', events: [{ stream: { type: 'dynamodb', arn: { 'Fn::ImportValue': 'x' }, ...stream } }] },
        },
      },
      '/tmp/svc',
    ).functions[0]!.streams![0]!;

  it('takes parallelizationFactor (Lambda default 1) and refuses what Lambda refuses', () => {
    expect(withStream({}).parallelizationFactor).toBe(1);
    expect(withStream({ parallelizationFactor: 10 }).parallelizationFactor).toBe(10);
    for (const bad of [0, 11, 2.5, '4'])
      expect(() => withStream({ parallelizationFactor: bad })).toThrow(/parallelizationFactor must be a whole number from 1 to 10/);
  });

  it('spreads partition keys over the lanes, the same key always to the same lane', () => {
    const lanes = Array.from({ length: 200 }, (_, i) => laneOf({ S: `THREAD#${i}` }, 10));
    expect(new Set(lanes).size).toBe(10);
    expect(lanes.every((l) => l >= 0 && l < 10)).toBe(true);
    expect(laneOf({ S: 'THREAD#7' }, 10)).toBe(lanes[7]);
    expect(laneOf({ S: 'THREAD#7' }, 1)).toBe(0);
  });
});
