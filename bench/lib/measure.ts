/** How the bench measures: quantiles, streamed first bytes, cold starts of fresh processes. */
import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { BUNDLES, ROOT } from './stack';

export const median = (xs: number[]) => quantile(xs, 0.5);
export function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}
export const round = (n: number, d = 2) => Math.round(n * 10 ** d) / 10 ** d;
export const log = (s: string) => process.stderr.write(`${s}\n`);

/**
 * From sending the request: ms to the first byte of the streamed body, and to the first byte
 * matching `marker`; the stream is read to its end.
 */
export async function firstMarker(url: string, init: RequestInit, marker: string) {
  const t0 = performance.now();
  const res = await fetch(url, init);
  const reader = res.body!.getReader();
  let seen = '';
  let firstByte = -1;
  let at = -1;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    if (firstByte < 0 && value.length) firstByte = performance.now() - t0;
    seen += new TextDecoder().decode(value);
    if (at < 0 && seen.includes(marker)) at = performance.now() - t0;
  }
  if (at < 0) throw new Error(`no ${marker} in stream: ${seen.slice(0, 300)}`);
  return { firstByte, at, text: seen };
}

/**
 * Time from spawning a fresh Node process to its first response (the answer line on stdout), for
 * several modules, interleaved run by run so that the machine's drift falls on all of them alike.
 * The process's exit is not timed: tearing down (undici's compiled WebAssembly included) takes
 * ~100 ms here and is no part of answering a request.
 */
export async function coldStarts(
  modules: Record<string, { module: string; event: unknown | (() => unknown); env?: NodeJS.ProcessEnv }>,
  env: NodeJS.ProcessEnv,
  runs: number,
): Promise<Record<string, { medianMs: number; runs: number }>> {
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(modules).map((k) => [k, []]));
  const eventFile = (k: string, event: unknown) => {
    const file = join(ROOT, '.local', `bench-event-${process.pid}-${k}.json`);
    writeFileSync(file, JSON.stringify(typeof event === 'function' ? event() : event));
    return file;
  };
  try {
    for (let n = 0; n < runs; n++) {
      // An event given as a function is made fresh for each run (the chat's first turn: a new user each time).
      for (const [k, m] of Object.entries(modules))
        times[k]!.push(await oneColdStart(m.module, eventFile(k, m.event), { ...env, ...m.env }));
    }
  } finally {
    for (const k of Object.keys(modules)) rmSync(join(ROOT, '.local', `bench-event-${process.pid}-${k}.json`), { force: true });
  }
  return Object.fromEntries(Object.entries(times).map(([k, ts]) => [k, { medianMs: round(median(ts), 1), runs }]));
}

/** Where a cold chat turn's time goes, from its harness's phase record (BENCH_PHASES; bench/chat-cold.cjs). */
export interface ColdPhases {
  started: number;
  loaded: number;
  firstByte: number;
  done: number;
  requests: Array<{ what: string; sent: number; answered?: number; ended?: number }>;
}

export function oneColdStart(module: string, eventFile: string, env: NodeJS.ProcessEnv): Promise<number> {
  return oneColdStartWith(module, eventFile, env).then((r) => r.ms);
}

export function oneColdStartWith(module: string, eventFile: string, env: NodeJS.ProcessEnv): Promise<{ ms: number; phases?: ColdPhases }> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    // The chat streams: its harness reports the first streamed byte (the first line), then the outcome.
    const harness = [basename(BUNDLES.chat), 'floor-chat.cjs'].includes(basename(module)) ? 'chat-cold.cjs' : 'cold-start.cjs';
    const child = spawn(process.execPath, [join(ROOT, 'bench', harness), module, eventFile], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    let answeredAt: bigint | undefined;
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      if (answeredAt === undefined && out.includes('\n')) answeredAt = process.hrtime.bigint();
    });
    child.on('error', reject);
    child.on('close', () => {
      if (answeredAt === undefined || !out.includes('"statusCode":200'))
        return reject(new Error(`cold start of ${module} did not answer 200: ${out}`));
      const last = out.trim().split('\n').at(-1)!;
      resolve({ ms: Number(answeredAt - t0) / 1e6, phases: (JSON.parse(last) as { phases?: ColdPhases }).phases ?? undefined });
    });
  });
}
