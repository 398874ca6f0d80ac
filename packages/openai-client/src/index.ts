import OpenAI from 'openai';
import { nodeHttpFetch } from './node-fetch';

export interface ClientBudget {
  /** Per attempt. */
  timeoutMs: number;
  /** Retries after the first attempt (the SDK backs off between them). */
  maxRetries: number;
}

/**
 * A cache of OpenAI clients, one per key and budget, created on first use (no client is built at
 * import: cold start pays only for what a request needs). `OPENAI_BASE_URL` is honoured by the
 * SDK itself; locally it points at the emulator.
 */
export function openaiClientCache(): (apiKey: string, budget: ClientBudget) => OpenAI {
  const clients = new Map<string, OpenAI>();
  return (apiKey, budget) => {
    const key = `${apiKey}\u0000${budget.timeoutMs}\u0000${budget.maxRetries}`;
    let client = clients.get(key);
    if (!client) {
      client = new OpenAI({ apiKey, timeout: budget.timeoutMs, maxRetries: budget.maxRetries, fetch: nodeHttpFetch });
      clients.set(key, client);
    }
    return client;
  };
}

/** The instance's clients, for handlers that keep them at module level. */
export const openaiClient = openaiClientCache();

export { OpenAI };
export { nodeHttpFetch } from './node-fetch';
