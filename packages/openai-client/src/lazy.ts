import type OpenAI from 'openai';
import type { ClientBudget } from './index';

/**
 * The instance's clients, loaded on first use: the SDK's modules (and undici, which their
 * evaluation touches) are evaluated when the first request needs a client, not when the function
 * loads. Imported alone (this module reaches the SDK only through `import()`), it keeps the SDK out
 * of a cold start's first answer: the chat's first streamed byte needs DynamoDB, not OpenAI.
 */
export function lazyOpenaiClient(): (apiKey: string, budget: ClientBudget) => Promise<OpenAI> {
  let loaded: Promise<typeof import('./index')> | undefined;
  return async (apiKey, budget) => {
    loaded ??= import('./index');
    return (await loaded).openaiClient(apiKey, budget);
  };
}
