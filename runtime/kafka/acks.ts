/**
 * The acks every send uses. Apart from `client.ts` so that the modules needing only this constant
 * (publisher, dead-lettering, topic log) do not load kafkajs: a process loads it when it builds its client.
 * @module
 */

/** Acks for every send: all in-sync replicas (required by the idempotent producer). */
export const ACKS_ALL = -1;
