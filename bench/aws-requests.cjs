'use strict';
/**
 * A preload for the bench's scheduled stack (NODE_OPTIONS=--require): each function instance counts
 * its DynamoDB requests by operation, at the wire (the SDK sends through node:http), and keeps the
 * counts in BENCH_AWS_COUNTS_DIR/<function>-<pid>.json (rewritten at most every 200 ms while they
 * change, and at exit), so that a scenario reads what each function asked between two moments.
 * Only the local stack's Lambda workers count; every other process ignores it. Never the bodies.
 */
const dir = process.env.BENCH_AWS_COUNTS_DIR;
const worker = /lambda-worker\.cjs$/.test(process.argv[1] || '');
if (dir && worker) {
  const http = require('node:http');
  const { writeFileSync } = require('node:fs');
  const { join } = require('node:path');
  const file = join(dir, `${process.argv[4] || 'function'}-${process.pid}.json`);
  const counts = {};
  let dirty = false;
  const flush = () => {
    if (!dirty) return;
    dirty = false;
    writeFileSync(file, JSON.stringify(counts));
  };
  const request = http.request;
  http.request = function countedRequest(...args) {
    const opts = args[0] && typeof args[0] === 'object' && !(args[0] instanceof URL) ? args[0] : args[1];
    const headers = (opts && opts.headers) || {};
    const target = String(headers['x-amz-target'] || headers['X-Amz-Target'] || '');
    if (target.startsWith('DynamoDB_')) {
      const op = target.slice(target.indexOf('.') + 1);
      counts[op] = (counts[op] || 0) + 1;
      dirty = true;
    }
    return request.apply(this, args);
  };
  setInterval(flush, 200).unref();
  process.on('exit', flush);
}
