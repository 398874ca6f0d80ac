import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

/** `npm run outputs` against a CloudFormation endpoint that answers with recorded DescribeStacks responses. */
const ROOT = join(__dirname, '..');
let server: Server;
let endpoint: string;
const seen: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const form = new URLSearchParams(body);
      const stack = form.get('StackName') ?? '';
      seen.push(`${form.get('Action')} ${stack}`);
      const m = /^chatkit-lead-intake-(session|lead|chat|inbox)-prod$/.exec(stack);
      res.setHeader('content-type', 'text/xml');
      if (form.get('Action') === 'DescribeStacks' && m) {
        res.end(readFileSync(join(__dirname, 'fixtures', `describe-stacks-${m[1]}-prod.xml`)));
        return;
      }
      res.statusCode = 400;
      res.end(
        `<ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/">` +
          `<Error><Type>Sender</Type><Code>ValidationError</Code><Message>Stack with id ${stack} does not exist</Message></Error>` +
          `<RequestId>5d3c0e1e-0000-4000-8000-000000000000</RequestId></ErrorResponse>`,
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const run = (args: string[]) =>
  promisify(execFile)('npx', ['tsx', 'scripts/outputs.ts', ...args], {
    cwd: ROOT,
    env: {
      ...process.env,
      AWS_ENDPOINT_URL_CLOUDFORMATION: endpoint,
      AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'secret',
      AWS_REGION: 'us-west-2',
    },
  });

it('writes the frontend outputs from the deployed stacks', async () => {
  const out = join(mkdtempSync(join(tmpdir(), 'outputs-')), 'amplify_outputs.json');
  await run(['--stage', 'prod', '--out', out]);
  expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual({
    custom: {
      chatkit_session_url: 'https://4kq7x2m3abcdexyzrstuvwxyz0123.lambda-url.us-west-2.on.aws/',
      chatkit_lead_email_url: 'https://9zt5w1n8lmnopqrsrstuvwxyz0123.lambda-url.us-west-2.on.aws/',
      chatkit_api_url: 'https://c7h2a9t4streamingxyzw0123.lambda-url.us-west-2.on.aws/',
      inbox_url: 'https://i8b0x5ownerpagesxyzuvwxyz0123.lambda-url.us-west-2.on.aws/',
    },
  });
  expect(seen).toEqual(
    expect.arrayContaining([
      'DescribeStacks chatkit-lead-intake-session-prod',
      'DescribeStacks chatkit-lead-intake-lead-prod',
      'DescribeStacks chatkit-lead-intake-chat-prod',
      'DescribeStacks chatkit-lead-intake-inbox-prod',
    ]),
  );
  const { stdout } = await run(['--stage', 'prod']);
  expect(JSON.parse(stdout).custom.chatkit_session_url).toMatch(/^https:\/\//);
}, 60_000);

it('merges into an existing amplify_outputs.json: its other keys stay, our URLs are replaced', async () => {
  const out = join(mkdtempSync(join(tmpdir(), 'outputs-')), 'amplify_outputs.json');
  writeFileSync(
    out,
    JSON.stringify({ auth: { user_pool_id: 'us-west-2_abc' }, custom: { chatkit_session_url: 'https://old.example/', analytics: 'keep' } }),
  );
  await run(['--stage', 'prod', '--out', out]);
  const merged = JSON.parse(readFileSync(out, 'utf8'));
  expect(merged.auth).toEqual({ user_pool_id: 'us-west-2_abc' });
  expect(merged.custom.analytics).toBe('keep');
  expect(merged.custom.chatkit_session_url).toBe('https://4kq7x2m3abcdexyzrstuvwxyz0123.lambda-url.us-west-2.on.aws/');
  // A file that is not JSON is left alone, with the reason.
  writeFileSync(out, 'not json');
  const err = await run(['--stage', 'prod', '--out', out]).catch((e) => e);
  expect(err.stderr).toContain('is not JSON; fix or remove it (nothing was written)');
  expect(readFileSync(out, 'utf8')).toBe('not json');
}, 60_000);

it('says which stack is missing and what to do', async () => {
  const err = await run(['--stage', 'staging']).catch((e) => e);
  expect(err.code).toBe(1);
  expect(err.stderr).toMatch(
    /Stack chatkit-lead-intake-\w+-staging does not exist in us-west-2: deploy it first \(npx sls deploy --stage staging\)\./,
  );
}, 60_000);

it('requires a stage', async () => {
  const err = await run([]).catch((e) => e);
  expect(err.stderr).toContain('usage: npm run outputs -- --stage <stage>');
}, 60_000);
