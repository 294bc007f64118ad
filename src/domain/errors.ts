/**
 * Errors carry a stable code, an HTTP status where one applies, and a cause.
 * The HTTP layer maps them to responses in one place (runtime/http-server.ts).
 */
export type ErrorCode =
  | 'invalid_input'
  | 'payload_too_large'
  | 'rate_limited'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'unsupported_media_type'
  | 'event_log_unavailable'
  | 'store_unavailable'
  | 'config_invalid'
  | 'internal';

const STATUS: Record<ErrorCode, number> = {
  invalid_input: 400,
  payload_too_large: 413,
  rate_limited: 429,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  unsupported_media_type: 415,
  event_log_unavailable: 503,
  store_unavailable: 503,
  config_invalid: 500,
  internal: 500,
};

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly details: string[];
  readonly retryAfterSeconds: number | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options: { details?: string[]; cause?: unknown; retryAfterSeconds?: number } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.details = options.details ?? [];
    this.retryAfterSeconds = options.retryAfterSeconds;
  }

  get status(): number {
    return STATUS[this.code];
  }
}

export const invalidInput = (message: string, details: string[] = []): AppError =>
  new AppError('invalid_input', message, { details });
