/**
 * ApiVersions (18) v0–v2 (spec §4.1). Versions above 2 are answered by the server in the v0 layout.
 * @module
 */
import type { ApiDefinition } from '../api.ts';
import { ApiKey, ErrorCode } from '../api.ts';
import { Writer } from '../protocol/writer.ts';

/** Encodes an ApiVersions response body for `version` (throttle time only for v1+, at the end). */
export function encodeApiVersions(
  apis: readonly ApiDefinition[],
  version: number,
  errorCode: number,
): Buffer {
  const sorted = [...apis].sort((a, b) => a.key - b.key);
  const w = new Writer()
    .int16(errorCode)
    .array(sorted, (w, api) => w.int16(api.key).int16(api.minVersion).int16(api.maxVersion));
  if (version >= 1) w.int32(0);
  return w.toBuffer();
}

/** The ApiVersions API, listing `all()` (which should include this definition). */
export function apiVersionsApi(all: () => readonly ApiDefinition[]): ApiDefinition {
  return {
    key: ApiKey.ApiVersions,
    name: 'ApiVersions',
    minVersion: 0,
    maxVersion: 2,
    handle: (ctx) => encodeApiVersions(all(), ctx.apiVersion, ErrorCode.NONE),
  };
}
