/**
 * Test helpers for per-function tests: invoke a function through the real runtime (validation, error mapping,
 * transactions, outbox, inbox) over a real database, with no server and no broker.
 * @module
 */
export { createTestEnv, DEFAULT_TEST_TIME, type TestEnv, type TestEnvOptions } from './env.ts';
export { type InvokeEventOptions, invokeEvent, toRawMessage } from './invoke-event.ts';
export {
  type HttpTestRequest,
  type HttpTestResponse,
  type InvokeHttpOptions,
  invokeHttp,
} from './invoke-http.ts';
