/**
 * Jest's own order (failed and slow files first), or, with TEST_SHUFFLE=<seed> (any text; `random`
 * picks one), the files in an order drawn from that seed: the suite must pass in any order, and a
 * failing order can be run again with the seed it printed.
 */
'use strict';
const Sequencer = require('@jest/test-sequencer').default;

function seeded(text) {
  let h = 2166136261;
  for (const ch of text) h = Math.imul(h ^ ch.codePointAt(0), 16777619) >>> 0;
  return () => (h = (Math.imul(h, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

class ShuffleSequencer extends Sequencer {
  sort(tests) {
    let seed = process.env.TEST_SHUFFLE;
    if (!seed) return super.sort(tests);
    if (seed === 'random') seed = Math.random().toString(36).slice(2, 10);
    process.stderr.write(`test files shuffled with TEST_SHUFFLE=${seed}\n`);
    const rand = seeded(seed);
    const out = [...tests].sort((a, b) => a.path.localeCompare(b.path));
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [out[i], out[j]] = [out[j], out[i]];
    }
    return out;
  }
}

module.exports = ShuffleSequencer;
