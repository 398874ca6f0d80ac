// Runtime costs every first request pays, whatever the bundle: Node's fetch (undici) on its first
// call, and the time zone data on the first zoned date. Usage: node bench/floor.mjs <url>
const url = process.argv[2];
const t0 = performance.now();
await fetch(url).then((r) => r.arrayBuffer());
const t1 = performance.now();
new Intl.DateTimeFormat('en-US', { timeZone: 'America/Los_Angeles', hour: 'numeric' }).format(new Date());
const t2 = performance.now();
process.stdout.write(`${JSON.stringify({ firstFetchMs: +(t1 - t0).toFixed(1), firstTimeZoneMs: +(t2 - t1).toFixed(1) })}\n`);
