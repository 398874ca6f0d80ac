#!/usr/bin/env node
// `npm run lint`: no line of code or configuration over 140 characters (prettier wraps what it
// can; strings and comments are wrapped by hand). Prose (Markdown), recorded answers, generated
// output and sample events (signed tokens, base64 bodies) are data, not code, and are left out.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const MAX = 140;
const CODE = /\.(ts|cjs|mjs|js|json|ya?ml|sh)$/;
const DATA = [
  /^test\/conformance\/official-.*\.json$/,
  /^test\/conformance\/intake-.*\.json$/,
  /^bench\/results\.json$/,
  /^services\/[^/]+\/events\/.*\.json$/,
  /^docs\/sample-lead-webhook\.json$/,
  /(^|\/)package-lock\.json$/,
];

const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], { encoding: 'utf8' })
  .split('\n')
  .filter((f) => CODE.test(f) && !DATA.some((d) => d.test(f)));
const long = [];
for (const f of files) {
  let text;
  try {
    text = readFileSync(f, 'utf8');
  } catch {
    continue; // listed but deleted in the work tree
  }
  text.split('\n').forEach((line, i) => line.length > MAX && long.push(`${f}:${i + 1}: ${line.length} characters`));
}
if (long.length) {
  console.error(`${long.length} line(s) over ${MAX} characters:\n${long.join('\n')}`);
  process.exit(1);
}
console.log(`${files.length} files, no line over ${MAX} characters`);
