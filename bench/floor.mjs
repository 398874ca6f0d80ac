// Runtime costs every first request pays, whatever the bundle: loading undici (the OpenAI SDK
// builds its headers with the global `Headers`, which loads it), undici's first `fetch` (its
// WebAssembly parser; our clients skip it, the naive baseline pays it), and the time-zone data on
// the first zoned date. Usage: node bench/floor.mjs <url>
const url = process.argv[2];
const t0 = performance.now();
new Headers();
const t1 = performance.now();
await fetch(url).then((r) => r.arrayBuffer());
const t2 = performance.now();
new Intl.DateTimeFormat('en-US', { timeZone: 'America/Los_Angeles', hour: 'numeric' }).format(new Date());
const t3 = performance.now();
process.stdout.write(
  `${JSON.stringify({
    undiciLoadMs: +(t1 - t0).toFixed(1),
    firstFetchMs: +(t2 - t1).toFixed(1),
    firstTimeZoneMs: +(t3 - t2).toFixed(1),
  })}\n`,
);
