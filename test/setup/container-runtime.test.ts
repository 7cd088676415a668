import { describe, expect, inject, it } from 'vitest';
import { probeContainerRuntime, requireRuntime, skipLine } from './container-runtime.ts';

describe('container runtime probe', () => {
  it('reports a reachable runtime with its host', async () => {
    const runtime = await probeContainerRuntime(async () => ({
      info: { containerRuntime: { host: 'unix:///var/run/docker.sock' } },
    }));
    expect(runtime).toEqual({ available: true, reason: 'unix:///var/run/docker.sock' });
  });

  it("reports testcontainers' error when there is none", async () => {
    const runtime = await probeContainerRuntime(async () => {
      throw new Error('Could not find a working container runtime strategy');
    });
    expect(runtime).toEqual({
      available: false,
      reason: 'Could not find a working container runtime strategy',
    });
    expect(skipLine('SQL Server store suite', runtime)).toBe(
      '[skipped] SQL Server store suite (testcontainers): no container runtime — Could not find a working container runtime strategy',
    );
  });

  it('REQUIRE_DOCKER=1 turns a missing runtime into an error, and is a no-op otherwise', () => {
    const missing = { available: false, reason: 'no socket' };
    expect(() => requireRuntime(missing, { REQUIRE_DOCKER: '1' })).toThrow(
      /REQUIRE_DOCKER=1 but no container runtime is reachable: no socket/,
    );
    expect(() => requireRuntime(missing, {})).not.toThrow();
    expect(() => requireRuntime({ available: true, reason: 'x' }, { REQUIRE_DOCKER: '1' })).not.toThrow();
  });

  it('the globalSetup provided the real probe result to this file', async () => {
    const provided = inject('containerRuntime');
    expect(provided).toEqual(await probeContainerRuntime());
  });
});
