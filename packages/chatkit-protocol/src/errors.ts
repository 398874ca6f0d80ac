import { HttpError } from '@lead-intake/errors';

/**
 * The protocol's answer errors: each carries the HTTP status the official server's web layer gives
 * for it when it happens before a stream starts (validation 400, not found 404). After a stream
 * has started the same error becomes an SSE `error` event.
 */
export class ProtocolError extends HttpError {
  constructor(status: number, code: string, message: string) {
    super(status, message, code, {}, { expose: true });
  }
}

/** The request does not validate (pydantic's ValidationError in the official server). */
export class InvalidRequestError extends ProtocolError {
  constructor(message: string) {
    super(400, 'invalid_request', message);
  }
}

/** A thread, item or attachment that does not exist for this user (never "exists but not yours"). */
export class NotFoundError extends ProtocolError {
  constructor(what: string) {
    super(404, 'not_found', `${what} not found`);
  }
}

/** A request this server does not serve (the official server's NotImplementedError). */
export class NotSupportedError extends ProtocolError {
  constructor(message: string) {
    super(501, 'not_supported', message);
  }
}

/** The request is valid but the thread's state refuses it (a locked or closed thread). */
export class ConflictError extends ProtocolError {
  constructor(message: string) {
    super(409, 'conflict', message);
  }
}
