/**
 * infra/k8s/*.yaml against the manifest: the examples name real functions, the KEDA trigger watches the
 * function's own consumer group and topic and never scales past the partition count, and HTTP functions sit
 * behind a Service the gateway's default upstream finds.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { defaultUpstream } from '../app/gateway-config.ts';
import { findFunction } from '../functions/manifest.ts';
import type { EventDefinition } from '../runtime/index.ts';

// biome-ignore lint/suspicious/noExplicitAny: free-form Kubernetes documents
type Doc = { kind: string; metadata: { name: string }; spec: any; data?: Record<string, string> };

const folder = new URL('./k8s/', import.meta.url);
const docs: Doc[] = readdirSync(folder)
  .filter((file) => file.endsWith('.yaml'))
  .flatMap((file) =>
    parseAllDocuments(readFileSync(new URL(file, folder), 'utf8')).map((d) => d.toJS() as Doc),
  );
const ofKind = (kind: string) => docs.filter((d) => d.kind === kind);
const config = ofKind('ConfigMap').find((d) => d.metadata.name === 'orderflow-config')!.data!;
const containerOf = (d: Doc) => d.spec.template.spec.containers[0];

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
    expect(ofKind('Job').map((job) => containerOf(job).args)).toEqual([['migrate'], ['topics']]);
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

  it('puts each HTTP function behind a Service at the gateway’s default upstream', () => {
    const httpDeployments = ofKind('Deployment').filter(
      (d) => findFunction(d.metadata.name)?.kind === 'http',
    );
    expect(httpDeployments.length).toBeGreaterThan(0);
    for (const deployment of httpDeployments) {
      const service = ofKind('Service').find((s) => s.metadata.name === deployment.metadata.name);
      expect(service, deployment.metadata.name).toBeDefined();
      const port = service!.spec.ports[0].port;
      expect(`http://${service!.metadata.name}:${port}`).toBe(defaultUpstream(deployment.metadata.name));
    }
  });
});
