/**
 * Small encoding helpers shared by the group coordinator's wire handlers.
 * @module
 */
import { Writer } from '../protocol/writer.ts';

/**
 * Starts a response body, writing `throttle_time_ms = 0` first when `version >= throttleFrom`
 * (the position used by every group API that has the field, spec §13 pitfall 3).
 *
 * @example
 * responseWriter(ctx.apiVersion, 1).int16(errorCode).toBuffer(); // Heartbeat v0 / v1+
 */
export const responseWriter = (version: number, throttleFrom: number): Writer => {
  const w = new Writer();
  if (version >= throttleFrom) w.int32(0);
  return w;
};
