import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { kafkaClient, waitFor } from './test-support.ts';

const cli = fileURLToPath(new URL('./cli.ts', import.meta.url));

describe('cli', () => {
  it('prints its address, serves clients and exits 0 on SIGTERM', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', cli, '--port', '0', '--partitions', '2', '--quiet'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const match = await waitFor(() => /kafka broker listening on (127\.0\.0\.1:\d+)/.exec(stdout), {
        what: `the listening line (stderr: ${stderr})`,
        timeoutMs: 30_000,
      });
      const admin = kafkaClient([match[1]!]).admin();
      await admin.connect();
      await admin.createTopics({ topics: [{ topic: 'via-cli' }] });
      const meta = await admin.fetchTopicMetadata({ topics: ['via-cli'] });
      expect(meta.topics[0]?.partitions).toHaveLength(2);
      await admin.disconnect();
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    expect(stderr).toBe('');
  });
});
