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
 * A transient failure of something the handler called (a provider or webhook answered 5xx or 429, or timed
 * out): not the message's fault. An event consumer pauses and retries (not before `delayMs`) without spending
 * the message's attempts; HTTP answers 503 with `Retry-After`.
 * @example
 * throw new RetryLaterError('Payment provider unavailable', { cause: error, delayMs: 2_000, dependency: 'payment-provider' });
 */
export class RetryLaterError extends AppError {
  readonly status = 503;
  readonly code = 'retry_later';
  override readonly retriable = true;
  readonly delayMs: number | undefined;
  /** What was unavailable, for logs and `/readyz` (default `downstream`). */
  readonly dependency: string;

  constructor(message: string, options: AppErrorOptions & { delayMs?: number; dependency?: string } = {}) {
    super(message, options);
    this.delayMs = options.delayMs;
    this.dependency = options.dependency ?? 'downstream';
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

/**
 * A dependency of the service (its database, the broker, a provider) is unavailable: the failure is the
 * infrastructure's, not the request's or the message's. HTTP answers 503 with `Retry-After`; an event consumer
 * pauses the partition and retries for as long as it takes, spending none of the message's attempts.
 * Stores raise it for their driver's connection errors (`TransactionalStore.isUnavailable`).
 * @example
 * throw new DependencyUnavailableError('db:orders', 'orders database unreachable', { cause: error });
 */
export class DependencyUnavailableError extends AppError {
  readonly status = 503;
  readonly code = 'unavailable';
  override readonly retriable = true;
  /** What is down, e.g. `db:orders`, `payment-provider`. */
  readonly dependency: string;
  /** How long to wait before trying again, at least. */
  readonly retryAfterMs: number;

  constructor(
    dependency: string,
    message: string,
    options: AppErrorOptions & { retryAfterMs?: number } = {},
  ) {
    super(message, options);
    this.dependency = dependency;
    this.retryAfterMs = options.retryAfterMs ?? 1_000;
  }
}

/**
 * A handler (or its `prepare` step) ran longer than its function's `timeoutMs`: counted as a failed attempt of
 * the message, retried with backoff, dead-lettered after the last attempt.
 */
export class HandlerTimeoutError extends AppError {
  readonly status = 504;
  readonly code = 'timeout';
  override readonly retriable = true;
}

/** What an infrastructure failure says about itself: which dependency, and the least wait before a retry. */
export interface InfrastructureFailure {
  dependency: string;
  retryAfterMs: number;
  error: AppError;
}

/**
 * The infrastructure failure `error` is, if it is one: a `DependencyUnavailableError`, or a `RetryLaterError`
 * (a provider or webhook said "not now": 5xx, 429, timeout). Anything else is attributable to the message or
 * request and counts towards its attempts.
 * @example
 * const down = infrastructureFailure(error);
 * if (down !== undefined) pausePartition(down.retryAfterMs);
 */
export function infrastructureFailure(error: unknown): InfrastructureFailure | undefined {
  if (error instanceof DependencyUnavailableError)
    return { dependency: error.dependency, retryAfterMs: error.retryAfterMs, error };
  if (error instanceof RetryLaterError)
    return { dependency: error.dependency, retryAfterMs: error.delayMs ?? 0, error };
  return undefined;
}
