#!/usr/bin/env node
// The `why403` command. Built into dist/cli.js for the package; in a checkout
// Node 24 runs it from source (`npm run why403 -- …`). The Node check comes
// before anything else is loaded, so an older Node gets one line, --help
// included, instead of a syntax error from a module it cannot run.
import { NODE_FLOOR, olderThanFloor } from './node-floor.ts';

if (olderThanFloor(process.versions.node)) {
  process.stderr.write(
    `why403: needs Node.js ${NODE_FLOOR} or newer (this is ${process.version}); install a current Node.js LTS and run it again\n`,
  );
  process.exit(2);
}
// Node 22 calls node:sqlite (the scan's state file) experimental and says so
// on every run; that line is not the user's concern. Every other warning is
// still printed, as Node would.
const [printWarning] = process.listeners('warning');
if (printWarning) {
  process.removeListener('warning', printWarning);
  process.on('warning', (w) => {
    if (w.name === 'ExperimentalWarning' && /^SQLite is an experimental feature/.test(w.message)) return;
    printWarning(w);
  });
}
// Node keeps the compiled code of the bundle in its own cache folder (in the
// system temp dir; NODE_DISABLE_COMPILE_CACHE=1 turns it off): later runs skip
// most of the parsing, a third of the start-up of `explain`.
(await import('node:module')).enableCompileCache?.();
const { main } = await import('./main.ts');
process.exitCode = await main(process.argv.slice(2));
