/**
 * `npm run chaos -- [options]`: one chaos run (chaos/README.md). Progress goes to stderr; the one summary line
 * to stdout. Exit code 0 when every invariant held, 1 when one failed, 2 for a bad command line.
 * @module
 */
import { runChaos } from './harness.ts';
import { parseChaosArgs, USAGE, UsageError } from './options.ts';

async function main(): Promise<number> {
  let options: ReturnType<typeof parseChaosArgs>;
  try {
    options = parseChaosArgs(process.argv.slice(2), process.env);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`${error.message}\n${USAGE}\n`);
    return 2;
  }
  if (options === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const report = await runChaos(options, (line) => process.stderr.write(`${line}\n`));
  for (const finding of report.findings) process.stderr.write(`finding: ${finding}\n`);
  process.stderr.write(`logs: ${report.figures.logDir}\n`);
  process.stdout.write(`${report.summary}\n`);
  return report.pass ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(
      `chaos failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
