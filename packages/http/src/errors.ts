/** An error with an HTTP status. Messages of 4xx errors are shown to the caller; 5xx messages are not. */
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
    this.name = 'HttpError';
    // 4xx messages are for the caller; a 5xx one only when it says nothing internal (a 503's "retry later").
    this.expose = options?.expose ?? statusCode < 500;
  }
}

function defaultCode(status: number): string {
  return (
    (
      {
        400: 'bad_request',
        403: 'forbidden',
        404: 'not_found',
        405: 'method_not_allowed',
        413: 'payload_too_large',
        415: 'unsupported_media_type',
        502: 'upstream_error',
      } as Record<number, string>
    )[status] ?? (status < 500 ? 'client_error' : 'internal_error')
  );
}

export const badRequest = (message: string, code = 'bad_request') => new HttpError(400, message, code);
