/**
 * Tracing helpers over the OpenTelemetry API only (the SDK is started by the app layer, `app/tracing.ts`).
 * The bindings trace only when `RuntimeEnv.tracer` is set, so with tracing off not even a no-op span is made.
 * W3C `traceparent` / `tracestate` travel in HTTP request headers, in the outbox row's `headers` (written by
 * the transaction that emits the event) and in the Kafka message headers (rewritten by the relay to its
 * publish span), so one order is one trace. Attribute names follow the OpenTelemetry semantic conventions.
 * @module
 */
import {
  type Attributes,
  type Context,
  context,
  propagation,
  ROOT_CONTEXT,
  type Span,
  type SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';

export { SpanKind } from '@opentelemetry/api';
export type { Tracer };

/** The tracer of the runtime's spans. */
export function runtimeTracer(): Tracer {
  return trace.getTracer('orderflow');
}

type Carrier = Record<string, Buffer | string | readonly (Buffer | string)[] | undefined>;

/** The context a carrier (HTTP or Kafka headers, an outbox row's headers) continues; the root when none. */
export function extractContext(headers: Carrier): Context {
  const text: Record<string, string> = {};
  for (const name of ['traceparent', 'tracestate']) {
    const value = headers[name];
    const first = Array.isArray(value) ? value[0] : value;
    if (first !== undefined) text[name] = String(first);
  }
  return propagation.extract(ROOT_CONTEXT, text);
}

/** Writes `traceparent` (and `tracestate`) of `ctx` into `headers`. */
export function injectContext(ctx: Context, headers: Record<string, string>): void {
  propagation.inject(ctx, headers);
}

/** The active context (for `injectContext` where the caller has no span of its own). */
export const activeContext = (): Context => context.active();

/**
 * Runs `work` inside a new span (child of `parent`, default the active context), ends it, and marks it as
 * failed when `work` throws. Without a tracer it is just `work()`.
 */
export async function inSpan<T>(
  tracer: Tracer | undefined,
  name: string,
  options: { kind: SpanKind; attributes?: Attributes; parent?: Context },
  work: (span: Span | undefined) => Promise<T>,
): Promise<T> {
  if (tracer === undefined) return work(undefined);
  const parent = options.parent ?? context.active();
  const span = tracer.startSpan(
    name,
    { kind: options.kind, ...(options.attributes === undefined ? {} : { attributes: options.attributes }) },
    parent,
  );
  try {
    return await context.with(trace.setSpan(parent, span), () => work(span));
  } catch (error) {
    failed(span, error);
    throw error;
  } finally {
    span.end();
  }
}

/** Marks `span` as failed by `error`. */
export function failed(span: Span, error: unknown): void {
  span.recordException(error instanceof Error ? error : String(error));
  span.setStatus({
    code: SpanStatusCode.ERROR,
    message: error instanceof Error ? error.message : String(error),
  });
}

/** `trace_id` / `span_id` of the active span, for log lines (pino `mixin`); empty when there is none. */
export function traceFields(): { trace_id?: string; span_id?: string } {
  const span = trace.getSpan(context.active());
  if (span === undefined) return {};
  const { traceId, spanId, traceFlags } = span.spanContext();
  return traceFlags === undefined ? {} : { trace_id: traceId, span_id: spanId };
}

/** Start a span and make it the parent of what runs in `work` (without ending it): batch items. */
export function startChild(
  tracer: Tracer,
  name: string,
  options: { kind: SpanKind; attributes?: Attributes; parent: Context },
): { span: Span; context: Context } {
  const span = tracer.startSpan(
    name,
    { kind: options.kind, ...(options.attributes === undefined ? {} : { attributes: options.attributes }) },
    options.parent,
  );
  return { span, context: trace.setSpan(options.parent, span) };
}

/** Runs `work` with `ctx` active. */
export function withContext<T>(ctx: Context | undefined, work: () => T): T {
  return ctx === undefined ? work() : context.with(ctx, work);
}
