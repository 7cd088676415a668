/**
 * InitProducerId (22) v0–v1 (spec §4.16): idempotent producers only. A transactional id is
 * refused with TRANSACTIONAL_ID_AUTHORIZATION_FAILED: this broker has no transactions, and failing
 * at connect is clearer than failing at the first AddPartitionsToTxn.
 * @module
 */
import type { ApiDefinition } from '../api.ts';
import { ApiKey, ErrorCode } from '../api.ts';
import { Writer } from '../protocol/writer.ts';
import type { BrokerDeps } from './context.ts';

/** The InitProducerId API. */
export function initProducerIdApi(deps: BrokerDeps): ApiDefinition {
  return {
    key: ApiKey.InitProducerId,
    name: 'InitProducerId',
    minVersion: 0,
    maxVersion: 1,
    handle(_ctx, r) {
      const transactionalId = r.nullableString();
      r.int32(); // transaction_timeout_ms
      const w = new Writer().int32(0);
      if (transactionalId !== null) {
        return w.int16(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED).int64(-1).int16(-1).toBuffer();
      }
      return w.int16(ErrorCode.NONE).int64(deps.store.allocateProducerId()).int16(0).toBuffer();
    },
  };
}
