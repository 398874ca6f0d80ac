import OpenAI from 'openai';

export interface ClientBudget {
  /** Per attempt. */
  timeoutMs: number;
  /** Retries after the first attempt (the SDK backs off between them). */
  maxRetries: number;
}

const clients = new Map<string, OpenAI>();

/**
 * The OpenAI client for this key and budget, created on first use and kept for the instance's
 * life (no client is built at import: cold start pays only for what a request needs).
 * `OPENAI_BASE_URL` is honoured by the SDK itself; locally it points at the emulator.
 */
export function openaiClient(apiKey: string, budget: ClientBudget): OpenAI {
  const key = `${apiKey}\u0000${budget.timeoutMs}\u0000${budget.maxRetries}`;
  let client = clients.get(key);
  if (!client) {
    client = new OpenAI({ apiKey, timeout: budget.timeoutMs, maxRetries: budget.maxRetries });
    clients.set(key, client);
  }
  return client;
}

/** Worst-case wall time of one call under a budget, backoff included (SDK: 0.5 s x 2^n, capped at 8 s). */
export function worstCaseMs(budget: ClientBudget): number {
  let backoff = 0;
  for (let n = 0; n < budget.maxRetries; n++) backoff += Math.min(8000, 500 * 2 ** n) * 1.0;
  return budget.timeoutMs * (budget.maxRetries + 1) + backoff;
}

export { OpenAI };
