/**
 * The three kinds of failure, one base class each, told apart with `instanceof` (never by name):
 *
 * - `HttpError`: an answer to the caller, with its HTTP status. 4xx: the caller's to fix, its
 *   message is shown; 5xx: ours, its message shown only when it says nothing internal.
 * - `UpstreamError`: a dependency failed or could not be reached (DynamoDB, SQS, SES, OpenAI). It
 *   names the dependency and never carries the dependency's answer body (it may echo customer
 *   text). Unhandled, the HTTP layer answers 502 `upstream_error`.
 * - `ConfigError`: configuration is missing or invalid. The message names the setting, never its
 *   value. Unhandled, the HTTP layer answers 500 and logs the message.
 *
 * Each package's own errors extend one of these (packages/errors/README.md lists them).
 *
 * `instanceof` on a base holds across copies of this module (a bundle or a test registry may load
 * it twice): each base carries a brand (`Symbol.for`, shared by every copy) that its
 * `Symbol.hasInstance` checks. A subclass keeps the ordinary prototype check.
 */

/** `instanceof` for a base class: the brand for the base itself, the prototype chain for its subclasses. */
function branded(base: Function, brand: symbol) {
  Object.defineProperty(base.prototype, brand, { value: true });
  Object.defineProperty(base, Symbol.hasInstance, {
    value(this: Function, x: unknown): boolean {
      if (this === base) return typeof x === 'object' && x !== null && (x as Record<symbol, unknown>)[brand] === true;
      return Function.prototype[Symbol.hasInstance].call(this, x);
    },
  });
}

export class HttpError extends Error {
  readonly expose: boolean;
  constructor(
    readonly statusCode: number,
    message: string,
    readonly code: string = defaultCode(statusCode),
    readonly headers: Record<string, string> = {},
    options?: { cause?: unknown; expose?: boolean },
  ) {
    super(message, options);
    this.name = new.target.name;
    // 4xx messages are for the caller; a 5xx one only when it says nothing internal (a 503's "retry later").
    this.expose = options?.expose ?? statusCode < 500;
  }
}

function defaultCode(status: number): string {
  const codes: Record<number, string> = {
    400: 'bad_request',
    401: 'unauthorized',
    403: 'forbidden',
    404: 'not_found',
    405: 'method_not_allowed',
    413: 'payload_too_large',
    415: 'unsupported_media_type',
    502: 'upstream_error',
  };
  return codes[status] ?? (status < 500 ? 'client_error' : 'internal_error');
}

branded(HttpError, Symbol.for('@lead-intake/errors.HttpError'));

export const badRequest = (message: string, code = 'bad_request') => new HttpError(400, message, code);

export class UpstreamError extends Error {
  constructor(
    /** Which dependency: `dynamodb`, `sqs`, `ses`, `openai` or an operation such as `chatkit.sessions.create`. */
    readonly upstream: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

branded(UpstreamError, Symbol.for('@lead-intake/errors.UpstreamError'));

export class ConfigError extends Error {
  constructor(
    /** The setting (environment variable, SSM parameter, config file field). */
    readonly variable: string,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

branded(ConfigError, Symbol.for('@lead-intake/errors.ConfigError'));
