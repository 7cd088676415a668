/**
 * The container entry point. One image holds every function; the argument picks what this process runs:
 *
 *   node dist/main.js serve <function-id> [<function-id> …]   run those functions (FUNCTION_ID env also works)
 *   node dist/main.js serve all                                run every function of the manifest
 *   node dist/main.js migrate                                  apply every service's migrations, then exit
 *
 * `serve` applies no DDL: it checks that its services' databases have every migration of this build and exits
 * with an error naming the `migrate` job when one is missing (`MIGRATE_ON_START=true` makes it migrate).
 *   node dist/main.js topics                                   create the manifest's topics, then exit
 *   node dist/main.js ops dlq list …                           the ops CLI (`app/ops.ts`)
 *
 * Needs `KAFKA_BROKERS` for `serve` and `topics` (containers never start the embedded broker).
 *
 * On Node ≥ 22.1 this turns on Node's compile cache before any other code loads: V8's compiled code of the
 * bundle is written to `NODE_COMPILE_CACHE` (default: the OS temp directory) and reused by the next start of
 * the same bundle (`NODE_DISABLE_COMPILE_CACHE=1` turns it off). Node 20 has no such cache: nothing happens.
 * @module
 */
import module from 'node:module';

// Before the commands' code is imported (static imports would load it first), so that its compilation is cached.
(module as { enableCompileCache?: () => unknown }).enableCompileCache?.();
await import('./commands.ts');
