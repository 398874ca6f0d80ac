import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { clientTokenFor, conversations, postJson, stackUrls, killDynamoLocal } from '@lead-intake/testkit';
import { REPO_ROOT } from './paths';
import { LocalFunction, serveFunctionUrl, toEvent } from './function-url';

const portOpen = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });

const pidAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('the running local stack', () => {
  it('answers a POST on every function URL and lists them in the outputs file', async () => {
    const urls = stackUrls();
    expect(urls.session).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(urls.lead).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(urls.chat).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    for (const url of [urls.session, urls.lead, urls.chat!]) {
      const res = await postJson(url, {}, { origin: 'http://localhost:4321' });
      expect(res.status).toBeLessThan(500);
      expect(res.headers.get('access-control-allow-origin')).toBe('http://localhost:4321');
    }
  });

  // The URL answers preflights (200), never the function (originPolicy would answer 204): packages/http/README.md.
  it('answers preflights from the URL CORS configuration (the same allowed origins the deploy uses)', async () => {
    const { session } = stackUrls();
    const pre = (origin: string) =>
      fetch(session, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
      });
    const ok = await pre('https://craigs.autos');
    expect(ok.status).toBe(200);
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://craigs.autos');
    expect(ok.headers.get('access-control-allow-methods')).toBe('POST');
    expect(ok.headers.get('access-control-allow-headers')).toBe('content-type');
    expect(ok.headers.get('access-control-max-age')).toBe('300');
    const refused = await pre('https://evil.example');
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();
  });

  it("bundles each function with its service's esbuild plugins (the OpenAI resources it keeps, its lazy chunks)", () => {
    const BUILD = join(REPO_ROOT, '.local', 'build');
    const file = (name: string) => readFileSync(join(BUILD, name), 'utf8');
    // A function's code: its bundle and the chunks beside it (`<bundle>.<chunk>.cjs`, tooling/bundling lazyChunks).
    const chunksOf = (name: string) => readdirSync(BUILD).filter((f) => f.startsWith(`${name}.`) && f !== `${name}.cjs`);
    const code = (name: string) => [`${name}.cjs`, ...chunksOf(name)].map(file).join('\n');
    // chat keeps Responses, lead keeps both (services/*/esbuild-plugins.cjs); the session carries no OpenAI SDK at all
    // (hosted sessions ended on 2026-11-30).
    const has = (name: string) => [
      code(name).includes("'/chatkit/sessions'") || code(name).includes('"/chatkit/sessions"'),
      code(name).includes('"/responses"') || code(name).includes("'/responses'"),
    ];
    expect(has('chatkit-lead-intake-session-session')).toEqual([false, false]);
    expect(code('chatkit-lead-intake-session-session')).not.toMatch(/X-Stainless-Lang/);
    expect(has('chatkit-lead-intake-chat-chat')).toEqual([false, true]);
    expect(has('chatkit-lead-intake-lead-lead')).toEqual([true, true]);
    // The chat's OpenAI SDK, S3 presigner, libphonenumber and luxon are chunks: not compiled before a turn's first byte.
    expect(chunksOf('chatkit-lead-intake-chat-chat').sort()).toEqual([
      'chatkit-lead-intake-chat-chat.openai.cjs',
      'chatkit-lead-intake-chat-chat.phone.cjs',
      'chatkit-lead-intake-chat-chat.presigner.cjs',
      'chatkit-lead-intake-chat-chat.time.cjs',
    ]);
    expect(file('chatkit-lead-intake-chat-chat.cjs')).not.toMatch(/country_calling_codes|Luxon/);
    expect(file('chatkit-lead-intake-chat-chat.phone.cjs')).toMatch(/country_calling_codes/);
    expect(file('chatkit-lead-intake-chat-chat.time.cjs')).toMatch(/Luxon/);
    expect(file('chatkit-lead-intake-chat-chat.cjs')).not.toMatch(/X-Stainless-Lang/); // what the SDK looks like in a bundle
    expect(file('chatkit-lead-intake-chat-chat.openai.cjs')).toMatch(/X-Stainless-Lang/);
    // The inbox checks stored summaries with the summary's schema but never calls OpenAI: no SDK in its bundle.
    expect(code('chatkit-lead-intake-inbox-inbox')).not.toMatch(/X-Stainless-Lang/);
    // The lead's pipeline libraries (OpenAI, zod, libphonenumber, luxon) are one chunk: not compiled for a duplicate trigger.
    expect(chunksOf('chatkit-lead-intake-lead-lead')).toEqual(['chatkit-lead-intake-lead-lead.libs.cjs']);
    expect(file('chatkit-lead-intake-lead-lead.cjs')).not.toMatch(/X-Stainless-Lang|ZodError|country_calling_codes|Luxon/);
    expect(file('chatkit-lead-intake-lead-lead.libs.cjs')).toMatch(/X-Stainless-Lang/);
  });
});

describe('payload format 2.0', () => {
  const req = (headers: Record<string, string>, rawHeaders?: string[]) => {
    const r = new PassThrough() as any;
    r.url = '/a/b?x=1&x=2&y=3';
    r.method = 'POST';
    r.httpVersion = '1.1';
    r.socket = { remoteAddress: '127.0.0.1' };
    r.rawHeaders = rawHeaders ?? Object.entries(headers).flat();
    return r;
  };

  it('lower-cases headers, splits cookies, joins repeated query values and keeps text bodies as text', () => {
    const ev = toEvent(
      req({}, ['Content-Type', 'application/json', 'X-Multi', 'a', 'X-Multi', 'b', 'Cookie', 'a=1; b=2']),
      Buffer.from('{"a":1}'),
      'h:1',
    );
    expect(ev.headers).toEqual({ 'content-type': 'application/json', 'x-multi': 'a,b' });
    expect(ev.cookies).toEqual(['a=1', 'b=2']);
    expect(ev.rawPath).toBe('/a/b');
    expect(ev.rawQueryString).toBe('x=1&x=2&y=3');
    expect(ev.queryStringParameters).toEqual({ x: '1,2', y: '3' });
    expect(ev.body).toBe('{"a":1}');
    expect(ev.isBase64Encoded).toBe(false);
    expect(ev.requestContext.http).toMatchObject({ method: 'POST', path: '/a/b' });
  });

  it('base64-encodes binary bodies', () => {
    const bytes = Buffer.from([0, 1, 2, 255]);
    const ev = toEvent(req({ 'content-type': 'application/octet-stream' }), bytes, 'h:1');
    expect(ev.isBase64Encoded).toBe(true);
    expect(Buffer.from(ev.body!, 'base64')).toEqual(bytes);
  });
});

describe('behaving like the service (the local stack is supervised)', () => {
  /** A function of our own, run by the same worker as every bundle: it waits as long as the event says, then writes `e.file`. */
  function slowFunction(timeoutSeconds: number) {
    const dir = mkdtempSync(join(tmpdir(), 'fn-'));
    const file = join(dir, 'slow.cjs');
    require('node:fs').writeFileSync(
      file,
      'exports.handler = async (e) => { await new Promise((r) => setTimeout(r, e.waitMs || 0)); ' +
        "if (e.file) require('node:fs').writeFileSync(e.file, 'done'); return { statusCode: 200, body: String(e.waitMs) }; };",
    );
    return new LocalFunction(
      { service: 'test', name: 'slow', handler: 'slow.handler', timeoutSeconds, memoryMb: 128, environment: {} },
      file,
      { ...process.env },
    );
  }

  it('stops an invocation at its timeout (nothing it would do later happens); concurrent ones run on their own instances', async () => {
    const fn = slowFunction(2);
    const { existsSync } = await import('node:fs');
    const marker = join(mkdtempSync(join(tmpdir(), 'fn-')), 'late');
    try {
      await fn.warm();
      const slow = fn.invoke({ waitMs: 3000, file: marker });
      const other = fn.invoke({ waitMs: 500 }); // concurrent: a second instance
      expect(await other).toEqual({ kind: 'result', result: { statusCode: 200, body: '500' } });
      expect(fn.instances).toBe(2);
      expect(await slow).toEqual({ kind: 'timeout' });
      expect(fn.timeouts).toBe(1);
      // Past the moment the handler would have written: it was stopped with its instance.
      await new Promise((r) => setTimeout(r, 1500));
      expect(existsSync(marker)).toBe(false);
      expect(fn.instances).toBe(1);
      // The idle instance serves the next invocation; nothing new is started.
      expect(await fn.invoke({ waitMs: 0 })).toEqual({ kind: 'result', result: { statusCode: 200, body: '0' } });
      expect(fn.instances).toBe(1);
    } finally {
      await fn.stop();
    }
  }, 30_000);

  it('a body over 6 MB is answered 413 and the connection is closed, not left hanging', async () => {
    const fn = slowFunction(5);
    const { server, url } = await serveFunctionUrl(fn, '127.0.0.1', 0);
    try {
      const { request, Agent } = await import('node:http');
      const agent = new Agent({ keepAlive: true });
      // Resolves when the client's socket closes: on the old behaviour it hung until the 65 s idle timeout.
      const outcome = await new Promise<{ status?: number; connection?: string; closed: boolean }>((resolve) => {
        let got: { status?: number; connection?: string } = {};
        const req = request(
          url,
          { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': String(7 * 1024 * 1024) } },
          (res) => {
            got = { status: res.statusCode, connection: res.headers.connection };
            res.resume();
          },
        );
        req.on('error', () => undefined); // the server stops reading: EPIPE/ECONNRESET on our side is expected
        req.on('close', () => resolve({ ...got, closed: true }));
        req.end(Buffer.alloc(7 * 1024 * 1024, 32));
      });
      expect(outcome).toEqual({ status: 413, connection: 'close', closed: true });
      agent.destroy();
    } finally {
      await new Promise((r) => server.close(r));
      await fn.stop();
    }
  }, 30_000);
});

describe('which stages run locally', () => {
  it('refuses a deployed stage with the reason, before starting anything', async () => {
    const { execFile } = await import('node:child_process');
    const { promisify } = await import('node:util');
    const env: NodeJS.ProcessEnv = { ...process.env, LOCAL_STAGE: 'prod', LOCAL_OUTPUTS_FILE: '' };
    const err = await promisify(execFile)(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'local/local-stack/src/cli.ts')], {
      cwd: REPO_ROOT,
      env,
      timeout: 60_000,
    }).catch((e) => e);
    expect(err.code).not.toBe(0);
    expect(`${err.stdout}${err.stderr}`).toContain('LOCAL_STAGE=prod is a deployed stage; the local stack runs local stages');
  }, 60_000);
});

describe('npm run dev', () => {
  it.each([
    ['Ctrl-C (SIGINT to the foreground process group); self-hosted, the default', true, 'SIGINT', undefined],
    ['SIGTERM to npm alone; LOCAL_CHATKIT_MODE=hosted', false, 'SIGTERM', 'hosted'],
  ] as const)(
    'reaches ready, writes the outputs file, and leaves no process or port behind on %s',
    async (_label, group, signal, mode) => {
      const dir = mkdtempSync(join(tmpdir(), 'stack-'));
      const outputs = join(dir, 'outputs.json');
      const ports = {
        LOCAL_DYNAMODB_PORT: 28000,
        LOCAL_SES_PORT: 28005,
        LOCAL_SQS_PORT: 28006,
        LOCAL_S3_PORT: 28007,
        LOCAL_ALERTS_PORT: 28008,
        LOCAL_OPENAI_PORT: 23110,
        LOCAL_SESSION_PORT: 23101,
        LOCAL_LEAD_PORT: 23102,
        LOCAL_CHAT_PORT: 23103,
        LOCAL_FILES_PORT: 23104,
        LOCAL_INBOX_PORT: 23105,
      };
      const env: NodeJS.ProcessEnv = { ...process.env, LOCAL_OUTPUTS_FILE: outputs };
      for (const [k, v] of Object.entries(ports)) env[k] = String(v);
      delete env.OPENAI_API_KEY;
      delete env.LOCAL_CHATKIT_MODE;
      if (mode) env.LOCAL_CHATKIT_MODE = mode;
      // Self-hosted run: DynamoDB keeps its data on disk (it survives the kill below) and the sweeper runs every 2 s.
      if (!mode) Object.assign(env, { LOCAL_DYNAMODB_DATA_DIR: join(dir, 'dynamodb'), LOCAL_SCHEDULE_SECONDS: '2' });
      const child = spawn('npm', ['run', 'dev'], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      let log = '';
      child.stdout.on('data', (d) => (log += d));
      child.stderr.on('data', (d) => (log += d));
      try {
        const deadline = Date.now() + 60_000;
        while (!/\bready\b/.test(log) && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 100));
        expect(log).toMatch(/\bready\b/);
        expect(JSON.parse(readFileSync(outputs, 'utf8'))).toEqual({
          custom: {
            chatkit_session_url: 'http://127.0.0.1:23101/',
            chatkit_lead_email_url: 'http://127.0.0.1:23102/',
            chatkit_api_url: 'http://127.0.0.1:23103/',
            inbox_url: 'http://127.0.0.1:23105/',
          },
        });
        for (const p of Object.values(ports)) expect(await portOpen(p)).toBe(true);
        // The mode, switched by one variable without editing stages.config.json.
        const res = await postJson('http://127.0.0.1:23101/', {});
        expect(res.status).toBe(mode === 'hosted' ? 410 : 200);
        if (!mode) {
          // A conversation with a phone number, then DynamoDB Local dies.
          const { ListTablesCommand, DynamoDBClient } = await import('@aws-sdk/client-dynamodb');
          const dynamo = () =>
            new DynamoDBClient({
              endpoint: 'http://127.0.0.1:28000',
              region: 'us-west-2',
              credentials: { accessKeyId: 'l', secretAccessKey: 'l' },
            });
          const threadId = await conversations(dynamo).seedThread({
            user: 'u-outage',
            items: [
              { role: 'user', text: 'Car will not start. Call 415-555-0199.' },
              { role: 'assistant', text: 'We will call.' },
            ],
          });
          const java = killDynamoLocal(28000);
          // The customer closes the tab now: the beacon is kept in the spool, not refused.
          const beacon = await postJson(
            'http://127.0.0.1:23102/',
            { threadId, reason: 'pagehide' },
            { authorization: `Bearer ${clientTokenFor('u-outage')}` },
          );
          expect([beacon.status, beacon.body]).toEqual([202, { sent: false, reason: 'queued' }]);
          // The stack starts DynamoDB again on its port, with its tables and (LOCAL_DYNAMODB_DATA_DIR) its data.
          const until = Date.now() + 45_000;
          while (!/DynamoDB Local restarted/.test(log) && Date.now() < until) await new Promise((r) => setTimeout(r, 200));
          expect(log).toMatch(/DynamoDB Local exited; starting it again/);
          expect(log).toMatch(/DynamoDB Local restarted/);
          const tables = await dynamo().send(new ListTablesCommand({}));
          expect(tables.TableNames).toEqual(
            expect.arrayContaining(['chatkit-lead-intake-chat-local-threads', 'chatkit-lead-intake-lead-local-dedupe']),
          );
          expect(pidAlive(java)).toBe(false); // reaped, not a zombie
          expect((await postJson('http://127.0.0.1:23101/', {})).status).toBe(200); // a new user's counter: the table works again
          // The scheduled sweeper drains the spool: one email, and the spool is empty.
          const emailsFor = async () =>
            ((await (await fetch('http://127.0.0.1:28005/store')).json()) as { emails: Array<{ body: { text?: string } }> }).emails.filter(
              (m) => m.body.text?.includes(threadId),
            );
          const sent = Date.now() + 30_000;
          while (!(await emailsFor()).length && Date.now() < sent) await new Promise((r) => setTimeout(r, 250));
          expect(await emailsFor()).toHaveLength(1);
          // The message is deleted just after the send: wait for it (the email above can win the race).
          const spoolEmpty = async () =>
            (
              (await (await fetch('http://127.0.0.1:28006/')).json()) as { queues: Array<{ name: string; messages: unknown[] }> }
            ).queues.find((q) => q.name.endsWith('-trigger-spool'))!.messages.length === 0;
          const drained = Date.now() + 10_000;
          while (!(await spoolEmpty()) && Date.now() < drained) await new Promise((r) => setTimeout(r, 100));
          expect(await spoolEmpty()).toBe(true);
          await new Promise((r) => setTimeout(r, 2500)); // another sweep: still one email
          expect(await emailsFor()).toHaveLength(1);
        }
        if (mode === 'hosted') {
          expect(log).toMatch(/ChatKit mode\s+hosted \(LOCAL_CHATKIT_MODE\)/);
          // Hosted sessions ended with Agent Builder (2026-11-30): the session service says so.
          expect(res.body).toMatchObject({ code: 'hosted_sessions_ended' });
        } else {
          expect(log).toMatch(/ChatKit mode\s+self-hosted \(stages\.config\.json/);
          expect(res.body).toMatchObject({
            client_secret: expect.stringMatching(/^ckt1\./),
            device_credential: expect.stringMatching(/^ckd1\./),
          });
        }
      } catch (e) {
        // A failed check must not leave this stack running (its ports would fail the next case).
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          // already gone
        }
        throw e;
      }
      const { execSync } = await import('node:child_process');
      const descendants = execSync(`pgrep -f "${outputs}|dynamodb_local|lambda-worker" || true`)
        .toString()
        .trim()
        .split('\n')
        .filter(Boolean)
        .map(Number);
      if (group) process.kill(-child.pid!, signal);
      else child.kill(signal);
      if (child.exitCode === null) await new Promise((r) => child.once('exit', r));
      const until = Date.now() + 10_000;
      while (Date.now() < until && (await Promise.all(Object.values(ports).map(portOpen))).some(Boolean))
        await new Promise((r) => setTimeout(r, 200));
      for (const p of Object.values(ports)) expect(await portOpen(p)).toBe(false);
      const leftovers = descendants.filter((pid) => pidAlive(pid) && readFileSafe(`/proc/${pid}/environ`).includes(outputs));
      expect(leftovers).toEqual([]);
    },
    90_000,
  );
});

function readFileSafe(p: string): string {
  try {
    return existsSync(p) ? readFileSync(p, 'latin1') : '';
  } catch {
    return '';
  }
}
