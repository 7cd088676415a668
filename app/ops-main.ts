/**
 * `npm run ops -- …`: the ops CLI (`app/ops.ts`) as its own entry; `node dist/main.js ops …` is the same.
 * @module
 */
import { runOpsMain } from './ops-entry.ts';

await runOpsMain(process.argv.slice(2));
