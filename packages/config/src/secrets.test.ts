import middy from '@middy/core';
import { mintDeviceCredential, verifyClientToken } from '@lead-intake/chat-auth';
import { applyEnv, lambdaContext, startSsmStandIn, urlEvent, type SsmStandIn } from '@lead-intake/testkit';
import { ConfigError, secrets } from './index';

const TOKEN_SECRET = 'a-token-secret-from-ssm-0123456789abcdef';
let ssm: SsmStandIn;
beforeAll(async () => {
  ssm = await startSsmStandIn({
    '/chatkit-lead-intake/prod/OPENAI_API_KEY': 'sk-from-ssm',
    '/chatkit-lead-intake/prod/LEAD_WEBHOOK_SECRET': 'whsec_from_ssm',
    '/chatkit-lead-intake/prod/CHATKIT_TOKEN_SECRET': TOKEN_SECRET,
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
    const handler = echo(secrets({ names: ['OPENAI_API_KEY', 'LEAD_WEBHOOK_SECRET'], ssmPath: '/chatkit-lead-intake/prod/' }));
    for (let n = 0; n < 3; n++)
      expect(await handler({}, lambdaContext())).toEqual({ OPENAI_API_KEY: 'sk-from-ssm', LEAD_WEBHOOK_SECRET: 'whsec_from_ssm' });
    expect(ssm.requests).toHaveLength(1);
    expect(ssm.requests[0]).toEqual({
      target: 'AmazonSSM.GetParameters',
      body: { Names: ['/chatkit-lead-intake/prod/OPENAI_API_KEY', '/chatkit-lead-intake/prod/LEAD_WEBHOOK_SECRET'], WithDecryption: true },
    });
  });

  it('reads nothing when a function needs no secret (a legacy hosted session): no SSM request', async () => {
    const handler = echo(secrets({ names: [], ssmPath: '/chatkit-lead-intake/prod/' }));
    expect(await handler({}, lambdaContext())).toEqual({});
    expect(ssm.requests).toEqual([]);
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
  it('mints with the token secret from SSM; the deployed environment holds only the path', async () => {
    const secret = TOKEN_SECRET;
    applyEnv({
      CHATKIT_MODE: 'self-hosted',
      SECRETS_SSM_PATH: '/chatkit-lead-intake/prod/',
      CHATKIT_TOKEN_SECRET: undefined,
      CHAT_LIMITS_TABLE_NAME: 'unused-by-a-refresh',
      ALLOWED_ORIGINS: 'https://craigs.autos',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
    });
    try {
      let handler: any;
      jest.isolateModules(() => {
        handler = require('../../../services/session/src/handler').handler;
      });
      // A refresh: the device credential and the token both prove the secret SSM holds.
      const deviceCredential = mintDeviceCredential(secret, 'u_fromSsm000000000000001');
      const res = await handler(urlEvent({ body: JSON.stringify({ deviceCredential }) }), lambdaContext());
      expect(res.statusCode).toBe(200);
      const body = JSON.parse(res.body);
      expect(verifyClientToken(secret, body.client_secret).sub).toBe('u_fromSsm000000000000001');
      expect(ssm.requests.map((r) => r.body)).toEqual([
        { Names: ['/chatkit-lead-intake/prod/CHATKIT_TOKEN_SECRET'], WithDecryption: true },
      ]);
    } finally {
      applyEnv({ SECRETS_SSM_PATH: undefined, CHATKIT_MODE: undefined, CHAT_LIMITS_TABLE_NAME: undefined });
    }
  });
});
