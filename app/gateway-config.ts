/**
 * The gateway's configuration: `PORT`, `HOST`, `LOG_LEVEL`, `SHUTDOWN_TIMEOUT_MS` as every process reads
 * them (`runtime/config.ts`), plus one upstream URL per HTTP function and the upstream timeouts.
 *
 *   UPSTREAM_<FUNCTION_ID>        base URL of that function, e.g. UPSTREAM_CREATE_ORDER=http://create-order:5000
 *                                 (default `http://<function-id>:5000`: the compose service name, port 5000)
 *   GATEWAY_TIMEOUT_MS            longest wait for an upstream's response; then 504 (default 10000)
 *   GATEWAY_READY_TIMEOUT_MS      longest wait for each upstream's /readyz (default 2000)
 * @module
 */
import { z } from 'zod';
import {
  ConfigError,
  type ConfigIssue,
  loadConfig,
  type Config as ProcessConfig,
} from '../runtime/config.ts';
import type { LogLevel } from '../runtime/logger.ts';
import { redactUrl } from '../runtime/redact.ts';

export interface GatewayConfig {
  port: number;
  host: string;
  logLevel: LogLevel;
  shutdownTimeoutMs: number;
  timeoutMs: number;
  readyTimeoutMs: number;
  /** Base URL per function id. */
  upstreams: Readonly<Record<string, string>>;
  /** `GATEWAY_OPS_UPSTREAM`: forward `/ops/…` there; undefined (the default) = the gateway never forwards `/ops`. */
  opsUpstream: string | undefined;
}

/** The variables only the gateway reads (besides one `UPSTREAM_<ID>` per HTTP function). */
export const GATEWAY_VARIABLES = [
  'GATEWAY_TIMEOUT_MS',
  'GATEWAY_READY_TIMEOUT_MS',
  'GATEWAY_OPS_UPSTREAM',
] as const;

/** `create-order` → `UPSTREAM_CREATE_ORDER`. */
export function upstreamVariable(functionId: string): string {
  return `UPSTREAM_${functionId.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

/** `create-order` → `http://create-order:5000`: the function's compose service on the default port. */
export function defaultUpstream(functionId: string): string {
  return `http://${functionId}:5000`;
}

const timeout = (fallback: number) =>
  z
    .string()
    .refine((s) => /^\d+$/.test(s) && Number(s) >= 1 && Number(s) <= 600_000, {
      error: 'must be an integer between 1 and 600000',
    })
    .transform(Number)
    .default(fallback);

const upstreamUrl = z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' });

/**
 * Reads the gateway's configuration for the given HTTP function ids (empty values count as unset).
 * @throws ConfigError naming every bad variable.
 * @example const config = exitOnConfigError(() => loadGatewayConfig(['create-order', 'get-order']));
 */
export function loadGatewayConfig(
  functionIds: readonly string[],
  env: Record<string, string | undefined> = process.env,
): GatewayConfig {
  const issues: ConfigIssue[] = [];
  let base: ProcessConfig | undefined;
  try {
    base = loadConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    issues.push(...error.issues);
  }
  const value = (name: string) => {
    const raw = env[name]?.trim();
    return raw === '' ? undefined : raw;
  };
  const read = <T>(name: string, schema: z.ZodType<T, string | undefined>): T | undefined => {
    const parsed = schema.safeParse(value(name));
    if (parsed.success) return parsed.data;
    issues.push({
      variable: name,
      message: `${parsed.error.issues[0]?.message} (got ${JSON.stringify(redactUrl(String(value(name))))})`,
    });
    return undefined;
  };
  const timeoutMs = read('GATEWAY_TIMEOUT_MS', timeout(10_000));
  const readyTimeoutMs = read('GATEWAY_READY_TIMEOUT_MS', timeout(2_000));
  const upstreams: Record<string, string> = {};
  for (const id of functionIds) {
    const url = read(upstreamVariable(id), upstreamUrl.default(defaultUpstream(id)));
    if (url !== undefined) upstreams[id] = url;
  }
  const opsUpstream = read('GATEWAY_OPS_UPSTREAM', upstreamUrl.optional());
  if (issues.length > 0 || base === undefined) throw new ConfigError(issues);
  return Object.freeze({
    port: base.port,
    host: base.host,
    logLevel: base.logLevel,
    shutdownTimeoutMs: base.shutdownTimeoutMs,
    timeoutMs: timeoutMs!,
    readyTimeoutMs: readyTimeoutMs!,
    upstreams: Object.freeze(upstreams),
    opsUpstream,
  });
}
