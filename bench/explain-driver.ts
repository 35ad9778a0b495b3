// Bench-only stand-in for `why403 explain --jsonl FILE`, used by
// har-explain.ts only when dist/cli.js is absent (or with --driver): the same pipeline (stream
// the HAR, diagnose every 401/403 entry with all rules, one JSON report per
// line on stdout) without the CLI around it.
//
//   node bench/explain-driver.ts FILE > out.jsonl
import { readHar } from '../src/importers/har.ts';
import { diagnoseWith } from '../src/engine/diagnose.ts';
import { loadRules } from '../src/rules/registry.ts';

const file = process.argv[2];
if (!file) {
  process.stderr.write('usage: node bench/explain-driver.ts FILE.har\n');
  process.exit(2);
}
const rules = await loadRules();
const { exchanges, summary } = readHar(file, { name: file });
let pending = '';
for await (const exchange of exchanges) {
  pending += `${JSON.stringify(diagnoseWith(rules, exchange))}\n`;
  if (pending.length > 1 << 16) {
    if (!process.stdout.write(pending)) await new Promise((r) => process.stdout.once('drain', r));
    pending = '';
  }
}
process.stdout.write(pending);
const s = await summary;
process.stderr.write(`${file}: ${s.total} entries, ${s.denied} denied\n`);
