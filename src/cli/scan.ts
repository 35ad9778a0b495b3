import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UsageError } from '../errors.ts';
import { SAFE_METHODS } from '../check.ts';
import { redactHeaders, redactUrl } from '../credentials/redact.ts';
import { assertTemplate, DEFAULT_MAX_PAGE, recordUrl, recordUrlBuilder, restoreConfig, storeConfig, type ScanSettings, type Source } from '../scan/config.ts';
import { formatOf } from '../scan/ids.ts';
import { parsePath } from '../scan/json-path.ts';
import { ListDeniedError, Scan, type ScanRunResult } from '../scan/run.ts';
import { ScanState } from '../scan/state.ts';
import { summarize, writeForbidden, SCAN_SCHEMA, type ScanSummary } from '../scan/summary.ts';
import { diffScans } from '../scan/diff.ts';
import { renderScanDiff, renderScanSummary } from '../render/scan.ts';
import { renderJsonLine } from '../render/json.ts';
import { renderTerminal } from '../render/terminal.ts';
import { styleFor } from '../render/text.ts';
import { showProgress, type ProgressDisplay } from './progress.ts';
import type { Io } from './io.ts';
import { parseHeaderArg } from './header-arg.ts';

const HELP = `Usage:
  why403 scan --list URL --get 'https://…/{id}' [-H 'Name: value']… [options]
  why403 scan --ids FILE|- --get 'https://…/{id}' [-H 'Name: value']… [options]
  why403 scan --resume STATE [-H 'Name: value']… [options]
  why403 scan report STATE [--out FILE] [--json|--jsonl]
  why403 scan diff BEFORE.sqlite AFTER.sqlite [--json]

Fetches every record with the same identity and finds the ones it cannot read:
which ids, what answered, why, and which fields set them apart. Every outcome
is on disk before the worker's next request leaves; an interrupted scan
continues with --resume and never requests a finished record again.

Records from a list endpoint (walked page by page; the style is detected):
  --list URL             the first page (JSON)
  --items PATH           where a page keeps its records (e.g. data.items;
                         default: detected)
  --next PATH            where a page keeps the next page's URL or cursor
                         (default: Link header, next, nextPageToken, …)
  --cursor-param NAME    the query parameter a cursor goes back in
                         (default: from the cursor field's name)
  --page-param NAME      count this query parameter up one a page (page=1, 2, …)
  --offset-param NAME    advance this query parameter by each page's records
                         (offset=0, 25, …)
  --id PATH              a record's id (default: id, _id, uuid, key, or the
                         record itself)
  --max-page BYTES       the largest list page read, e.g. 64MiB (default
                         16MiB; a record's body is kept up to 64KiB)
Records from ids:
  --ids FILE|-           one id a line, a CSV with a header (.csv), or JSON
                         lines (.jsonl)
  --ids-format FORMAT    lines, csv or jsonl (default: from the file name)
  --column NAME          the CSV column with the id (default: id)
The request for each record:
  --get TEMPLATE         the record's URL, {id} where the id goes
  -H 'Name: value'       a header for every request (the credential, as in
                         check); repeatable
  -X METHOD              another method than GET (with --allow-unsafe for
                         anything but GET, HEAD, OPTIONS)
  --insecure             do not verify TLS certificates
Pace:
  --concurrency N        records in flight at once (default 4)
  --rate N/s | N/m       at most this many requests (default: no limit)
  --timeout SECONDS      the whole of a request, headers and body (default 15)
  --retries N            extra attempts after a network error or timeout
                         (default 2), then recorded as an error
  --max-wait SECONDS     a Retry-After longer than this stops the scan,
                         resumable (default 900)
  429 and Retry-After are always honoured: every worker pauses for as long as
  the server asked.
State and output:
  --state FILE           the state file (default: why403-scan-<date>.sqlite in
                         the current folder)
  --resume STATE         continue a scan; secrets (-H credentials) must be
                         given again
  --retry-errors         with --resume: fetch again the records that ended in
                         an error
  --out FILE             write the denied ids to FILE: .csv (id, status,
                         signature, producer, cause) or .jsonl (with the
                         record's fields)
  --json                 the summary as JSON (${SCAN_SCHEMA}, with one
                         full report per denial signature)
  --jsonl                one why403/report@1 line per denied record
  --progress-interval S  without a terminal, a progress line every S seconds
                         (default 10)
  --quiet                no progress display
  --dry-run              print the first requests and the pace; send nothing
  --show-secrets         print credentials unredacted

Exit codes:
  0    every record answered and none denied
  1    some denied (or the list itself)
  2    usage or input error
  3    records without an answer (network errors, timeouts) and none denied,
       or the scan stopped after 20 (or 5 × --concurrency) records in a row
       got no answer
  75   stopped because the server asked to wait longer than --max-wait
  130  interrupted (Ctrl-C: requests in flight are ended; --resume sends them
       again)
  3 (stopped), 75 and 130 leave a state file that --resume continues.
`;

const DIFF_HELP = `Usage: why403 scan diff BEFORE.sqlite AFTER.sqlite [--json] [--limit N]

Compares two scans of the same source by id: records newly forbidden (allowed
before, denied now), newly allowed, and other status changes.
  --json       the comparison as JSON
  --limit N    list at most N records of each kind (default 1000)
Exit codes: 0 nothing newly forbidden, 1 some records newly forbidden,
2 usage or input error.
`;

function positiveInt(v: string | undefined, flag: string, dflt: number, min = 1): number {
  if (v === undefined) return dflt;
  const x = Number(v);
  if (!Number.isInteger(x) || x < min) throw new UsageError(`${flag} "${v}": expected a whole number${min > 0 ? ` of at least ${min}` : ''}`);
  return x;
}

function seconds(v: string | undefined, flag: string, dflt: number): number {
  if (v === undefined) return dflt;
  const x = Number(v);
  if (!(x > 0)) throw new UsageError(`${flag} "${v}": expected a number of seconds greater than 0`);
  return x;
}

/** "16777216", "512KiB", "16MiB", "1GiB" (k, M and G are binary too). */
export function parseBytes(v: string, flag: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(?:(b|k|kb|kib|m|mb|mib|g|gb|gib)\s*)?$/i.exec(v);
  const unit = (m?.[2] ?? 'b')[0].toLowerCase();
  const n = m ? Math.floor(Number(m[1]) * (unit === 'g' ? 2 ** 30 : unit === 'm' ? 2 ** 20 : unit === 'k' ? 1024 : 1)) : NaN;
  if (!(n >= 1024)) throw new UsageError(`${flag} "${v}": expected a size of at least 1KiB, e.g. 16MiB or 524288`);
  return n;
}

/** "10/s", "600/m", "10" (a second). */
export function parseRate(v: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(?:\/\s*(s|sec|second|m|min|minute|h|hour)\s*)?$/i.exec(v);
  if (!m || !(Number(m[1]) > 0)) throw new UsageError(`--rate "${v}": expected requests per time, e.g. 10/s or 600/m`);
  const per = (m[2] ?? 's').toLowerCase();
  return Number(m[1]) / (per.startsWith('h') ? 3600 : per.startsWith('m') ? 60 : 1);
}

function checkPath(v: string | undefined, flag: string): string | undefined {
  if (v === undefined) return undefined;
  try {
    parsePath(v);
  } catch (e) {
    throw new UsageError(`${flag} ${(e as Error).message}`);
  }
  return v;
}

function defaultStatePath(): string {
  const d = new Date();
  const p = (x: number) => String(x).padStart(2, '0');
  return `why403-scan-${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}.sqlite`;
}

function checkOut(file: string | undefined): void {
  if (file === undefined) return;
  if (!/\.(csv|jsonl|ndjson)$/i.test(file)) throw new UsageError(`--out ${file}: expected a .csv or .jsonl file name`);
  const dir = dirname(resolve(file));
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`--out ${file}: the folder ${dir} does not exist`);
}

export async function scanCommand(argv: string[], io: Io): Promise<number> {
  if (argv[0] === 'diff') return diffCommand(argv.slice(1), io);
  if (argv[0] === 'report') return reportCommand(argv.slice(1), io);
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      list: { type: 'string' },
      items: { type: 'string' },
      next: { type: 'string' },
      'cursor-param': { type: 'string' },
      'page-param': { type: 'string' },
      'offset-param': { type: 'string' },
      id: { type: 'string' },
      ids: { type: 'string' },
      'ids-format': { type: 'string' },
      column: { type: 'string' },
      get: { type: 'string' },
      header: { type: 'string', short: 'H', multiple: true },
      request: { type: 'string', short: 'X' },
      'allow-unsafe': { type: 'boolean' },
      insecure: { type: 'boolean' },
      concurrency: { type: 'string' },
      rate: { type: 'string' },
      timeout: { type: 'string' },
      retries: { type: 'string' },
      'max-wait': { type: 'string' },
      'max-page': { type: 'string' },
      state: { type: 'string' },
      resume: { type: 'string' },
      'retry-errors': { type: 'boolean' },
      out: { type: 'string' },
      json: { type: 'boolean' },
      jsonl: { type: 'boolean' },
      'progress-interval': { type: 'string' },
      quiet: { type: 'boolean' },
      'dry-run': { type: 'boolean' },
      'show-secrets': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    io.stdout.write(HELP);
    return 0;
  }
  if (positionals.length) throw new UsageError(`unexpected argument "${positionals[0]}" (give the list with --list URL, ids with --ids FILE, and the record URL with --get)`);
  if (values.json && values.jsonl) throw new UsageError('choose one output format, not --json and --jsonl');
  const headers = (values.header ?? []).map(parseHeaderArg);
  const progressInterval = seconds(values['progress-interval'], '--progress-interval', 10);
  checkOut(values.out);
  const pace = {
    concurrency: positiveInt(values.concurrency, '--concurrency', 4),
    rate: values.rate === undefined ? undefined : parseRate(values.rate),
    timeoutMs: seconds(values.timeout, '--timeout', 15) * 1000,
    retries: positiveInt(values.retries, '--retries', 2, 0),
  };
  const maxWaitMs = seconds(values['max-wait'], '--max-wait', 900) * 1000;
  const maxPage = values['max-page'] === undefined ? undefined : parseBytes(values['max-page'], '--max-page');

  let state: ScanState;
  let settings: ScanSettings;
  if (values.resume !== undefined) {
    for (const flag of ['ids-format', 'column', 'items', 'next', 'cursor-param', 'page-param', 'offset-param', 'id', 'request', 'state'] as const)
      if (values[flag] !== undefined) throw new UsageError(`--${flag} cannot change on --resume: the scan keeps the settings it started with (start a new scan to change them)`);
    state = ScanState.resume(values.resume);
    const stored = state.config();
    settings = restoreConfig(stored, { headers, template: values.get, list: values.list }, values.resume);
    if (values.ids !== undefined) {
      if (stored.source.kind !== 'ids') throw new UsageError('--ids: this scan reads a list endpoint, not ids');
      if (values.ids !== '-' && resolve(values.ids) !== stored.source.file) throw new UsageError(`--ids ${values.ids}: the scan started with ${stored.source.file}`);
    } else if (stored.source.kind === 'ids' && stored.source.file === '-' && state.meta('source.done') !== '1')
      throw new UsageError(`${values.resume}: the ids from standard input were not all read before the scan stopped; give them again: why403 scan --resume ${values.resume} --ids - < ids`);
    settings = {
      ...settings,
      concurrency: values.concurrency !== undefined ? pace.concurrency : settings.concurrency,
      rate: values.rate !== undefined ? pace.rate : settings.rate,
      timeoutMs: values.timeout !== undefined ? pace.timeoutMs : settings.timeoutMs,
      retries: values.retries !== undefined ? pace.retries : settings.retries,
      ...(maxPage !== undefined ? { maxPage } : {}),
    };
    if (values['retry-errors']) {
      const n = state.requeueErrors();
      io.stderr.write(`scan: ${n} record${n === 1 ? '' : 's'} that ended in an error will be fetched again\n`);
    }
  } else {
    if (values['retry-errors']) throw new UsageError('--retry-errors goes with --resume STATE');
    if (values.list === undefined && values.ids === undefined) throw new UsageError('scan needs records: --list URL (a list endpoint) or --ids FILE (one id a line; - for standard input)');
    if (values.list !== undefined && values.ids !== undefined) throw new UsageError('give either --list or --ids, not both');
    if (values.get === undefined) throw new UsageError("scan needs --get 'https://…/{id}': the URL of one record, {id} where the id goes");
    assertTemplate(values.get);
    const method = (values.request ?? 'GET').toUpperCase();
    if (!SAFE_METHODS.includes(method) && !values['allow-unsafe'])
      throw new UsageError(`refusing to send ${method} to every record: it may change data on the server. Add --allow-unsafe to do it anyway, or --dry-run to see the requests`);
    let source: Source;
    if (values.list !== undefined) {
      try {
        const u = new URL(values.list);
        if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error();
      } catch {
        throw new UsageError(`--list "${values.list}": expected an http(s) URL of the list's first page`);
      }
      for (const flag of ['ids-format', 'column'] as const) if (values[flag] !== undefined) throw new UsageError(`--${flag} goes with --ids, not --list`);
      const styles = ['next', 'page-param', 'offset-param'].filter((f) => values[f as 'next'] !== undefined);
      if (styles.length > 1) throw new UsageError(`choose one way to the next page, not --${styles.join(' and --')}`);
      source = {
        kind: 'list',
        url: values.list,
        ...(checkPath(values.items, '--items') !== undefined ? { items: values.items } : {}),
        ...(checkPath(values.next, '--next') !== undefined ? { next: values.next } : {}),
        ...(values['cursor-param'] ? { cursorParam: values['cursor-param'] } : {}),
        ...(values['page-param'] ? { pageParam: values['page-param'] } : {}),
        ...(values['offset-param'] ? { offsetParam: values['offset-param'] } : {}),
        ...(checkPath(values.id, '--id') !== undefined ? { id: values.id } : {}),
      };
    } else {
      for (const flag of ['items', 'next', 'cursor-param', 'page-param', 'offset-param'] as const) if (values[flag] !== undefined) throw new UsageError(`--${flag} goes with --list, not --ids`);
      const file = values.ids!;
      if (file !== '-' && !existsSync(file)) throw new UsageError(`--ids ${file}: no such file`);
      const format = formatOf(file, values['ids-format']);
      if (values.column !== undefined && format !== 'csv') throw new UsageError('--column goes with a CSV file (--ids-format csv)');
      source = { kind: 'ids', file: file === '-' ? '-' : resolve(file), format, ...(values.column ? { column: values.column } : {}), ...(checkPath(values.id, '--id') !== undefined ? { id: values.id } : {}) };
    }
    settings = { source, template: values.get, method, headers, ...pace, maxBody: 64 * 1024, maxPage: maxPage ?? DEFAULT_MAX_PAGE, ...(values.insecure ? { insecure: true } : {}), ...(values['allow-unsafe'] ? { allowUnsafe: true } : {}) };
    if (values['dry-run']) {
      io.stdout.write(dryRun(settings, Boolean(values['show-secrets'])));
      return 0;
    }
    const path = values.state ?? defaultStatePath();
    state = ScanState.create(path, storeConfig(settings));
  }
  if (values['dry-run']) {
    state.close();
    io.stdout.write(dryRun(settings, Boolean(values['show-secrets'])));
    return 0;
  }
  return runAndReport(state, settings, { io, maxWaitMs, quiet: values.quiet, progressInterval, out: values.out, json: values.json, jsonl: values.jsonl, resumed: values.resume !== undefined });
}

function dryRun(s: ScanSettings, showSecrets: boolean): string {
  const url = (u: string) => (showSecrets ? u : redactUrl(u));
  const lines: string[] = [];
  if (s.source.kind === 'list') lines.push(`would walk the list: GET ${url(s.source.url)} and each next page it names (same origin only)`);
  else lines.push(`would read ids from ${s.source.file === '-' ? 'standard input' : s.source.file} (${s.source.format})`);
  lines.push(`would send, for each record: ${s.method} ${url(recordUrl(s.template, '{id}').replace('%7Bid%7D', '{id}'))}`);
  for (const h of showSecrets ? s.headers : redactHeaders(s.headers)) lines.push(`  ${h.name}: ${h.value}`);
  lines.push(`at most ${s.concurrency} at once${s.rate ? `, at most ${String(Number(s.rate.toFixed(2)))} a second` : ''}, ${s.timeoutMs / 1000} s timeout, ${s.retries} retries after a network error; 429 and Retry-After honoured`);
  return lines.join('\n') + '\n';
}

async function runAndReport(
  state: ScanState,
  settings: ScanSettings,
  o: { io: Io; maxWaitMs: number; quiet?: boolean; progressInterval: number; out?: string; json?: boolean; jsonl?: boolean; resumed: boolean },
): Promise<number> {
  const { io } = o;
  let display: ProgressDisplay | undefined;
  const say = (line: string) => {
    if (o.quiet) return;
    if (display) display.say(`scan: ${line}`);
    else io.stderr.write(`scan: ${line}\n`);
  };
  say(`${o.resumed ? 'resuming' : 'state'} ${state.path}${o.resumed ? '' : ` (if stopped, continue with: why403 scan --resume ${state.path})`}`);
  // Keep V8's young generation at its starting size for this long, allocation-heavy
  // run. By default V8 doubles it each time survivors add up to its size, up to
  // 128 MB: a step in memory that comes sooner or later with the number of records
  // (a million ids peaked at 257-298 MiB against 174 at 100,000; with this, about
  // 200). The cost, more frequent scavenges, measured at under 1 % of CPU
  // (docs/performance.md). The flag is read when V8 grows the space, so setting it
  // now takes effect; it is this process's only, and only the CLI sets it.
  setFlagsFromString('--semi-space-growth-factor=1');
  const scan = new Scan(state, settings, { stdin: io.stdin, env: io.env, maxWaitMs: o.maxWaitMs, onNote: say });
  let interrupts = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    interrupts++;
    if (interrupts > 1) {
      // A second Ctrl-C: leave now. Records in flight stay marked and are requested again on --resume.
      io.stderr.write(`\nscan: stopped at once; continue with: why403 scan --resume ${state.path}\n`);
      process.exit(130);
    }
    io.stderr.write(`\nscan: ${sig}: stopping; the requests in flight (at most ${settings.concurrency}) are ended and fetched again on --resume\n`);
    scan.stop(`interrupted (${sig})`, true);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  display = showProgress(io, () => scan.progress(), { quiet: o.quiet, intervalS: o.progressInterval });
  const shown = display;
  let run: ScanRunResult;
  try {
    run = await scan.run();
  } catch (e) {
    shown.stop();
    if (e instanceof ListDeniedError) {
      io.stderr.write(`why403: ${e.message}\n`);
      io.stdout.write(o.json || o.jsonl ? renderJsonLine(e.report) : renderTerminal(e.report, { width: Math.min(io.stdout.columns ?? 80, 100), style: styleFor(io.stdout, io.env) }));
      state.close();
      return 1;
    }
    state.close();
    throw e;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  shown.stop();
  const summary = summarize(state);
  const outCount = o.out ? await writeForbidden(state, o.out) : undefined;
  writeResults(state, summary, recordUrlBuilder(settings.template), {
    io,
    out: o.out,
    outCount,
    json: o.json,
    jsonl: o.jsonl,
    run: { ...(run.stopped ? { stopped: run.stopped } : {}), requeued: run.requeued, requests: run.requests, notes: run.notes, elapsedMs: Math.round(run.elapsedMs), fetchMs: Math.round(run.fetchMs), maxRssBytes: process.resourceUsage().maxRSS * 1024 },
  });
  state.close();
  if (run.stopped) {
    io.stderr.write(`scan: stopped: ${run.stopped}. ${summary.records.pending} records left; continue with: why403 scan --resume ${state.path}\n`);
    return run.stopped.startsWith('interrupted') ? 130 : run.stopped.includes('in a row got no answer') ? 3 : 75;
  }
  return summary.records.denied > 0 ? 1 : summary.records.errors > 0 ? 3 : 0;
}

const REPORT_HELP = `Usage: why403 scan report STATE [--out FILE] [--json|--jsonl]

Prints what a scan found so far, from its state file alone: nothing is sent and
no credential is needed (a running or stopped scan may be read too).
  --out FILE   write the denied ids to FILE: .csv or .jsonl
  --json       the summary as JSON (${SCAN_SCHEMA})
  --jsonl      one why403/report@1 line per denied record
Exit codes: 0 no record denied, 1 some denied, 2 usage or input error.
`;

async function reportCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { json: { type: 'boolean' }, jsonl: { type: 'boolean' }, out: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    io.stdout.write(REPORT_HELP);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError(`scan report needs one state file (got ${positionals.length})`);
  if (values.json && values.jsonl) throw new UsageError('choose one output format, not --json and --jsonl');
  checkOut(values.out);
  const state = ScanState.readOnly(positionals[0]);
  try {
    const summary = summarize(state);
    writeResults(state, summary, recordUrlBuilder(state.config().template), { io, out: values.out, outCount: values.out ? await writeForbidden(state, values.out) : undefined, json: values.json, jsonl: values.jsonl });
    return summary.records.denied > 0 ? 1 : 0;
  } finally {
    state.close();
  }
}

function writeResults(state: ScanState, summary: ScanSummary, urlFor: (id: string) => string, o: { io: Io; out?: string; outCount?: number; json?: boolean; jsonl?: boolean; run?: Record<string, unknown> }): void {
  const { io } = o;
  if (o.jsonl) {
    // One why403/report@1 per denied record: its signature's diagnosis, with its own URL and id.
    const reports = new Map(summary.signatures.map((s) => [s.id, s.report]));
    const rows = state.db.prepare('SELECT id, signature FROM records WHERE state = 2 AND status IN (401, 403, 407) ORDER BY seq').iterate() as Iterable<{ id: string; signature: string | null }>;
    for (const r of rows) {
      const base = r.signature ? reports.get(r.signature) : undefined;
      if (!base) continue;
      const url = redactUrl(urlFor(r.id));
      io.stdout.write(renderJsonLine({ ...base, request: { ...base.request, url }, source: { kind: 'live', name: url }, scan: { id: r.id, signature: r.signature } } as typeof base));
    }
  } else if (o.json) io.stdout.write(JSON.stringify({ ...summary, ...(o.run ? { run: o.run } : {}), ...(o.out ? { out: { file: o.out, count: o.outCount } } : {}) }, null, 2) + '\n');
  else io.stdout.write(renderScanSummary(summary, { width: Math.min(io.stdout.columns ?? 80, 100), style: styleFor(io.stdout, io.env), outFile: o.out, outCount: o.outCount }));
}

async function diffCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { json: { type: 'boolean' }, limit: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    io.stdout.write(DIFF_HELP);
    return 0;
  }
  if (positionals.length !== 2) throw new UsageError(`scan diff needs two state files, the earlier scan first (got ${positionals.length})`);
  const limit = positiveInt(values.limit, '--limit', 1000);
  const d = diffScans(positionals[0], positionals[1], limit);
  if (values.json) io.stdout.write(JSON.stringify(d, null, 2) + '\n');
  else io.stdout.write(renderScanDiff(d, { width: Math.min(io.stdout.columns ?? 80, 100), style: styleFor(io.stdout, io.env) }));
  return d.counts.newlyForbidden > 0 ? 1 : 0;
}
