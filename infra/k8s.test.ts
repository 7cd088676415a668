/**
 * infra/k8s/*.yaml against the manifest: the examples name real functions, the KEDA trigger watches the
 * function's own consumer group and topic and never scales past the partition count, nothing sets a replica
 * count an autoscaler owns, every HTTP function sits behind a Service the gateway's default upstream finds,
 * and the release jobs (SQL Server logins and databases, migrations, topics) can run again at every release.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { gatewayRoutes } from '../app/gateway.ts';
import { defaultUpstream } from '../app/gateway-config.ts';
import { findFunction, manifest, servicesOf } from '../functions/manifest.ts';
import type { EventDefinition } from '../runtime/index.ts';

type Doc = {
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  // biome-ignore lint/suspicious/noExplicitAny: free-form Kubernetes documents
  spec: any;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
};

const folder = new URL('./k8s/', import.meta.url);
const docs: Doc[] = readdirSync(folder)
  .filter((file) => file.endsWith('.yaml'))
  .flatMap((file) =>
    parseAllDocuments(readFileSync(new URL(file, folder), 'utf8')).map((d) => d.toJS() as Doc),
  );
const ofKind = (kind: string) => docs.filter((d) => d.kind === kind);
const config = ofKind('ConfigMap').find((d) => d.metadata.name === 'orderflow-config')!.data!;
const databases = ofKind('Secret').find((d) => d.metadata.name === 'orderflow-databases')!.stringData!;
const containerOf = (d: Doc) => d.spec.template.spec.containers[0];
const job = (name: string) => ofKind('Job').find((d) => d.metadata.name === name)!;
const wave = (d: Doc) => Number(d.metadata.annotations?.['argocd.argoproj.io/sync-wave'] ?? 0);
const configText = readFileSync(new URL('config.yaml', folder), 'utf8');

describe('infra/k8s', () => {
  it('runs only functions of the manifest, each Deployment named after its function', () => {
    const deployments = ofKind('Deployment');
    expect(deployments.length).toBeGreaterThan(0);
    for (const deployment of deployments) {
      const container = containerOf(deployment);
      if (deployment.metadata.name === 'gateway') {
        expect(container.command).toEqual(['node', '--enable-source-maps', 'dist/gateway.js']);
        continue;
      }
      expect(container.args).toEqual(['serve', deployment.metadata.name]);
      expect(findFunction(deployment.metadata.name), deployment.metadata.name).toBeDefined();
      expect(container.startupProbe.httpGet.path).toBe('/healthz');
      expect(container.readinessProbe.httpGet.path).toBe('/readyz');
    }
  });

  it('sets no replica count where an autoscaler owns it (each apply would reset the count)', () => {
    const scaled = [
      ...ofKind('HorizontalPodAutoscaler').map((d) => d.spec.scaleTargetRef.name as string),
      ...ofKind('ScaledObject').map((d) => d.spec.scaleTargetRef.name as string),
    ];
    expect(scaled.length).toBeGreaterThan(0);
    for (const name of scaled) {
      const deployment = ofKind('Deployment').find((d) => d.metadata.name === name);
      expect(deployment, name).toBeDefined();
      expect(deployment!.spec.replicas, name).toBeUndefined();
    }
  });

  it('scales the event function on its own group’s lag, bounded by the partition count', () => {
    const [scaled] = ofKind('ScaledObject');
    const fn = findFunction(scaled!.spec.scaleTargetRef.name)!;
    expect(fn.kind).toBe('event');
    if (fn.kind !== 'event') return;
    const [trigger] = scaled!.spec.triggers;
    expect(trigger.type).toBe('kafka');
    expect(trigger.metadata.consumerGroup).toBe(fn.groupId);
    expect((fn.events as readonly EventDefinition[]).map((e) => e.topic)).toContain(trigger.metadata.topic);
    expect(trigger.metadata.bootstrapServers).toBe(config.KAFKA_BROKERS);
    expect(trigger.metadata.allowIdleConsumers).toBe('false');
    expect(scaled!.spec.maxReplicaCount).toBeLessThanOrEqual(Number(config.TOPIC_PARTITIONS));
  });

  it('puts every HTTP function of the manifest behind a Service at the gateway’s default upstream', () => {
    const httpFunctionIds = [...new Set(gatewayRoutes(manifest).map((r) => r.functionId))];
    expect(httpFunctionIds.sort()).toEqual([
      'create-order',
      'get-order',
      'get-order-timeline',
      'list-orders',
    ]);
    for (const id of httpFunctionIds) {
      const deployment = ofKind('Deployment').find((d) => d.metadata.name === id);
      expect(deployment, `Deployment ${id}`).toBeDefined();
      expect(containerOf(deployment!).args).toEqual(['serve', id]);
      const service = ofKind('Service').find((s) => s.metadata.name === id);
      expect(service, `Service ${id}`).toBeDefined();
      const podLabels = deployment!.spec.template.metadata.labels as Record<string, string>;
      expect(podLabels).toMatchObject(service!.spec.selector);
      const port = service!.spec.ports[0];
      expect(port.targetPort).toBe(containerOf(deployment!).ports[0].name);
      expect(`http://${id}:${port.port}`).toBe(defaultUpstream(id));
    }
  });

  it('connects to SQL Server over verified TLS, and says what trustServerCertificate would change', () => {
    const urls = Object.entries(databases);
    expect(urls.map(([variable]) => variable).sort()).toEqual(
      servicesOf(manifest)
        .map((store) => `${store.toUpperCase()}_DATABASE_URL`)
        .sort(),
    );
    for (const [variable, url] of urls) {
      expect(url, variable).toMatch(/^mssql:\/\/[^:]+:[^@]+@[^/]+\/\w+\?encrypt=true$/);
      expect(url, variable).not.toMatch(/trustServerCertificate/i);
    }
    // The explanation sits beside the URLs, in the comment just above them.
    const comment = configText.slice(
      configText.indexOf('name: orderflow-databases'),
      configText.indexOf('stringData:'),
    );
    expect(comment).toContain('encrypt=true');
    expect(comment).toContain('trustServerCertificate=true would accept any certificate');
  });
});

describe('infra/k8s: release jobs', () => {
  it('has the compose file’s one-shot jobs: SQL Server logins and databases, migrations, topics', () => {
    expect(ofKind('Job').map((d) => d.metadata.name)).toEqual([
      'orderflow-sqlserver-init',
      'orderflow-migrate',
      'orderflow-topics',
    ]);
    expect(containerOf(job('orderflow-migrate')).args).toEqual(['migrate']);
    expect(containerOf(job('orderflow-topics')).args).toEqual(['topics']);
  });

  it('can be applied again at every release (a Job’s template is immutable)', () => {
    for (const d of ofKind('Job')) {
      const name = d.metadata.name;
      expect(d.metadata.annotations?.['argocd.argoproj.io/hook'], name).toBe('Sync');
      expect(d.metadata.annotations?.['argocd.argoproj.io/hook-delete-policy'], name).toBe(
        'BeforeHookCreation',
      );
      expect(d.spec.ttlSecondsAfterFinished, name).toBeGreaterThan(0);
      // The label the documented `kubectl delete job -l …` selects.
      expect(d.metadata.labels?.['app.kubernetes.io/component'], name).toBe('release-job');
    }
    const jobsText = readFileSync(new URL('jobs.yaml', folder), 'utf8');
    expect(jobsText).toContain(
      'kubectl delete job -l app.kubernetes.io/component=release-job --ignore-not-found',
    );
  });

  it('orders a sync: ConfigMap and Secrets, then SQL Server init, then migrate and topics, then the functions', () => {
    for (const d of [...ofKind('ConfigMap'), ...ofKind('Secret')]) expect(wave(d), d.metadata.name).toBe(-3);
    expect(wave(job('orderflow-sqlserver-init'))).toBe(-2);
    expect(wave(job('orderflow-migrate'))).toBe(-1);
    expect(wave(job('orderflow-topics'))).toBe(-1);
    for (const d of ofKind('Deployment')) expect(wave(d), d.metadata.name).toBe(0);
  });

  describe('orderflow-sqlserver-init', () => {
    const spec = job('orderflow-sqlserver-init').spec.template.spec;
    const [generate] = spec.initContainers;
    const [sqlcmd] = spec.containers;

    it('generates its T-SQL from the URLs the functions use, then runs it with sqlcmd', () => {
      expect(generate.envFrom).toEqual([{ secretRef: { name: 'orderflow-databases' } }]);
      expect(generate.command.slice(0, 2)).toEqual(['node', '-e']);
      // Kubernetes expands $(VAR) in commands: the script must contain none.
      expect(generate.command[2]).not.toContain('$(');
      expect(sqlcmd.image).toMatch(/^mcr\.microsoft\.com\/mssql\/server:/);
      expect(sqlcmd.command).toEqual([
        '/opt/mssql-tools18/bin/sqlcmd',
        '-b',
        '-x',
        '-i',
        generate.command[3],
      ]);
      expect(sqlcmd.envFrom).toEqual([{ secretRef: { name: 'orderflow-sqlserver-admin' } }]);
      expect(spec.nodeSelector).toEqual({ 'kubernetes.io/arch': 'amd64' });
    });

    function generateSql(env: Record<string, string>) {
      const dir = mkdtempSync(join(tmpdir(), 'sqlserver-init-'));
      try {
        const file = join(dir, 'init.sql');
        const run = spawnSync(process.execPath, ['-e', generate.command[2], file], {
          encoding: 'utf8',
          env: { PATH: process.env.PATH, ...env },
        });
        return {
          code: run.status,
          stderr: run.stderr,
          sql: run.status === 0 ? readFileSync(file, 'utf8') : '',
        };
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }

    it('creates each database, login and user of the Secret, each login owner of its database only', () => {
      const { code, stderr, sql } = generateSql(databases);
      expect(stderr).toBe('');
      expect(code).toBe(0);
      for (const url of Object.values(databases)) {
        const { username, pathname } = new URL(url);
        const database = pathname.slice(1);
        expect(sql).toContain(`IF DB_ID(N'${database}') IS NULL CREATE DATABASE [${database}];`);
        expect(sql).toContain(`IF SUSER_ID(N'${username}') IS NULL BEGIN CREATE LOGIN [${username}]`);
        expect(sql).toContain(`ELSE BEGIN ALTER LOGIN [${username}] WITH PASSWORD`);
        expect(sql).toContain(`USE [${database}];`);
        expect(sql).toContain(`ALTER ROLE db_owner ADD MEMBER [${username}];`);
      }
      expect(sql.split('\nGO\n').length).toBe(3 * Object.keys(databases).length + 1);
    });

    it('quotes what the URL holds: percent-encoding decoded, quotes and brackets escaped', () => {
      const { sql } = generateSql({
        ORDERS_DATABASE_URL: "mssql://app%5Dx:it's%40%3A$(x)@db:1433/or]ders?encrypt=true",
      });
      expect(sql).toContain('CREATE DATABASE [or]]ders];');
      expect(sql).toContain("CREATE LOGIN [app]]x] WITH PASSWORD = N'it''s@:$(x)'");
    });

    it('refuses a URL it cannot read, naming the variable', () => {
      const run = generateSql({ ORDERS_DATABASE_URL: 'mssql://db:1433/orders' });
      expect(run.code).not.toBe(0);
      expect(run.stderr).toContain('ORDERS_DATABASE_URL must read mssql://login:password@host:port/database');
    });
  });
});
