/**
 * infra/docker-compose.yml against the manifest: the compose file is written by hand, these tests keep it in
 * step with functions/manifest.ts (a new function without a service, or a stale service, fails here), and
 * .env.example in step with every variable the code and the compose file read.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { gatewayRoutes } from '../app/gateway.ts';
import { GATEWAY_VARIABLES, upstreamVariable } from '../app/gateway-config.ts';
import { topicSpecs } from '../app/system.ts';
import { manifest, servicesOf } from '../functions/manifest.ts';
import { CONFIG_VARIABLES } from '../runtime/config.ts';

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  pull_policy?: string;
  platform?: string;
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string | number>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test?: string[]; disable?: boolean; start_period?: string };
  restart?: string;
  ports?: string[];
  profiles?: string[];
}

const composeText = readFileSync(new URL('./docker-compose.yml', import.meta.url), 'utf8');
/** Long-running services whose image has no shell or HTTP client to run a healthcheck with. */
const NO_HEALTHCHECK = new Set(['jaeger']);
const compose = parse(composeText, { merge: true }) as { name?: string; services: Record<string, Service> };
const services = compose.services;
const envExample = readFileSync(new URL('../.env.example', import.meta.url), 'utf8');

// biome-ignore lint/suspicious/noTemplateCurlyInString: compose's own interpolation syntax
const FUNCTION_IMAGE = '${ORDERFLOW_IMAGE:-orderflow:local}';
const isFunctionService = (s: Service) => s.command?.[0] === 'serve';
const SQLSERVER_IMAGE = /^mcr\.microsoft\.com\/mssql\/server:/;

/** Every service `name` waits for, directly or through others. */
function dependenciesOf(name: string, seen = new Set<string>()): Set<string> {
  for (const dependency of Object.keys(services[name]?.depends_on ?? {})) {
    if (!seen.has(dependency)) {
      seen.add(dependency);
      dependenciesOf(dependency, seen);
    }
  }
  return seen;
}
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
    // The observability profile's UIs (Prometheus, Grafana) publish theirs only when that profile is asked for.
    const published = Object.entries(services).filter(
      ([, s]) => (s.ports ?? []).length > 0 && !(s.profiles ?? []).includes('observability'),
    );
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

  it('migrates after the databases exist, which sqlserver-init creates once SQL Server answers', () => {
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
    // Started beside SQL Server, not after it is healthy: a bad password must be reported by the job, at once.
    expect(init.depends_on).toEqual({ sqlserver: { condition: 'service_started' } });
    expect(init.entrypoint!.slice(0, 2)).toEqual(['/bin/sh', '-c']);
    const script = init.entrypoint![2]!;
    expect(script).toContain('/opt/mssql-tools18/bin/sqlcmd');
    for (const store of servicesOf(manifest)) expect(script).toContain(`CREATE DATABASE [${store}]`);
  });

  it('builds the image once, in migrate, which every function and the gateway wait for', () => {
    // Several services building one tag in parallel (Compose hands them to Bake) can fail on a clean
    // machine with `image "orderflow:local" already exists`.
    const built = Object.entries(services).filter(([, s]) => s.build !== undefined);
    expect(built.map(([name]) => name)).toEqual(['migrate']);
    expect(services.migrate!.build).toEqual({ context: '..', dockerfile: 'infra/Dockerfile' });
    const users = Object.entries(services).filter(([, s]) => s.image === FUNCTION_IMAGE);
    expect(users.map(([name]) => name).sort()).toEqual(
      [...manifest.map((fn) => fn.id), 'gateway', 'migrate', 'topics'].sort(),
    );
    for (const [name, service] of users) {
      if (name === 'migrate') continue;
      // Neither built again nor looked for in a registry: it is migrate's (or ORDERFLOW_IMAGE, pulled there).
      expect(service.pull_policy, name).toBe('never');
      if (name !== 'topics') expect(dependenciesOf(name).has('migrate'), name).toBe(true);
    }
    expect(services.migrate!.pull_policy).toBeUndefined();
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

  it('names the project, so that volumes are orderflow_* whatever the folder is called', () => {
    expect(compose.name).toBe('orderflow');
    const firstKey = composeText.split('\n').find((line) => /^[a-z]/.test(line));
    expect(firstKey).toBe('name: orderflow');
  });

  it('runs the SQL Server image as linux/amd64, the only platform it is published for', () => {
    const sqlServers = Object.entries(services).filter(([, s]) => SQLSERVER_IMAGE.test(s.image ?? ''));
    expect(sqlServers.map(([name]) => name).sort()).toEqual(['sqlserver', 'sqlserver-init']);
    for (const [name, service] of sqlServers) expect(service.platform, name).toBe('linux/amd64');
  });

  it('gives every long-running service a healthcheck and every one-shot job none', () => {
    for (const [name, service] of Object.entries(services)) {
      if (service.restart === 'no' || NO_HEALTHCHECK.has(name))
        expect(service.healthcheck, name).toEqual({ disable: true });
      else expect(service.healthcheck?.test?.length, name).toBeGreaterThan(0);
    }
  });

  it('lets nothing wait on a service that cannot report its health', () => {
    for (const [name, service] of Object.entries(services)) {
      const waitsOn = Object.keys((service as { depends_on?: Record<string, unknown> }).depends_on ?? {});
      expect(
        waitsOn.filter((dependency) => NO_HEALTHCHECK.has(dependency)),
        name,
      ).toEqual([]);
    }
  });

  it('runs Jaeger for traces in the observability profile, its UI published there only', () => {
    const jaeger = services.jaeger!;
    expect(jaeger.image).toMatch(/^cr\.jaegertracing\.io\/jaegertracing\/jaeger:2\.\d+\.\d+$/);
    expect(jaeger.profiles).toEqual(['observability']);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: compose's own interpolation syntax
    expect(jaeger.ports).toEqual(['${JAEGER_UI_PORT:-16686}:16686']);
    // The functions export to it when asked: the endpoint is passed through, empty (tracing off) by default.
    expect(services['create-order']!.environment?.OTEL_EXPORTER_OTLP_ENDPOINT).toBe(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: compose's own interpolation syntax
      '${OTEL_EXPORTER_OTLP_ENDPOINT:-}',
    );
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

describe('docker-compose.yml: sqlserver-init checks the sa password before SQL Server needs it', () => {
  // The job's script as the container's shell receives it (compose turns $$ into $), run here with /bin/sh and
  // a stand-in for sqlcmd that records its arguments and answers as told.
  const composed = services['sqlserver-init']!.entrypoint![2]!;
  const script = composed.replaceAll('$$', '$');
  const work = mkdtempSync(join(tmpdir(), 'sqlserver-init-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  const sqlcmd = join(work, 'sqlcmd');
  writeFileSync(
    sqlcmd,
    '#!/bin/sh\nprintf \'%s\\n\' "$*" >> "$SQLCMD_LOG"\n[ -z "$SQLCMD_FAIL" ] || { echo "$SQLCMD_FAIL"; exit 1; }\n',
  );
  chmodSync(sqlcmd, 0o755);
  const envExamplePassword = /^MSSQL_SA_PASSWORD=(.*)$/m.exec(envExample)![1]!;

  function runInit(password: string, env: Record<string, string> = {}) {
    const log = join(work, `calls-${Math.random().toString(36).slice(2)}.log`);
    writeFileSync(log, '');
    const result = spawnSync('/bin/sh', ['-c', script], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH, MSSQL_SA_PASSWORD: password, SQLCMD: sqlcmd, SQLCMD_LOG: log, ...env },
    });
    const calls = readFileSync(log, 'utf8').split('\n').filter(Boolean);
    return { code: result.status, stderr: result.stderr, stdout: result.stdout, calls };
  }

  it('leaves no $ for compose to interpolate in the script (every shell $ is written $$)', () => {
    expect(composed.replaceAll('$$', '')).not.toContain('$');
  });

  it.each([
    ['7 characters', 'Sh0rt_p'],
    ['two classes only', 'lowercase_only'],
    ['two classes only (letters)', 'NoDigitsOrSymbols'],
    ['over 128 characters', `Aa1_${'x'.repeat(125)}`],
  ])(
    'refuses a password SQL Server would refuse (%s), naming the policy, before calling sqlcmd',
    (_, password) => {
      const run = runInit(password);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain("MSSQL_SA_PASSWORD does not meet SQL Server's password policy");
      expect(run.stderr).toContain('8 to 128 characters');
      expect(run.calls).toEqual([]);
    },
  );

  it.each([
    'P@ssw0rd_long',
    'Pass:w0rd_long',
    'Pass/w0rd_long',
    'Pass?w0rd_long',
    'Pass#w0rd_long',
    'Pass%w0rd_long',
  ])('refuses %s, which would break the mssql:// URLs', (password) => {
    const run = runInit(password);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('which would break the mssql:// URLs');
    expect(run.calls).toEqual([]);
  });

  it('accepts the password of .env.example, waits for SQL Server, then creates every database', () => {
    const run = runInit(envExamplePassword);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.calls).toHaveLength(2);
    expect(run.calls[0]).toContain('SELECT 1');
    for (const store of servicesOf(manifest)) expect(run.calls[1]).toContain(`CREATE DATABASE [${store}]`);
    expect(run.calls.every((call) => call.includes(`-U sa -P ${envExamplePassword}`))).toBe(true);
  });

  it('explains a refused login: SQL Server keeps the password of its first start in the volume', () => {
    const run = runInit(envExamplePassword, {
      SQLCMD_FAIL: "Sqlcmd: Error: Microsoft ODBC Driver 18 for SQL Server : Login failed for user 'sa'..",
      SQLSERVER_WAIT_TRIES: '1',
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("Login failed for user 'sa'");
    expect(run.stderr).toContain('keeps the sa password it was first started with, in the volume');
    expect(run.calls).toHaveLength(1);
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
    // `$${X}` is a literal `${X}` for a container's shell, not compose's.
    const interpolated = new Set(
      [...composeText.matchAll(/(?<!\$)\$\{([A-Z][A-Z0-9_]*)/g)].map((m) => m[1]!),
    );
    expect([...interpolated].filter((name) => !documented.has(name))).toEqual([]);
    expect(interpolated.has('MSSQL_SA_PASSWORD')).toBe(true);
  });
});
