/**
 * The handler contract shared by the broker's own APIs and the group coordinator.
 * @module
 */
import type { Reader } from './protocol/reader.ts';

/** Per-request information handed to every {@link ApiHandler}. */
export interface RequestContext {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  clientId: string | null;
  /** Remote address of the connection, e.g. `127.0.0.1`. */
  clientHost: string;
  /** Unique per TCP connection for the life of the broker. */
  connectionId: number;
  /** True once the client's socket has closed. */
  readonly closed: boolean;
  /**
   * Runs `cb` once when the connection closes (immediately if it already has). Scoped to this
   * request: the callback is dropped once the request has been answered.
   */
  onClose(cb: () => void): void;
}

/** Response body without the correlation id; `null` = send no response (Produce acks=0). */
export type ApiResult = Buffer | null;

/** Decodes the request body from `body` and returns the encoded response body. */
export type ApiHandler = (ctx: RequestContext, body: Reader) => ApiResult | Promise<ApiResult>;

/** One Kafka API: its key, the version range advertised in ApiVersions, and its handler. */
export interface ApiDefinition {
  key: number;
  name: string;
  minVersion: number;
  maxVersion: number;
  handle: ApiHandler;
}

/** The broker's advertised identity (Metadata broker entry, FindCoordinator answer). */
export interface BrokerNode {
  nodeId: number;
  host: string;
  port: number;
}

/** Structured log fields. */
export type LogFields = Record<string, unknown>;

/** Minimal logger the broker writes to. */
export interface BrokerLogger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

/** Kafka API keys used by this broker. */
export const ApiKey = {
  Produce: 0,
  Fetch: 1,
  ListOffsets: 2,
  Metadata: 3,
  OffsetCommit: 8,
  OffsetFetch: 9,
  FindCoordinator: 10,
  JoinGroup: 11,
  Heartbeat: 12,
  LeaveGroup: 13,
  SyncGroup: 14,
  DescribeGroups: 15,
  ListGroups: 16,
  ApiVersions: 18,
  CreateTopics: 19,
  DeleteTopics: 20,
  InitProducerId: 22,
  CreatePartitions: 37,
  DeleteGroups: 42,
} as const;

/** Kafka error codes (names as in kafkajs `src/protocol/error.js`); spec §9. */
export const ErrorCode = {
  NONE: 0,
  OFFSET_OUT_OF_RANGE: 1,
  CORRUPT_MESSAGE: 2,
  UNKNOWN_TOPIC_OR_PARTITION: 3,
  MESSAGE_TOO_LARGE: 10,
  OFFSET_METADATA_TOO_LARGE: 12,
  INVALID_TOPIC_EXCEPTION: 17,
  INVALID_REQUIRED_ACKS: 21,
  ILLEGAL_GENERATION: 22,
  INCONSISTENT_GROUP_PROTOCOL: 23,
  INVALID_GROUP_ID: 24,
  UNKNOWN_MEMBER_ID: 25,
  INVALID_SESSION_TIMEOUT: 26,
  REBALANCE_IN_PROGRESS: 27,
  UNSUPPORTED_VERSION: 35,
  TOPIC_ALREADY_EXISTS: 36,
  INVALID_PARTITIONS: 37,
  INVALID_REPLICATION_FACTOR: 38,
  INVALID_REQUEST: 42,
  OUT_OF_ORDER_SEQUENCE_NUMBER: 45,
  INVALID_PRODUCER_EPOCH: 47,
  TRANSACTIONAL_ID_AUTHORIZATION_FAILED: 53,
  NON_EMPTY_GROUP: 68,
  GROUP_ID_NOT_FOUND: 69,
} as const;

export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode];
