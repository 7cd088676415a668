/**
 * An embedded, single-node broker speaking the Kafka wire protocol, for tests and local
 * development with kafkajs or librdkafka clients. See README.md for what it is and is not.
 *
 * @example
 * const broker = await startBroker({ port: 0 });
 * const kafka = new Kafka({ brokers: broker.brokers });
 * // ...
 * await broker.stop();
 * @module
 */
import type { ApiDefinition, BrokerLogger, BrokerNode } from './api.ts';
import { apiVersionsApi } from './apis/api-versions.ts';
import type { BrokerDeps } from './apis/context.ts';
import { createPartitionsApi } from './apis/create-partitions.ts';
import { createTopicsApi } from './apis/create-topics.ts';
import { deleteTopicsApi } from './apis/delete-topics.ts';
import { fetchApi } from './apis/fetch.ts';
import { initProducerIdApi } from './apis/init-producer-id.ts';
import { listOffsetsApi } from './apis/list-offsets.ts';
import { metadataApi } from './apis/metadata.ts';
import { produceApi } from './apis/produce.ts';
import { GroupCoordinator } from './group/index.ts';
import { LogStore } from './log/log-store.ts';
import { createStderrLogger } from './logger.ts';
import { BrokerServer } from './server.ts';

export type { BrokerLogger, LogFields } from './api.ts';
export { createStderrLogger, silentLogger } from './logger.ts';

/** Options of {@link startBroker}. */
export interface BrokerOptions {
  /** Interface to listen on. Default `127.0.0.1`. */
  host?: string;
  /** Host name clients are told to connect to. Default: `host`, or `127.0.0.1` when `host` is a wildcard. */
  advertisedHost?: string;
  /** TCP port; 0 (default) picks a free one. */
  port?: number;
  /** Directory for durable logs and offsets; absent = everything in memory. */
  dataDir?: string;
  /** Partitions of auto-created topics and of CreateTopics with -1. Default 1. */
  defaultPartitions?: number;
  /** Create unknown topics on Metadata requests. Default true. */
  autoCreateTopics?: boolean;
  /** Largest request frame accepted; larger ones close the connection. Default 8 MiB. */
  maxFrameBytes?: number;
  /** Node id advertised in Metadata and FindCoordinator. Default 1. */
  nodeId?: number;
  /** Where log lines go. Default: stderr, warnings and errors only. */
  logger?: BrokerLogger;
  /** Period of the background fsync of data not fsynced by acks=-1 produces. Default 1000 ms. */
  flushIntervalMs?: number;
}

/** A started broker. */
export interface RunningBroker {
  /** Bootstrap list for clients, e.g. `['127.0.0.1:40123']`. */
  brokers: string[];
  /** Advertised host. */
  host: string;
  /** Bound port. */
  port: number;
  /** Closes every connection, fsyncs and closes files. Safe to call twice. */
  stop(): Promise<void>;
}

const WILDCARD = new Set(['0.0.0.0', '::', '']);

/**
 * Starts a broker and resolves once it is listening.
 *
 * @example
 * const broker = await startBroker({ dataDir: '.data/kafka', defaultPartitions: 3 });
 * console.log(broker.brokers); // ['127.0.0.1:39617']
 */
export async function startBroker(options: BrokerOptions = {}): Promise<RunningBroker> {
  const host = options.host ?? '127.0.0.1';
  const advertisedHost = options.advertisedHost ?? (WILDCARD.has(host) ? '127.0.0.1' : host);
  const logger = options.logger ?? createStderrLogger();
  const maxFrameBytes = options.maxFrameBytes ?? 8 * 1024 * 1024;
  let port = options.port ?? 0;
  const node = (): BrokerNode => ({ nodeId: options.nodeId ?? 1, host: advertisedHost, port });

  const store = LogStore.open({ dataDir: options.dataDir, logger, flushIntervalMs: options.flushIntervalMs });
  const coordinator = await createCoordinator(node, options.dataDir, logger);
  const deps: BrokerDeps = {
    store,
    node,
    logger,
    autoCreateTopics: options.autoCreateTopics ?? true,
    defaultPartitions: options.defaultPartitions ?? 1,
    maxMessageBytes: maxFrameBytes,
    onTopicDeleted: (topic) => coordinator.deleteTopicOffsets(topic),
  };
  const apis: ApiDefinition[] = [
    produceApi(deps),
    fetchApi(deps),
    listOffsetsApi(deps),
    metadataApi(deps),
    createTopicsApi(deps),
    deleteTopicsApi(deps),
    initProducerIdApi(deps),
    createPartitionsApi(deps),
    ...coordinator.apis(),
  ];
  apis.push(apiVersionsApi(() => apis));

  let server: BrokerServer;
  try {
    server = await BrokerServer.listen({ host, port, maxFrameBytes, logger, apis });
  } catch (err) {
    await coordinator.stop();
    await store.close();
    throw err;
  }
  port = server.port;
  logger.info('broker listening', { host, port, dataDir: options.dataDir ?? null });

  let stopping: Promise<void> | null = null;
  return {
    brokers: [`${advertisedHost}:${port}`],
    host: advertisedHost,
    port,
    stop() {
      stopping ??= (async () => {
        await server.close();
        await coordinator.stop();
        await store.close();
      })();
      return stopping;
    },
  };
}

async function createCoordinator(
  node: () => BrokerNode,
  dataDir: string | undefined,
  logger: BrokerLogger,
): Promise<GroupCoordinator> {
  const coordinator = new GroupCoordinator({ node, dataDir, logger });
  await coordinator.load();
  return coordinator;
}
