// `npm run bench`: why403 explain against jq on the same browser-shaped HAR.
//
//   npm run bench                      # 100,000 entries (generated once into bench/out/)
//   npm run bench -- --entries 10000   # quick run while developing
//   npm run bench -- --runs 3          # repeat each command, report the fastest
//
// Both commands run one after the other, each on a warm page cache. Wall time
// and peak RSS come from GNU time (`/usr/bin/time -v`, Debian package "time");
// without it, peak RSS is sampled from /proc/PID/status (VmHWM). The run
// fails (exit 1) only when the two tools count a different number of
// denials; the 5x / 200 MB targets are reported, not enforced, because a
// loaded machine would make them flaky.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { defaultHarPath, generateHar, type GeneratedHar } from './generate-har.ts';
import { best, measure, warm, type Measured } from './measure.ts';

const ROOT = join(import.meta.dirname, '..');
const OUT = join(import.meta.dirname, 'out');
const JQ_FILTER = '[.log.entries[] | select(.response.status==403 or .response.status==401)] | length';
const TARGET_RATIO = 5;
const TARGET_RSS_MB = 200;

const { values } = parseArgs({
  options: {
    entries: { type: 'string', default: '100000' },
    seed: { type: 'string', default: '403' },
    runs: { type: 'string', default: '1' },
    driver: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  process.stdout.write('usage: node bench/har-explain.ts [--entries N] [--seed S] [--runs R] [--driver]\n');
  process.exit(0);
}
const entries = Number(values.entries);
const seed = Number(values.seed);
const runs = Math.max(1, Number(values.runs));
if (!Number.isInteger(entries) || entries < 1 || !Number.isInteger(seed)) {
  process.stderr.write('--entries and --seed take whole numbers\n');
  process.exit(2);
}

async function ensureHar(): Promise<GeneratedHar> {
  const file = defaultHarPath(entries, seed);
  const meta = `${file}.meta.json`;
  if (existsSync(file) && existsSync(meta)) return JSON.parse(readFileSync(meta, 'utf8')) as GeneratedHar;
  process.stdout.write(`generating ${file} (${entries} entries, seed ${seed}) …\n`);
  const t = performance.now();
  const g = await generateHar({ entries, seed, file });
  process.stdout.write(
    `  ${(g.bytes / 1e6).toFixed(1)} MB, ${g.denials} denied entries, ${((performance.now() - t) / 1000).toFixed(1)} s\n`,
  );
  return g;
}

function countLines(file: string): number {
  const buf = readFileSync(file);
  let n = 0;
  for (let i = buf.indexOf(10); i >= 0; i = buf.indexOf(10, i + 1)) n++;
  return n;
}

mkdirSync(OUT, { recursive: true });
const har = await ensureHar();
// The built command, as users run it (npm run bench builds it first).
const cli = join(ROOT, 'dist', 'cli.js');
const useCli = existsSync(cli) && !values.driver;
const why403Cmd = useCli
  ? [process.execPath, cli, 'explain', '--jsonl', har.file]
  : [process.execPath, join(import.meta.dirname, 'explain-driver.ts'), har.file];
const jqCmd = ['jq', JQ_FILTER, har.file];

await warm(har.file);
const whyRuns: Measured[] = [];
const jqRuns: Measured[] = [];
let whyCount = -1;
let jqCount = -1;
for (let r = 0; r < runs; r++) {
  const whyOut = join(OUT, 'why403-explain.jsonl');
  const w = await measure(why403Cmd, whyOut);
  // explain exits 1 when it diagnosed a denial: that is its success here.
  if (w.exitCode !== 0 && w.exitCode !== 1) {
    process.stderr.write(`why403 failed (exit ${w.exitCode}):\n${w.stderr}`);
    process.exit(1);
  }
  whyCount = countLines(whyOut);
  whyRuns.push(w);

  const jqOut = join(OUT, 'jq.out');
  const j = await measure(jqCmd, jqOut);
  if (j.exitCode !== 0) {
    process.stderr.write(`jq failed (exit ${j.exitCode}):\n${j.stderr}`);
    process.exit(1);
  }
  jqCount = Number(readFileSync(jqOut, 'utf8').trim());
  jqRuns.push(j);
}

const w = best(whyRuns);
const j = best(jqRuns);
const ratio = j.wallSeconds / w.wallSeconds;
const rows = [
  ['command', 'wall s', 'peak RSS MB', 'denials'],
  [
    useCli ? 'why403 explain --jsonl' : 'bench/explain-driver.ts (no CLI)',
    w.wallSeconds.toFixed(2),
    w.peakRssMB.toFixed(0),
    String(whyCount),
  ],
  ['jq (select 401/403 | length)', j.wallSeconds.toFixed(2), j.peakRssMB.toFixed(0), String(jqCount)],
];
const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
const line = (row: string[]) =>
  row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ');
process.stdout.write(
  [
    '',
    `${har.file}: ${(har.bytes / 1e6).toFixed(1)} MB, ${har.entries} entries (${runs === 1 ? 'one run each' : `fastest of ${runs} runs each`})`,
    '',
    line(rows[0]),
    ...rows.slice(1).map(line),
    '',
    `why403 is ${ratio.toFixed(1)}x faster than jq (target >= ${TARGET_RATIO}x: ${ratio >= TARGET_RATIO ? 'met' : 'NOT met'}); peak RSS ${w.peakRssMB.toFixed(0)} MB (target < ${TARGET_RSS_MB} MB: ${w.peakRssMB < TARGET_RSS_MB ? 'met' : 'NOT met'})`,
    '',
  ].join('\n'),
);
writeFileSync(
  join(OUT, 'last-run.json'),
  `${JSON.stringify({ file: har.file, bytes: har.bytes, entries: har.entries, runs, why403: { ...w, stderr: undefined, count: whyCount, command: why403Cmd.join(' ') }, jq: { ...j, stderr: undefined, count: jqCount }, ratio }, null, 2)}\n`,
);
if (whyCount !== jqCount || whyCount !== har.denials) {
  process.stderr.write(`denial counts disagree: why403 ${whyCount}, jq ${jqCount}, generator ${har.denials}\n`);
  process.exit(1);
}
