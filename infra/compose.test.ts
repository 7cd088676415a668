/**
 * infra/docker-compose.yml against the manifest: the compose file is written by hand, these tests keep it in
 * step with functions/manifest.ts (a new function without a service, or a stale service, fails here), and
 * .env.example in step with every variable the code and the compose file read.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { gatewayRoutes } from '../app/gateway.ts';
import { GATEWAY_VARIABLES, upstreamVariable } from '../app/gateway-config.ts';
import { topicSpecs } from '../app/system.ts';
import { manifest, servicesOf } from '../functions/manifest.ts';
import { CONFIG_VARIABLES } from '../runtime/config.ts';

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string | number>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test?: string[]; disable?: boolean; start_period?: string };
  restart?: string;
  ports?: string[];
}

const composeText = readFileSync(new URL('./docker-compose.yml', import.meta.url), 'utf8');
const compose = parse(composeText, { merge: true }) as { services: Record<string, Service> };
const services = compose.services;
const envExample = readFileSync(new URL('../.env.example', import.meta.url), 'utf8');

// biome-ignore lint/suspicious/noTemplateCurlyInString: compose's own interpolation syntax
const FUNCTION_IMAGE = '${ORDERFLOW_IMAGE:-orderflow:local}';
const isFunctionService = (s: Service) => s.command?.[0] === 'serve';
const httpFunctionIds = [...new Set(gatewayRoutes(manifest).map((r) => r.functionId))];

describe('docker-compose.yml: one service per function of the manifest', () => {
  it.each(manifest.map((fn) => [fn.id, fn] as const))(
    '%s has a service running `serve <its id>`',
    (id, fn) => {
      const service = services[id];
      expect(service, `service "${id}"`).toBeDefined();
      expect(service!.command).toEqual(['serve', id]);
      expect(service!.image).toBe(FUNCTION_IMAGE);
      expect(service!.restart).toBe('unless-stopped');
      expect(service!.healthcheck?.test?.join(' ')).toContain('127.0.0.1:5000/healthz');
      expect(service!.depends_on).toEqual({
        kafka: { condition: 'service_healthy' },
        sqlserver: { condition: 'service_healthy' },
        migrate: { condition: 'service_completed_successfully' },
        topics: { condition: 'service_completed_successfully' },
      });
      const env = service!.environment ?? {};
      expect(env.KAFKA_BROKERS).toBe('kafka:9092');
      expect(env.PORT).toBe('5000');
      for (const store of servicesOf([fn])) {
        expect(env[`${store.toUpperCase()}_DATABASE_URL`]).toMatch(
          new RegExp(`^mssql://sa:\\$\\{MSSQL_SA_PASSWORD[^}]*\\}@sqlserver:1433/${store}\\?`),
        );
      }
    },
  );

  it('has no function service the manifest lacks, and publishes no port but the gateway’s', () => {
    const serving = Object.entries(services).filter(([, s]) => isFunctionService(s));
    expect(serving.map(([name]) => name).sort()).toEqual(manifest.map((fn) => fn.id).sort());
    const published = Object.entries(services).filter(([, s]) => (s.ports ?? []).length > 0);
    expect(published.map(([name]) => name)).toEqual(['gateway']);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: compose's own interpolation syntax
    expect(services.gateway!.ports).toEqual(['${GATEWAY_PORT:-5000}:5000']);
  });
});

describe('docker-compose.yml: one-shot jobs', () => {
  it('creates the topics with the manifest-driven command, after Kafka is healthy', () => {
    const topics = services.topics!;
    expect(topics.image).toBe(FUNCTION_IMAGE);
    expect(topics.command).toEqual(['topics']);
    expect(topics.entrypoint).toBeUndefined(); // the image's: node --enable-source-maps dist/main.js
    expect(topics.restart).toBe('no');
    expect(topics.environment?.KAFKA_BROKERS).toBe('kafka:9092');
    expect(topics.environment?.TOPIC_PARTITIONS).toBeDefined();
    expect(topics.depends_on).toEqual({ kafka: { condition: 'service_healthy' } });
  });

  it('names no topic itself (the job derives them all from the manifest)', () => {
    const names = topicSpecs(1).map((spec) => spec.topic);
    expect(names.length).toBeGreaterThan(0);
    expect(names.filter((name) => name.endsWith('.dlq')).length).toBe(
      manifest.filter((fn) => fn.kind === 'event').length,
    );
    const tokens = new Set(composeText.split(/[^A-Za-z0-9._-]+/));
    expect(names.filter((name) => tokens.has(name))).toEqual([]);
    expect(composeText).not.toMatch(/\.dlq\b|kafka-topics\.sh --create/);
    expect(services.kafka!.environment?.KAFKA_AUTO_CREATE_TOPICS_ENABLE).toBe('false');
  });

  it('migrates after the databases exist, which sqlserver-init creates once SQL Server is healthy', () => {
    const migrate = services.migrate!;
    expect(migrate.image).toBe(FUNCTION_IMAGE);
    expect(migrate.command).toEqual(['migrate']);
    expect(migrate.depends_on).toEqual({
      sqlserver: { condition: 'service_healthy' },
      'sqlserver-init': { condition: 'service_completed_successfully' },
    });
    for (const store of servicesOf(manifest)) {
      expect(migrate.environment?.[`${store.toUpperCase()}_DATABASE_URL`]).toContain(
        `@sqlserver:1433/${store}?`,
      );
    }
    const init = services['sqlserver-init']!;
    expect(init.depends_on).toEqual({ sqlserver: { condition: 'service_healthy' } });
    const script = init.entrypoint!.join(' ');
    expect(script).toContain('/opt/mssql-tools18/bin/sqlcmd');
    for (const store of servicesOf(manifest)) expect(script).toContain(`CREATE DATABASE [${store}]`);
  });

  it('builds one image, and every job and function service runs it', () => {
    const built = Object.entries(services).filter(([, s]) => s.build !== undefined);
    for (const [, s] of built) {
      expect(s.build).toEqual({ context: '..', dockerfile: 'infra/Dockerfile' });
      expect(s.image).toBe(FUNCTION_IMAGE);
    }
    expect(built.map(([name]) => name).sort()).toEqual(
      [...manifest.map((fn) => fn.id), 'gateway', 'migrate', 'topics'].sort(),
    );
  });
});

describe('docker-compose.yml: infrastructure and gateway', () => {
  it('runs Kafka (KRaft, single node) and SQL Server from their official images, each with a healthcheck', () => {
    const kafka = services.kafka!;
    expect(kafka.image).toMatch(/^apache\/kafka:\d/);
    expect(kafka.environment).toMatchObject({
      KAFKA_PROCESS_ROLES: 'broker,controller',
      KAFKA_ADVERTISED_LISTENERS: 'PLAINTEXT://kafka:9092',
    });
    expect(kafka.healthcheck?.test?.join(' ')).toContain('--bootstrap-server localhost:9092');
    const sql = services.sqlserver!;
    expect(sql.image).toMatch(/^mcr\.microsoft\.com\/mssql\/server:/);
    expect(sql.environment).toMatchObject({ ACCEPT_EULA: 'Y' });
    expect(String(sql.environment?.MSSQL_SA_PASSWORD)).toMatch(/^\$\{MSSQL_SA_PASSWORD:\?/);
    expect(sql.healthcheck?.test?.join(' ')).toContain('sqlcmd');
  });

  it('gives every long-running service a healthcheck and every one-shot job none', () => {
    for (const [name, service] of Object.entries(services)) {
      if (service.restart === 'no') expect(service.healthcheck, name).toEqual({ disable: true });
      else expect(service.healthcheck?.test?.length, name).toBeGreaterThan(0);
    }
  });

  it('points the gateway at every HTTP function, waiting for each to be healthy', () => {
    const gateway = services.gateway!;
    expect(gateway.entrypoint).toEqual(['node', '--enable-source-maps', 'dist/gateway.js']);
    for (const id of httpFunctionIds) {
      expect(gateway.environment?.[upstreamVariable(id)]).toBe(
        `\${${upstreamVariable(id)}:-http://${id}:5000}`,
      );
      expect(services[id]?.command).toEqual(['serve', id]);
      expect(gateway.depends_on?.[id]).toEqual({ condition: 'service_healthy' });
    }
    const upstreamVars = Object.keys(gateway.environment ?? {}).filter((v) => v.startsWith('UPSTREAM_'));
    expect(upstreamVars.sort()).toEqual(httpFunctionIds.map(upstreamVariable).sort());
  });
});

describe('.env.example', () => {
  const documented = new Set(
    [...envExample.matchAll(/^(?:#\s*)?([A-Z][A-Z0-9_]*)=/gm)].map((match) => match[1]!),
  );

  it('documents every variable of the code: config, FUNCTION_ID, gateway and one upstream per HTTP function', () => {
    const expected = [
      ...CONFIG_VARIABLES,
      'FUNCTION_ID',
      ...GATEWAY_VARIABLES,
      ...httpFunctionIds.map(upstreamVariable),
    ];
    expect(expected.filter((name) => !documented.has(name))).toEqual([]);
  });

  it('documents every variable the compose file interpolates', () => {
    const interpolated = new Set([...composeText.matchAll(/\$\{([A-Z][A-Z0-9_]*)/g)].map((m) => m[1]!));
    expect([...interpolated].filter((name) => !documented.has(name))).toEqual([]);
    expect(interpolated.has('MSSQL_SA_PASSWORD')).toBe(true);
  });
});
