/**
 * vitest globalSetup: detects ONCE per test run whether a container runtime is reachable and provides the
 * answer to every test file (`inject('containerRuntime')`), so each testcontainers suite skips itself in
 * one line instead of each probing (or failing) on its own. With `REQUIRE_DOCKER=1` a missing runtime
 * fails the run: CI that has Docker must really run those suites.
 *
 * Registered at the root of `vitest.config.ts`; both projects (unit, int) inherit it, and the probe is
 * memoised in the process, so it runs once either way (~0.3 s when there is no runtime).
 */
import type { TestProject } from 'vitest/node';
import { type ContainerRuntime, probeContainerRuntime, requireRuntime } from './container-runtime.ts';

const KEY = Symbol.for('orderflow.containerRuntime');

export default async function setup(project: TestProject): Promise<void> {
  const memo = globalThis as { [KEY]?: Promise<ContainerRuntime> };
  memo[KEY] ??= probeContainerRuntime();
  const runtime = await memo[KEY];
  requireRuntime(runtime);
  project.provide('containerRuntime', runtime);
}
