import { readFileSync } from 'node:fs';
import { userHash } from '@lead-intake/observability';
import { chatRequest, emulator, leadSummary, postJson, stackUrls } from '@lead-intake/testkit';

/**
 * One customer followed across the three services of the running stack (session, chat, lead) by
 * the keys on their log lines, and the metrics each emits, read from the stack's own output (what
 * CloudWatch would receive).
 */
const admin = emulator();
const ORIGIN = { origin: 'https://craigs.autos' };
const parse = (text: string) =>
  text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l));
/** The stack's log lines so far, or (with `until`) once `until` holds for them, within 10 s (the functions write asynchronously). */
const stackLog = async (until?: (lines: any[]) => boolean) => {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const lines = parse(readFileSync(process.env.TEST_STACK_LOG!, 'utf8'));
    if (!until || until(lines) || Date.now() > deadline) return lines;
    await new Promise((r) => setTimeout(r, 50));
  }
};

it('every log line of a request names the customer (a hash) and the conversation, from session to chat to lead', async () => {
  await admin.reset();
  const before = (await stackLog()).length;
  const session = await postJson(stackUrls().session, {}, ORIGIN);
  expect(session.status).toBe(200);
  const { client_secret: token, user } = session.body;
  const hash = userHash(user);

  const turn = await chatRequest(
    {
      type: 'threads.create',
      params: {
        input: { content: [{ type: 'input_text', text: 'Squeaky brakes, call 415-555-0440' }], attachments: [], inference_options: {} },
      },
    },
    { token, headers: ORIGIN },
  );
  expect(turn.status).toBe(200);
  const threadId = turn.events.find((e: any) => e.type === 'thread.created').thread.id as string;
  // A second request names the thread: its lines carry both keys.
  expect((await chatRequest({ type: 'threads.get_by_id', params: { thread_id: threadId } }, { token, headers: ORIGIN })).status).toBe(200);

  await admin.queueOutput(leadSummary());
  const lead = await postJson(stackUrls().lead, { threadId, reason: 'close' }, { ...ORIGIN, authorization: `Bearer ${token}` });
  expect(lead.body).toEqual({ sent: true, reason: 'sent' });

  const mine = (all: any[]) => all.slice(before).filter((l) => !l._aws && l.level);
  // Once the lead's lines of this thread are written (the last request's).
  const lines = mine(await stackLog((all) => mine(all).filter((l) => l.service === 'lead' && l.threadId === threadId).length > 1));
  const of = (service: string) => lines.filter((l) => l.service === service);
  expect(of('session').find((l) => l.message === 'client token minted')).toMatchObject({ userHash: hash });
  const chat = of('chat').filter((l) => l.userHash === hash);
  expect(chat.length).toBeGreaterThan(1);
  expect(chat.some((l) => l.threadId === threadId)).toBe(true); // the request that named the thread
  const lead_ = of('lead').filter((l) => l.threadId === threadId);
  expect(lead_.length).toBeGreaterThan(1);
  for (const l of lead_) expect(l.userHash).toBe(hash);
  // The user id itself (a credential's subject) is on no line.
  expect(JSON.stringify(lines)).not.toContain(user);
});

it('the services emit metrics by answer class, and the chat its turns and first-byte time', async () => {
  await admin.reset();
  const before = (await stackLog()).length;
  const session = await postJson(stackUrls().session, {}, ORIGIN);
  const token = session.body.client_secret;
  const turn = await chatRequest(
    {
      type: 'threads.create',
      params: { input: { content: [{ type: 'input_text', text: 'Hello' }], attachments: [], inference_options: {} } },
    },
    { token, headers: ORIGIN },
  );
  expect(turn.status).toBe(200);
  expect((await postJson(stackUrls().lead, { threadId: 'not-a-thread', reason: 'close' }, ORIGIN)).status).toBe(400);
  expect((await chatRequest({ type: 'threads.get_by_id', params: { thread_id: 'cthr_nope' } }, { headers: ORIGIN })).status).toBe(401);

  const wanted = (all: any[]) => all.slice(before).filter((l) => l._aws);
  // Once the three services' metrics of these requests are written.
  const emf = wanted(
    await stackLog(
      (all) =>
        ['ChatTurns', 'FirstByteMs', 'SessionsMinted'].every((n) => wanted(all).some((m) => m[n] !== undefined)) &&
        wanted(all).filter((m) => m.ClientErrors !== undefined).length >= 2,
    ),
  );
  const metric = (service: string, name: string) => emf.filter((m) => m.service === service && m[name] !== undefined).map((m) => m[name]);
  expect(metric('chat', 'ChatTurns')).toEqual([1]);
  const [firstByte] = metric('chat', 'FirstByteMs');
  expect(firstByte).toBeGreaterThan(0);
  expect(emf.find((m) => m.FirstByteMs !== undefined)._aws.CloudWatchMetrics[0].Metrics).toContainEqual({
    Name: 'FirstByteMs',
    Unit: 'Milliseconds',
  });
  expect(metric('lead', 'ClientErrors')).toEqual([1]);
  expect(metric('chat', 'ClientErrors')).toEqual([1]);
  expect(metric('session', 'SessionsMinted')).toEqual([1]);
});
