/**
 * Errors carry a stable code, an HTTP status where one applies, and a cause.
 * The HTTP layer maps them to responses in one place (runtime/http-server.ts); the framework's
 * own refusals (413 body too large, 415, 429, 404) keep its status and have no code here.
 */
export type ErrorCode =
  | 'invalid_input'
  | 'unauthorized'
  | 'forbidden'
  | 'event_log_unavailable'
  | 'store_unavailable'
  /** start-up refused: the CLI prints it and exits 2, it never reaches a client */
  | 'config_invalid';

const STATUS: Record<ErrorCode, number> = {
  invalid_input: 400,
  unauthorized: 401,
  forbidden: 403,
  event_log_unavailable: 503,
  store_unavailable: 503,
  config_invalid: 500,
};

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly details: string[];
  readonly retryAfterSeconds: number | undefined;

  constructor(code: ErrorCode, message: string, options: { details?: string[]; cause?: unknown; retryAfterSeconds?: number } = {}) {
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

export const invalidInput = (message: string, details: string[] = []): AppError => new AppError('invalid_input', message, { details });
