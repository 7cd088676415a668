/**
 * The container-runtime probe shared by `containers.global.ts` (which runs it once per test run) and the
 * testcontainers suites (which read its result with `inject('containerRuntime')`).
 * @module
 */
import { getContainerRuntimeClient } from 'testcontainers';

/** Whether testcontainers can start containers here, and why (runtime host, or the error). */
export interface ContainerRuntime {
  available: boolean;
  /** `unix:///var/run/docker.sock`-like host when available, else testcontainers' error message. */
  reason: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    containerRuntime: ContainerRuntime;
  }
}

/**
 * Asks testcontainers' own resolver (honours `DOCKER_HOST`, `~/.testcontainers.properties`,
 * `TESTCONTAINERS_HOST_OVERRIDE`, rootless and podman sockets). `which docker` is no test: the CLI may exist
 * without an engine. Fails within milliseconds when there is none.
 */
export async function probeContainerRuntime(
  probe: () => Promise<{ info: { containerRuntime: { host: string } } }> = getContainerRuntimeClient,
): Promise<ContainerRuntime> {
  try {
    const client = await probe();
    return { available: true, reason: client.info.containerRuntime.host };
  } catch (error) {
    return { available: false, reason: error instanceof Error ? error.message : String(error) };
  }
}

/** The one line a suite prints when it skips itself. */
export function skipLine(suite: string, runtime: ContainerRuntime): string {
  return `[skipped] ${suite} (testcontainers): no container runtime — ${runtime.reason}`;
}

/** `REQUIRE_DOCKER=1` (CI with Docker): a missing runtime fails the run instead of skipping suites. */
export function requireRuntime(
  runtime: ContainerRuntime,
  env: Record<string, string | undefined> = process.env,
): void {
  if (!runtime.available && env.REQUIRE_DOCKER === '1') {
    throw new Error(
      `REQUIRE_DOCKER=1 but no container runtime is reachable: ${runtime.reason}. ` +
        'Start Docker (or set DOCKER_HOST), or unset REQUIRE_DOCKER to let the testcontainers suites skip.',
    );
  }
}
