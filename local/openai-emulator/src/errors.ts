/** An error the emulator answers in OpenAI's shape: `{"error": {message, type, param, code}}`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type: string,
    readonly param: string | null = null,
    readonly code: string | null = null,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  static invalid(message: string, param: string | null): ApiError {
    return new ApiError(400, message, 'invalid_request_error', param, null);
  }

  static notFound(message: string): ApiError {
    return new ApiError(404, message, 'invalid_request_error', null, 'not_found');
  }

  body() {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}
