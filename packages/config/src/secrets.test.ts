import middy from '@middy/core';
import { applyEnv, emulator, emulatorBaseURL, lambdaContext, startSsmStandIn, urlEvent, type SsmStandIn } from '@lead-intake/testkit';
import { ConfigError, secrets } from './index';

let ssm: SsmStandIn;
beforeAll(async () => {
  ssm = await startSsmStandIn({
    '/chatkit-lead-intake/prod/OPENAI_API_KEY': 'sk-from-ssm',
    '/chatkit-lead-intake/prod/CHATKIT_WORKFLOW_ID': 'wf_from_ssm',
  });
  applyEnv({ AWS_ENDPOINT_URL_SSM: ssm.endpoint, AWS_REGION: 'us-west-2', AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local' });
});
afterAll(() => ssm.close());
beforeEach(() => void (ssm.requests.length = 0));

const echo = (mw: ReturnType<typeof secrets>) =>
  middy()
    .use(mw as any)
    .handler(async (_e: unknown, ctx: any) => ctx.secrets);

describe('secrets from SSM (through @middy/ssm and the real SSM client)', () => {
  it('fetches every secret in one decrypted GetParameters call and caches it across invocations', async () => {
    const handler = echo(secrets({ names: ['OPENAI_API_KEY', 'CHATKIT_WORKFLOW_ID'], ssmPath: '/chatkit-lead-intake/prod/' }));
    for (let n = 0; n < 3; n++)
      expect(await handler({}, lambdaContext())).toEqual({ OPENAI_API_KEY: 'sk-from-ssm', CHATKIT_WORKFLOW_ID: 'wf_from_ssm' });
    expect(ssm.requests).toHaveLength(1);
    expect(ssm.requests[0]).toEqual({
      target: 'AmazonSSM.GetParameters',
      body: { Names: ['/chatkit-lead-intake/prod/OPENAI_API_KEY', '/chatkit-lead-intake/prod/CHATKIT_WORKFLOW_ID'], WithDecryption: true },
    });
  });

  it('fails with a ConfigError naming the missing secret, reported once', async () => {
    const reported: string[] = [];
    const handler = echo(
      secrets({
        names: ['OPENAI_API_KEY', 'MISSING_ONE'],
        ssmPath: '/chatkit-lead-intake/prod',
        cacheSeconds: 0,
        onMissing: (e) => reported.push(e.message),
      }),
    );
    for (let n = 0; n < 2; n++) {
      const err = await handler({}, lambdaContext()).catch((e) => e);
      expect(err).toBeInstanceOf(ConfigError);
      expect(err.message).toContain('MISSING_ONE');
      expect(err.message).toContain('/chatkit-lead-intake/prod/MISSING_ONE');
    }
    expect(reported).toHaveLength(1);
  });
});

describe('secrets from the environment (local development)', () => {
  it('reads them when no SSM path is set, and names what is missing', async () => {
    expect(await echo(secrets({ names: ['A'], env: { A: 'x' } }))({}, lambdaContext())).toEqual({ A: 'x' });
    await expect(echo(secrets({ names: ['A', 'B'], env: { A: 'x' } }))({}, lambdaContext())).rejects.toThrow('missing secret: B');
  });
});

describe('the session handler with SSM secrets', () => {
  it('mints with the key from SSM; the deployed environment holds only the path', async () => {
    const admin = emulator();
    await admin.reset();
    // Hosted mode: its two secrets are the ones this SSM stand-in holds.
    applyEnv({
      CHATKIT_MODE: 'hosted',
      SECRETS_SSM_PATH: '/chatkit-lead-intake/prod/',
      OPENAI_API_KEY: undefined,
      CHATKIT_WORKFLOW_ID: undefined,
      OPENAI_BASE_URL: emulatorBaseURL(),
      ALLOWED_ORIGINS: 'https://craigs.autos',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
    });
    let handler: any;
    jest.isolateModules(() => {
      handler = require('../../../services/session/src/handler').handler;
    });
    const res = await handler(urlEvent({ body: '{"user":"u1"}' }), lambdaContext());
    expect(res.statusCode).toBe(200);
    const [req] = await admin.requests();
    expect(req!.headers.authorization).toBe('Bearer sk-from-ssm');
    expect((req!.body as any).workflow.id).toBe('wf_from_ssm');
    applyEnv({ SECRETS_SSM_PATH: undefined, CHATKIT_MODE: undefined });
  });
});
