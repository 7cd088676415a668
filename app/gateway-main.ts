/**
 * The gateway's entry point (`node dist/gateway.js`): serves every HTTP route of the manifest on `PORT`
 * (default 5000) and forwards each to its function's container (`UPSTREAM_<FUNCTION_ID>`, default
 * `http://<function-id>:5000`). See `app/gateway.ts` and `app/gateway-config.ts`.
 * @module
 */
import { manifest } from '../functions/manifest.ts';
import { exitOnConfigError } from '../runtime/config.ts';
import type { AnyHttpFunction } from '../runtime/define.ts';
import { DEFAULT_OPENAPI_INFO } from '../runtime/http/app.ts';
import { createLogger } from '../runtime/logger.ts';
import { createMetrics } from '../runtime/metrics/metrics.ts';
import { gatewayRoutes, opsRoutes, startGateway } from './gateway.ts';
import { loadGatewayConfig } from './gateway-config.ts';
import { onShutdownSignal } from './signals.ts';

async function main(): Promise<void> {
  const routes = gatewayRoutes(manifest);
  const config = exitOnConfigError(() => loadGatewayConfig([...new Set(routes.map((r) => r.functionId))]));
  const logger = createLogger({ level: config.logLevel, name: 'gateway' });
  // `/ops` only when configured: it carries its own bearer token, checked by the process behind it.
  const ops = config.opsUpstream === undefined ? [] : opsRoutes();
  const gateway = await startGateway({
    routes: [...routes, ...ops],
    upstreams: {
      ...config.upstreams,
      ...(config.opsUpstream === undefined ? {} : { ops: config.opsUpstream }),
    },
    timeoutMs: config.timeoutMs,
    readyTimeoutMs: config.readyTimeoutMs,
    logger,
    port: config.port,
    host: config.host,
    shutdownTimeoutMs: config.shutdownTimeoutMs,
    metrics: createMetrics(),
    openapi: async () =>
      (await import('../runtime/http/openapi.ts')).openApiDocument(
        manifest.filter((fn): fn is AnyHttpFunction => fn.kind === 'http'),
        DEFAULT_OPENAPI_INFO,
      ),
  });
  onShutdownSignal(logger, () => gateway.stop());
  logger.info({ upstreams: config.upstreams }, 'gateway ready');
}

main().catch((error: unknown) => {
  process.stderr.write(`fatal: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
