/**
 * Bundle smoke test: what the image runs, run here. Builds dist/ into a temporary folder outside the
 * repository (so, as in the image, no node_modules can be found), then as child processes:
 *   `main.js topics` and `main.js migrate` (the one-shot jobs), `main.js serve get-order` and
 *   `main.js serve process-payment` (two function containers) and `gateway.js`,
 * against the embedded broker (started here, port 0) and PGlite in a data dir — and, when DATABASE_URL points
 * at a PostgreSQL server, again against a scratch database there. Prints cold start (spawn → first 200 on
 * /healthz) and RSS per process; asserts only that everything answers and stops cleanly, never timings.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topicSpecs } from '../app/system.ts';
import { PaymentRequested } from '../contracts/events.ts';
import { createScratchDatabase, type ScratchDatabase } from '../db/postgres/scratch-database.ts';
import { type RunningBroker, silentLogger, startBroker } from '../local/kafka-broker/index.ts';
import { encodeEvent } from '../runtime/codec.ts';
import { createKafkaClient, sharedProducer } from '../runtime/kafka/client.ts';
import { kafkaPublisher } from '../runtime/kafka/publisher.ts';
import { headerText, readTopic, testLogger, waitFor } from '../runtime/kafka/test-kit.ts';
import { buildBundles, kib } from '../scripts/build.ts';

const PARTITIONS = 3;

interface Started {
  name: string;
  child: ChildProcess;
  url: string;
  coldStartMs: number;
  rssMiB: number;
  output: string[];
}

let workdir: string;
let dist: string;
let broker: RunningBroker;
let upFront: Awaited<ReturnType<typeof buildBundles>>['upFront'];
const report: string[] = [];

/** Environment of a child: only what is given (never this process's DATABASE_URL and friends). */
function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, KAFKAJS_NO_PARTITIONER_WARNING: '1', LOG_LEVEL: 'info', ...env };
}

function run(bundle: string, args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, ['--enable-source-maps', join(dist, bundle), ...args], {
    cwd: workdir,
    env: childEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  for (const stream of [child.stdout!, child.stderr!]) {
    createInterface({ input: stream }).on('line', (line) => output.push(line));
  }
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output, exited };
}

/** Runs a one-shot command to its end; returns its exit code, duration and output. */
async function runJob(args: string[], env: Record<string, string>) {
  const started = performance.now();
  const { output, exited } = run('main.js', args, env);
  const code = await exited;
  return { code, ms: Math.round(performance.now() - started), output };
}

/** Spawns a long-running bundle and waits for its first 200 on /healthz (listening on a free port). */
async function startProcess(name: string, bundle: string, args: string[], env: Record<string, string>) {
  const started = performance.now();
  const { child, output, exited } = run(bundle, args, { PORT: '0', HOST: '127.0.0.1', ...env });
  let exitCode: number | null | undefined;
  void exited.then((code) => {
    exitCode = code;
  });
  const url = await waitFor(
    () => {
      if (exitCode !== undefined) throw new Error(`${name} exited with ${exitCode}:\n${output.join('\n')}`);
      for (const line of output) {
        const match = /"url":"(http:\/\/[^"]+)"/.exec(line);
        if (match && /listening/.test(line)) return match[1];
      }
      return undefined;
    },
    { timeoutMs: 60_000, intervalMs: 10, what: `${name} to listen` },
  ).catch((error: Error) => {
    throw new Error(`${error.message}\n${output.join('\n')}`);
  });
  await waitFor(async () => (await fetch(`${url}/healthz`).catch(() => undefined))?.status === 200, {
    timeoutMs: 30_000,
    intervalMs: 10,
    what: `${name} /healthz`,
  });
  const coldStartMs = Math.round(performance.now() - started);
  const status = await readFile(`/proc/${child.pid}/status`, 'utf8').catch(() => '');
  const rssKiB = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
  const process: Started = { name, child, url, coldStartMs, rssMiB: Math.round(rssKiB / 1024), output };
  return { process, exited };
}

async function stop(started: { process: Started; exited: Promise<number | null> }): Promise<number | null> {
  started.process.child.kill('SIGTERM');
  return started.exited;
}

beforeAll(async () => {
  workdir = await mkdtemp(join(tmpdir(), 'orderflow-bundle-'));
  const built = await buildBundles({ outdir: join(workdir, 'dist') });
  dist = built.outdir;
  upFront = built.upFront;
  report.push(
    `build: ${built.ms} ms; ${Object.entries(built.sizes)
      .map(([file, bytes]) => `${file} ${kib(bytes)}`)
      .join(', ')}`,
  );
  broker = await startBroker({ port: 0, defaultPartitions: PARTITIONS, logger: silentLogger });
}, 120_000);

afterAll(async () => {
  await broker?.stop();
  if (workdir) await rm(workdir, { recursive: true, force: true });
  process.stdout.write(`\n[bundle smoke test]\n${report.map((line) => `  ${line}`).join('\n')}\n\n`);
});

describe('the bundles', () => {
  it('`main.js` loads Kafka’s client, the OpenAPI generator, each database driver and PGlite only on demand', () => {
    // What `serve <http function>` parses before it can answer (app/commands.ts, which main.js imports, and its
    // static imports): none of these (they are `import()`ed by the process that needs them, kafkajs once the
    // HTTP server listens).
    const packages = new Set(
      upFront['app/commands.ts']!.inputs.flatMap((file) => {
        const match = /^node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(file);
        return match === null ? [] : [match[1]!];
      }),
    );
    for (const name of [
      'kafkajs',
      'zod-openapi',
      'pg',
      'mssql',
      '@electric-sql/pglite',
      '@opentelemetry/sdk-node',
    ])
      expect(packages, name).not.toContain(name);
    expect(packages).toContain('hono');
    // On a PostgreSQL server, the dialect's chunk has the server's driver, not PGlite (loaded only for PGlite).
    const postgres = upFront['db/postgres/open.ts']!.inputs;
    expect(postgres.some((file) => file.startsWith('node_modules/pg/'))).toBe(true);
    expect(postgres.filter((file) => file.startsWith('node_modules/@electric-sql/pglite/'))).toEqual([]);
    report.push(`main.js loads ${kib(upFront['app/commands.ts']!.bytes)} before a command runs`);
  });

  it('`main.js topics` creates every topic of the manifest with its partition count', async () => {
    const job = await runJob(['topics'], {
      KAFKA_BROKERS: broker.brokers.join(','),
      TOPIC_PARTITIONS: String(PARTITIONS),
    });
    expect(job.code, job.output.join('\n')).toBe(0);
    report.push(`topics job: ${job.ms} ms`);
    const admin = createKafkaClient({
      brokers: broker.brokers,
      clientId: 'bundle-test',
      logger: testLogger(),
    }).admin();
    await admin.connect();
    try {
      const { topics } = await admin.fetchTopicMetadata({
        topics: topicSpecs(PARTITIONS).map((s) => s.topic),
      });
      const found = Object.fromEntries(topics.map((t) => [t.name, t.partitions.length]));
      expect(found).toEqual(Object.fromEntries(topicSpecs(PARTITIONS).map((s) => [s.topic, s.partitions])));
    } finally {
      await admin.disconnect();
    }
  });

  it('`main.js ops dlq list --json` reads every event function’s dead-letter topic', async () => {
    // As in the image (infra/Dockerfile): Node 23+ warns about kafkajs' negative timeouts on stderr.
    const job = await runJob(['ops', 'dlq', 'list', '--json'], {
      KAFKA_BROKERS: broker.brokers.join(','),
      NODE_OPTIONS: '--disable-warning=TimeoutNegativeWarning',
    });
    expect(job.code, job.output.join('\n')).toBe(0);
    report.push(`ops dlq list: ${job.ms} ms`);
    const json = JSON.parse(job.output.filter((line) => !line.startsWith('{"level"')).join('\n')) as {
      functionId: string;
      count: number;
    }[];
    expect(json.map((s) => s.functionId)).toContain('process-payment');
    expect(json.every((s) => s.count === 0)).toBe(true);
  });

  const targets: [string, () => Promise<{ env: Record<string, string>; cleanup(): Promise<void> }>][] = [
    [
      'PGlite in a data dir',
      async () => ({ env: { DATA_DIR: join(workdir, 'data') }, cleanup: async () => {} }),
    ],
  ];
  const serverUrl = process.env.DATABASE_URL;
  if (serverUrl !== undefined && /^postgres(ql)?:\/\//i.test(serverUrl)) {
    targets.push([
      'a PostgreSQL server',
      async () => {
        const scratch: ScratchDatabase = await createScratchDatabase(serverUrl);
        return { env: { DATABASE_URL: scratch.url }, cleanup: () => scratch.drop() };
      },
    ]);
  }

  describe.each(targets)('on %s', (target, prepare) => {
    it('migrate, serve get-order and process-payment, and the gateway: answer, handle an event, stop cleanly', async () => {
      const { env: dbEnv, cleanup } = await prepare();
      const kafkaEnv = { KAFKA_BROKERS: broker.brokers.join(','), TOPIC_PARTITIONS: String(PARTITIONS) };
      const running: { process: Started; exited: Promise<number | null> }[] = [];
      try {
        // Before the migrate job: serve applies no DDL, it exits naming the job (the old serve migrated itself).
        const early = run('main.js', ['serve', 'get-order'], { ...dbEnv, ...kafkaEnv, PORT: '0' });
        const earlyCode = await Promise.race([
          early.exited,
          new Promise<string>((resolve) => setTimeout(() => resolve('still running after 30 s'), 30_000)),
        ]);
        early.child.kill('SIGKILL');
        expect(earlyCode, early.output.join('\n')).toBe(1);
        expect(early.output.join('\n')).toContain('behind this build (first missing: ');
        expect(early.output.join('\n')).toContain('run the migrate job');

        const migrate = await runJob(['migrate'], dbEnv);
        expect(migrate.code, migrate.output.join('\n')).toBe(0);
        report.push(`[${target}] migrate job: ${migrate.ms} ms`);

        const [getOrder, processPayment] = await Promise.all([
          startProcess('serve get-order', 'main.js', ['serve', 'get-order'], { ...dbEnv, ...kafkaEnv }),
          startProcess('serve process-payment', 'main.js', ['serve'], {
            ...dbEnv,
            ...kafkaEnv,
            FUNCTION_ID: 'process-payment',
          }),
        ]);
        running.push(getOrder, processPayment);
        const gateway = await startProcess('gateway', 'gateway.js', [], {
          UPSTREAM_GET_ORDER: getOrder.process.url,
          UPSTREAM_CREATE_ORDER: getOrder.process.url,
          // Not started here: pointed at get-order's process, so the gateway's /readyz finds them up.
          UPSTREAM_GET_ORDER_TIMELINE: getOrder.process.url,
          UPSTREAM_LIST_ORDERS: getOrder.process.url,
        });
        running.push(gateway);

        // HTTP: client → gateway bundle → get-order bundle → database, and back with the ids.
        const res = await fetch(`${gateway.process.url}/orders/smoke-missing`, {
          headers: { 'x-request-id': 'smoke-1' },
        });
        expect(res.status).toBe(404);
        expect(await res.json()).toMatchObject({ status: 'error', code: 'not_found', requestId: 'smoke-1' });
        expect((await fetch(`${gateway.process.url}/readyz`)).status).toBe(200);
        // The contract and its page from the bundle alone (Swagger UI's files beside it), and the metrics.
        const spec = (await (await fetch(`${gateway.process.url}/openapi.json`)).json()) as { paths: object };
        expect(Object.keys(spec.paths)).toContain('/orders/{id}');
        expect((await fetch(`${gateway.process.url}/docs/swagger-ui-bundle.js`)).status).toBe(200);
        for (const process of [getOrder.process, gateway.process]) {
          const metrics = await (await fetch(`${process.url}/metrics`)).text();
          expect(metrics, process.name).toContain(
            'http_server_request_duration_seconds_count{function="get-order",http_route="/orders/:id",http_request_method="GET",http_response_status_code="404"} 1',
          );
        }

        // Events: payment-requests → process-payment bundle → payments DB + outbox → payment-completed.
        const kafka = createKafkaClient({
          brokers: broker.brokers,
          clientId: 'bundle-test',
          logger: testLogger(),
        });
        const completed = await readTopic(kafka, 'payment-completed');
        const producer = sharedProducer(kafka);
        await producer.connect();
        try {
          const orderId = `smoke-${target.length}-${Date.now()}`;
          await kafkaPublisher(producer)([
            encodeEvent(
              PaymentRequested.create(
                { orderId, amount: '12.00', currency: 'EUR' },
                { correlationId: `flow-${orderId}` },
              ),
            ),
          ]);
          const message = await waitFor(() => completed.messages.find((m) => m.key?.toString() === orderId), {
            timeoutMs: 30_000,
            what: 'PaymentCompleted from the bundle',
          });
          expect(headerText(message, 'correlation-id')).toBe(`flow-${orderId}`);
        } finally {
          await completed.stop();
          await producer.disconnect();
        }

        for (const { process: p } of running) {
          report.push(
            `[${target}] ${p.name.padEnd(22)} cold start ${String(p.coldStartMs).padStart(5)} ms, RSS ${p.rssMiB} MiB`,
          );
        }
        const codes = await Promise.all(running.splice(0).reverse().map(stop));
        expect(codes).toEqual([0, 0, 0]);
      } finally {
        for (const started of running) started.process.child.kill('SIGKILL');
        await cleanup();
      }
    }, 180_000);
  });
});
