/**
 * Typed errors. HTTP bindings map `status` to the response code; event bindings read `retriable`.
 * Always construct with a message and, where there is one, `{ cause }`.
 * @module
 */

/** One problem with one input field, e.g. `{ path: 'amount', message: 'must be positive' }`. */
export interface FieldIssue {
  path: string;
  message: string;
}

export interface AppErrorOptions {
  cause?: unknown;
  details?: FieldIssue[];
}

/**
 * Base of every error the runtime knows how to report. Subclasses carry the intent.
 * @example
 * if (error instanceof AppError) log.warn({ code: error.code, status: error.status }, error.message);
 */
export abstract class AppError extends Error {
  /** HTTP status when this error ends an HTTP invocation. */
  abstract readonly status: number;
  /** Stable machine-readable code, e.g. `validation_failed`. */
  abstract readonly code: string;
  /** Whether an event handler failing with this error should be retried. */
  readonly retriable: boolean = false;
  readonly details: FieldIssue[] | undefined;

  constructor(message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.details = options.details;
  }
}

/**
 * Input that is syntactically wrong (malformed JSON, wrong types, bad ids): 400.
 * @example
 * throw new ValidationError('Invalid amount', { details: [{ path: 'amount', message: 'must be positive' }] });
 */
export class ValidationError extends AppError {
  readonly status = 400;
  readonly code = 'validation_failed';
}

/**
 * Input that is well-formed but cannot be accepted (e.g. an idempotency key reused with another body): 422.
 * @example
 * throw new UnprocessableError(`Idempotency-Key ${key} was used with another request body`);
 */
export class UnprocessableError extends AppError {
  readonly status = 422;
  readonly code = 'unprocessable';
}

/**
 * The addressed resource does not exist: 404.
 * @example
 * if (order === undefined) throw new NotFoundError(`Order ${id} not found`);
 */
export class NotFoundError extends AppError {
  readonly status = 404;
  readonly code = 'not_found';
}

/**
 * The request conflicts with the current state: 409.
 * @example
 * throw new ConflictError(`Order ${id} already exists with another amount`);
 */
export class ConflictError extends AppError {
  readonly status = 409;
  readonly code = 'conflict';
}

/**
 * The request body is larger than the configured limit: 413.
 * @example
 * throw new PayloadTooLargeError('An order has at most 100 items');
 */
export class PayloadTooLargeError extends AppError {
  readonly status = 413;
  readonly code = 'payload_too_large';
}

/**
 * An event that can never succeed: dead-lettered at once, without retries.
 * @example
 * throw new NonRetriableError(`Currency ${currency} is not supported`);
 */
export class NonRetriableError extends AppError {
  readonly status = 422;
  readonly code = 'non_retriable';
}

/**
 * A transient failure: the event is retried with backoff (optionally not before `delayMs`).
 * @example
 * throw new RetryLaterError('Payment provider unavailable', { cause: error, delayMs: 2_000 });
 */
export class RetryLaterError extends AppError {
  readonly status = 503;
  readonly code = 'retry_later';
  override readonly retriable = true;
  readonly delayMs: number | undefined;

  constructor(message: string, options: AppErrorOptions & { delayMs?: number } = {}) {
    super(message, options);
    this.delayMs = options.delayMs;
  }
}

/**
 * True for errors worth another attempt: `RetryLaterError`, and any error that is not an `AppError` (unknown = maybe transient).
 * @example
 * const next = isRetriable(error) && attempt < policy.attempts ? 'retry' : 'dead-letter';
 */
export function isRetriable(error: unknown): boolean {
  return error instanceof AppError ? error.retriable : true;
}
