/**
 * A/B of the chat's first streamed byte between two running stacks, interleaved request by
 * request so that the machine's drift falls on both alike (docs/performance.md, "Comparing two
 * versions"). Usage: npx tsx bench/compare-chat.ts <chat URL A> <chat URL B> [warm-up turns] [measured turns]
 * Both stacks must use the local token secret (any `npm run dev`, `LOCAL_STAGE=bench` for B's limits).
 */
import { mintClientToken } from '@lead-intake/chat-auth';
import { LOCAL_TOKEN_SECRET } from '@lead-intake/local-stack/config';

const [a, b, warmArg, turnsArg] = process.argv.slice(2);
if (!a || !b) throw new Error('usage: npx tsx bench/compare-chat.ts <chat URL A> <chat URL B> [warm-up turns] [measured turns]');
const WARM = Number(warmArg ?? 1000);
const TURNS = Number(turnsArg ?? 200);
const token = mintClientToken(LOCAL_TOKEN_SECRET, `compare-${process.pid}`, 3600).token;
const input = (t: string) => ({ content: [{ type: 'input_text', text: t }], attachments: [], inference_options: {} });
const request = (type: string, params: object): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
  body: JSON.stringify({ type, params }),
});
const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;

/** ms to the first streamed byte and to the first streamed text of the answer; the stream is read to its end. */
async function firstByte(url: string, init: RequestInit): Promise<{ ms: number; textMs: number; text: string }> {
  const t0 = performance.now();
  const res = await fetch(url, init);
  let ms = -1;
  let textMs = -1;
  let text = '';
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    if (ms < 0) ms = performance.now() - t0;
    text += new TextDecoder().decode(chunk);
    if (textMs < 0 && text.includes('text_delta')) textMs = performance.now() - t0;
  }
  return { ms, textMs, text };
}

async function main() {
  const urls = [a!, b!];
  const threads: string[] = [];
  for (const url of urls)
    threads.push(
      /"thread":\{"id":"(cthr_[^"]+)"/.exec((await firstByte(url, request('threads.create', { input: input('Hello') }))).text)![1]!,
    );
  // DynamoDB Local is a JVM: its code paths run interpreted for the first few hundred requests.
  for (let i = 0; i < WARM; i++)
    for (const [n, url] of urls.entries())
      await firstByte(url, request('threads.add_user_message', { thread_id: threads[n], input: input('warm') }));
  const times: number[][] = [[], []];
  const texts: number[][] = [[], []];
  for (let i = 0; i < TURNS; i++)
    for (const [n, url] of urls.entries()) {
      const r = await firstByte(url, request('threads.add_user_message', { thread_id: threads[n], input: input('Are you open?') }));
      times[n]!.push(r.ms);
      texts[n]!.push(r.textMs);
    }
  const [ma, mb] = times.map(median) as [number, number];
  const [ta, tb] = texts.map(median) as [number, number];
  console.log(
    JSON.stringify({
      a: { url: a, firstByteMedianMs: +ma.toFixed(2), firstTextMedianMs: +ta.toFixed(2) },
      b: { url: b, firstByteMedianMs: +mb.toFixed(2), firstTextMedianMs: +tb.toFixed(2) },
      bMinusAMs: +(mb - ma).toFixed(2),
      bMinusAFirstTextMs: +(tb - ta).toFixed(2),
      warmup: WARM,
      turns: TURNS,
    }),
  );
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
