import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/**
 * Customer data must never reach a log line (docs/runbook.md). Once at the end of a run, everything
 * the local stacks and the in-process handlers wrote is scanned for every phone number, email
 * address and customer name the tests used, in every form the code writes or a person types:
 * any formatted phone number ((415) 555-7777, 415-555-7777, 415.555.7777, +14155557777), any
 * email address, and the bare digits and names found in the tests' own sources.
 */

export interface Finding {
  file: string;
  line: number;
  what: string;
  excerpt: string;
}

export interface TestPii {
  /** Ten-digit national numbers (NANP) the tests use. */
  phones: Set<string>;
  names: Set<string>;
}

/** Addresses and numbers of the business itself (its profile and stage settings), which are not customers' data. */
export function businessContacts(root: string): Set<string> {
  const out = new Set<string>();
  const texts = [
    readFileSync(join(root, 'stages.config.json'), 'utf8'),
    readFileSync(join(root, 'packages/shop/shop.config.json'), 'utf8'),
  ];
  for (const t of texts) {
    for (const m of t.matchAll(/[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g)) out.add(m[0].toLowerCase());
    for (const m of t.matchAll(/\+1(\d{10})\b/g)) out.add(m[1]!);
  }
  return out;
}

/** Every display form of a ten-digit number, as the code formats it and as customers type it. */
export function phoneForms(d: string): string[] {
  const [a, b, c] = [d.slice(0, 3), d.slice(3, 6), d.slice(6)];
  return [
    d,
    `1${d}`,
    `+1${d}`,
    `(${a}) ${b}-${c}`,
    `(${a})${b}-${c}`,
    `${a}-${b}-${c}`,
    `${a}.${b}.${c}`,
    `${a} ${b} ${c}`,
    `1-${a}-${b}-${c}`,
  ];
}

/** The phone numbers and customer names written in the tests' sources (literal ones; templates are caught by the patterns). */
export function collectTestPii(root: string, files: string[]): TestPii {
  const phones = new Set<string>();
  const names = new Set<string>();
  for (const f of files) {
    const src = readFileSync(join(root, f), 'utf8');
    for (const m of src.matchAll(/(?:\+?1[-. ]?)?\(?\b([2-9]\d{2})\)?[-. ]?(\d{3})[-. ]?(\d{4})\b/g)) phones.add(`${m[1]}${m[2]}${m[3]}`);
    for (const m of src.matchAll(/(?:customer_name|name)["']?:\s*['"]([^'"\n]{4,60})['"]/g)) {
      const name = m[1]!.trim();
      // A customer's name: letters and spaces, two words or more (single words are too common to scan for).
      if (/^\p{L}[\p{L}' -]+ \p{L}[\p{L}' -]*$/u.test(name)) names.add(name);
    }
  }
  return { phones, names };
}

const FORMATTED_PHONE = /\(\d{3}\) ?\d{3}-\d{4}|(?<![\w-])\d{3}[-.]\d{3}[-.]\d{4}(?![\w-])|\+1\d{10}(?!\d)/g;
const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g;

export function scanText(file: string, text: string, pii: TestPii, business: Set<string>): Finding[] {
  const found: Finding[] = [];
  const bare = [...pii.phones].filter((p) => !business.has(p));
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    const hit = (what: string) => found.push({ file, line: i + 1, what, excerpt: line.slice(0, 200) });
    for (const m of line.matchAll(FORMATTED_PHONE)) {
      const digits = m[0].replace(/\D/g, '').slice(-10);
      if (!business.has(digits)) hit(`phone ${m[0]}`);
    }
    for (const m of line.matchAll(EMAIL)) if (!business.has(m[0].toLowerCase())) hit(`email ${m[0]}`);
    for (const p of bare)
      if (new RegExp(`(?<!\\d)1?${p}(?!\\d)`).test(line) || phoneForms(p).some((f) => /\D/.test(f) && line.includes(f))) hit(`phone ${p}`);
    for (const n of pii.names) if (line.includes(n)) hit(`name ${n}`);
  });
  return found;
}

/** Scans the run's logs: the shared stack's, other stacks the tests started, and what each test file wrote. */
export function scanRun(root: string): { files: number; findings: Finding[] } {
  const logs = [join(root, '.local', 'test-stack.log')];
  const dir = join(root, '.local', 'test-logs');
  if (existsSync(dir)) for (const f of readdirSync(dir)) logs.push(join(dir, f));
  const sources = ['packages', 'services', 'local', 'tooling', 'test']
    .flatMap((d) => walk(root, d))
    .filter((f) => f.endsWith('.test.ts') || f.startsWith('local/testkit/'));
  const pii = collectTestPii(root, sources);
  const business = businessContacts(root);
  const findings = logs.filter(existsSync).flatMap((f) => scanText(relative(root, f), readFileSync(f, 'utf8'), pii, business));
  return { files: logs.length, findings };
}

function walk(root: string, dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((e) =>
    ['node_modules', '.local', '.esbuild', '.serverless'].includes(e.name)
      ? []
      : e.isDirectory()
        ? walk(root, `${dir}/${e.name}`)
        : e.name.endsWith('.ts')
          ? [`${dir}/${e.name}`]
          : [],
  );
}
