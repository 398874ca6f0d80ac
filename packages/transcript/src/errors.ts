import { HttpError } from '@lead-intake/errors';

/**
 * No such thread, or not the caller's: answered 404 like an unknown one. Its own module
 * (`@lead-intake/transcript/errors`): a function's cold start can tell it apart without loading
 * the sources (and with them the OpenAI SDK).
 */
export class ThreadNotFoundError extends HttpError {
  constructor(readonly threadId: string) {
    super(404, 'Thread not found.', 'thread_not_found');
  }
}
