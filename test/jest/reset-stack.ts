import { clearAlerts, clearSes, emulator } from '@lead-intake/testkit';

/**
 * Every file that uses the shared local stack starts from a clean one and leaves it clean, pass or
 * fail: the OpenAI emulator (threads, queued answers, faults, recorded requests), the SES store and
 * the alerts stand-in (texts, webhooks, faults) are reset before the file and again after it.
 */
async function resetStack() {
  await Promise.all([emulator().reset(), clearSes(), clearAlerts()]);
}

beforeAll(resetStack);
afterAll(resetStack);
