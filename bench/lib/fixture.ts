import { mintDeviceCredential } from '@lead-intake/chat-auth';
import { LOCAL_TOKEN_SECRET } from '@lead-intake/local-stack/config';
import { auth, dynamoEndpoint, emu, functionEnv, leadUrl, post, seedConversation, STAGE } from './stack';

/** What several scenarios share, made once on the main stack. */
export interface Fixture {
  /** The lead ledger's table on the bench stage. */
  table: string;
  /** The environment a bundle loaded in a process of its own needs (self-hosted). */
  env: NodeJS.ProcessEnv;
  /** A self-hosted conversation already sent: the duplicate trigger every cold start of lead answers. */
  sentThread: string;
  /** The same in the legacy hosted mode (the emulator's hosted threads). */
  hostedSent: string;
  /** A returning visitor's device credential (the session's refresh). */
  credential: string;
}

export async function makeFixture(): Promise<Fixture> {
  const table = `chatkit-lead-intake-lead-${STAGE}-dedupe`;
  await emu.reset();
  const sentThread = await seedConversation('bench', [{ role: 'user', text: 'Brakes, call 415-555-2671' }]);
  const first = await post(leadUrl, { threadId: sentThread, reason: 'close' }, auth('bench'));
  if (first.reason !== 'sent') throw new Error(`setup: expected sent, got ${JSON.stringify(first)}`);
  const hostedSent = await emu.seedThread({ user: 'bench', items: [{ role: 'user', text: 'Brakes, call 415-555-2671' }] });
  return {
    table,
    env: functionEnv(table, dynamoEndpoint),
    sentThread,
    hostedSent,
    credential: mintDeviceCredential(LOCAL_TOKEN_SECRET, 'u_benchCustomer000000001'),
  };
}
