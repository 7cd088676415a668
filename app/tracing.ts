/**
 * Starts the OpenTelemetry SDK (`@opentelemetry/sdk-node`) when the environment asks for traces:
 * `OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` is set, or `OTEL_TRACES_EXPORTER` names an
 * exporter other than `none`. The SDK then reads every standard `OTEL_*` variable itself (protocol, e.g.
 * `OTEL_EXPORTER_OTLP_PROTOCOL=http/json`, headers, sampler, resource attributes); `OTEL_SERVICE_NAME` defaults
 * to the given name (the function id, or `orderflow` for the all-in-one process). Off, nothing is loaded or
 * registered and the runtime makes no spans at all. No auto-instrumentation: the runtime makes its own spans.
 * @module
 */
import { context, propagation, trace } from '@opentelemetry/api';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { runtimeTracer, type Tracer } from '../runtime/tracing/tracing.ts';

export interface Tracing {
  readonly tracer: Tracer;
  /** Flushes what is buffered and stops exporting. */
  shutdown(): Promise<void>;
}

export interface TracingOptions {
  /** `service.name` unless `OTEL_SERVICE_NAME` is set. */
  serviceName: string;
  env?: Readonly<Record<string, string | undefined>>;
  /** Instead of the exporter the environment names (tests: an in-memory exporter). Turns tracing on. */
  spanProcessors?: SpanProcessor[];
}

/** True when the environment asks for traces. */
export function tracingRequested(env: Readonly<Record<string, string | undefined>>): boolean {
  const exporter = env.OTEL_TRACES_EXPORTER?.trim();
  if (exporter === 'none' || env.OTEL_SDK_DISABLED === 'true') return false;
  return (
    (exporter !== undefined && exporter !== '') ||
    Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT) ||
    Boolean(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)
  );
}

/**
 * Starts tracing, or resolves undefined when it is off.
 * @example
 * const tracing = await startTracing({ serviceName: 'create-order' });
 * const env = { ...env, ...(tracing && { tracer: tracing.tracer }) };
 */
export async function startTracing(options: TracingOptions): Promise<Tracing | undefined> {
  const env = options.env ?? process.env;
  if (options.spanProcessors === undefined && !tracingRequested(env)) return undefined;
  // The SDK registers process-wide globals: a second system in the same process (benchmarks, tests) shares
  // the first one's SDK, which is shut down when the last of them stops.
  shared ??= startSdk(options, env).then((sdk) => ({ sdk, users: 0 }));
  const current = await shared;
  current.users += 1;
  let stopped = false;
  return {
    tracer: runtimeTracer(),
    async shutdown() {
      if (stopped) return;
      stopped = true;
      current.users -= 1;
      if (current.users > 0) return;
      shared = undefined;
      await current.sdk.shutdown();
      // Unregister the globals, so that a later start in this process registers its own SDK.
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
}

let shared: Promise<{ sdk: { shutdown(): Promise<void> }; users: number }> | undefined;

async function startSdk(options: TracingOptions, env: Readonly<Record<string, string | undefined>>) {
  const { NodeSDK } = await import('@opentelemetry/sdk-node');
  const sdk = new NodeSDK({
    ...(env.OTEL_SERVICE_NAME ? {} : { serviceName: options.serviceName }),
    ...(options.spanProcessors === undefined ? {} : { spanProcessors: options.spanProcessors }),
    instrumentations: [],
  });
  sdk.start();
  return sdk;
}
