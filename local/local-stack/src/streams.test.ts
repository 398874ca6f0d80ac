import { matchesFilter } from './streams';

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
