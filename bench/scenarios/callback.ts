/**
 * 8. Speed to lead (issue 29 §5): from a callback form's submit to the owner's text recorded by the
 * alerts stand-in, over many conversations, on a stack that runs the scheduler (the thread table's
 * stream) as deployed; and what a tool turn costs the chat against a plain turn.
 */
import { mintClientToken } from '@lead-intake/chat-auth';
import { LOCAL_TOKEN_SECRET } from '@lead-intake/local-stack/config';
import { EmulatorAdmin } from '@lead-intake/openai-emulator';
import { firstMarker, log, median, quantile, round } from '../lib/measure';
import { HOST, input, portsAt, startStack } from '../lib/stack';

const PORTS = portsAt(19300);
const CONVERSATIONS = 100;
/** Submits in flight at once (customers sending their forms around the same time). */
const CONCURRENT = 5;
const TARGET_P95_MS = 3000;
const TOOL_TURNS = 40;

export async function callbackSpeed() {
  log('callback speed to lead...');
  // The sweeper's schedule is irrelevant here (a request is sent by the stream's scheduler), but on as deployed.
  const stack = await startStack(PORTS, { LOCAL_STREAMS: '1', LOCAL_SCHEDULE_SECONDS: '2' }, 'bench-callback');
  const at = (port: number) => `http://${HOST}:${port}`;
  const chat = `${at(PORTS.LOCAL_CHAT_PORT)}/`;
  const emulator = new EmulatorAdmin(at(PORTS.LOCAL_OPENAI_PORT));
  const post = (user: string, body: unknown): RequestInit => ({
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${mintClientToken(LOCAL_TOKEN_SECRET, user, 3600).token}` },
    body: JSON.stringify(body),
  });
  const smsStore = async () =>
    ((await (await fetch(`${at(PORTS.LOCAL_ALERTS_PORT)}/store`)).json()) as { sms: Array<{ body: string }> }).sms;
  try {
    await emulator.reset();
    // The forms first, one conversation at a time: each first model call takes its queued tool call (a
    // lead's summary never runs meanwhile: no conversation has a contact yet).
    const forms: Array<{ user: string; threadId: string; formId: string; phone: string; shown: string }> = [];
    for (let i = 0; i < CONVERSATIONS; i++) {
      const user = `bench-callback-${process.pid}-${i}`;
      await emulator.queueFunctionCall('show_callback_form');
      const r = await firstMarker(
        chat,
        post(user, { type: 'threads.create', params: { input: input('Can someone call me about my brakes?') } }),
        '"thread.item.done"',
      );
      const events = r.text
        .split('\n\n')
        .filter((f) => f.startsWith('data: '))
        .map((f) => JSON.parse(f.slice(6)));
      const threadId = events[0].thread.id as string;
      const form = events.find((e) => e.type === 'thread.item.done' && e.item.type === 'widget')?.item;
      if (!form) throw new Error(`no form in conversation ${i}`);
      const n = String(100 + i).padStart(4, '0');
      forms.push({ user, threadId, formId: form.id, phone: `415-555-${n}`, shown: `(415) 555-${n}` });
    }
    // Then the submits, a few at once; each timed until the owner's text with that customer's number is recorded.
    const delays: number[] = [];
    let missing = 0;
    const queue = [...forms];
    await Promise.all(
      Array.from({ length: CONCURRENT }, async () => {
        for (let f = queue.shift(); f; f = queue.shift()) {
          const t0 = performance.now();
          const res = await fetch(
            chat,
            post(f.user, {
              type: 'threads.custom_action',
              params: {
                thread_id: f.threadId,
                item_id: f.formId,
                action: { type: 'callback.submit', payload: { name: 'Bench Customer', phone: f.phone } },
              },
            }),
          );
          await res.text();
          let seen = false;
          while (!seen && performance.now() - t0 < 30_000) {
            seen = (await smsStore()).some((m) => m.body.includes(f.shown));
            if (!seen) await new Promise((r) => setTimeout(r, 50));
          }
          if (seen) delays.push(performance.now() - t0);
          else missing++;
        }
      }),
    );
    // A tool turn against a plain turn, interleaved: the first byte (the stored message) and the first item after it.
    const plain = { byte: [] as number[], next: [] as number[] };
    const tool = { byte: [] as number[], next: [] as number[] };
    for (let i = 0; i < TOOL_TURNS; i++) {
      const p = await firstMarker(
        chat,
        post(`bench-plain-${process.pid}-${i}`, { type: 'threads.create', params: { input: input('Hello') } }),
        '"assistant_message"',
      );
      plain.byte.push(p.firstByte);
      plain.next.push(p.at);
      await emulator.queueFunctionCall('show_callback_form');
      const t = await firstMarker(
        chat,
        post(`bench-tool-${process.pid}-${i}`, { type: 'threads.create', params: { input: input('Call me') } }),
        '"widget"',
      );
      tool.byte.push(t.firstByte);
      tool.next.push(t.at);
    }
    const p = (q: number) => Math.round(quantile(delays, q));
    return {
      conversations: CONVERSATIONS,
      concurrentSubmits: CONCURRENT,
      textsRecorded: delays.length,
      missing,
      submitToOwnerTextMs: delays.length ? { p50: p(0.5), p95: p(0.95), max: Math.round(Math.max(...delays)) } : null,
      targetP95Ms: TARGET_P95_MS,
      met: missing === 0 && delays.length > 0 && p(0.95) <= TARGET_P95_MS,
      toolTurn: {
        turns: TOOL_TURNS,
        plainFirstByteMedianMs: round(median(plain.byte)),
        toolFirstByteMedianMs: round(median(tool.byte)),
        addedToFirstByteMs: round(median(tool.byte) - median(plain.byte)),
        plainFirstAnswerMedianMs: round(median(plain.next)),
        toolFirstWidgetMedianMs: round(median(tool.next)),
        note: 'first byte: the stored user message (a tool changes nothing before it); then the plain first answer against the widget',
      },
    };
  } finally {
    stack.kill('SIGTERM');
    await new Promise((r) => stack.once('exit', r));
  }
}
