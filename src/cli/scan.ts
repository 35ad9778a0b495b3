import { setFlagsFromString } from 'node:v8';
import { UsageError } from '../errors.ts';
import { redactHeaders, redactUrl } from '../credentials/redact.ts';
import { recordUrl, recordUrlBuilder, type ScanSettings } from '../scan/config.ts';
import { describeStop, ListDeniedError, Scan, type ScanRunResult } from '../scan/run.ts';
import { checkOutFile, positiveInt, prepareScan } from '../scan/settings.ts';
import { ScanState } from '../scan/state.ts';
import { deniedRecordReports, summarize, writeForbidden, SCAN_SCHEMA, type ScanSummary } from '../scan/summary.ts';
import { diffScans } from '../scan/diff.ts';
import { renderScanDiff, renderScanSummary } from '../render/scan.ts';
import { renderJsonLine } from '../render/json.ts';
import { renderTerminal } from '../render/terminal.ts';
import { styleFor } from '../render/text.ts';
import { showProgress, type ProgressDisplay } from './progress.ts';
import type { Io } from './io.ts';
import { commandArgs, JSON_OPTIONS, printHelp, SEND_OPTIONS } from './args.ts';
import { parseHeaderArg } from './header-arg.ts';
import { exitCode } from './exit-code.ts';

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

export async function scanCommand(argv: string[], io: Io): Promise<number> {
  if (argv[0] === 'diff') return diffCommand(argv.slice(1), io);
  if (argv[0] === 'report') return reportCommand(argv.slice(1), io);
  const { values, positionals } = commandArgs(argv, {
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
    ...SEND_OPTIONS,
    concurrency: { type: 'string' },
    rate: { type: 'string' },
    retries: { type: 'string' },
    'max-wait': { type: 'string' },
    'max-page': { type: 'string' },
    state: { type: 'string' },
    resume: { type: 'string' },
    'retry-errors': { type: 'boolean' },
    out: { type: 'string' },
    ...JSON_OPTIONS,
    'progress-interval': { type: 'string' },
    quiet: { type: 'boolean' },
  });
  if (values.help) return printHelp(io, HELP);
  if (positionals.length)
    throw new UsageError(
      `unexpected argument "${positionals[0]}" ` +
        '(give the list with --list URL, ids with --ids FILE, and the record URL with --get)',
    );
  if (values.json && values.jsonl) throw new UsageError('choose one output format, not --json and --jsonl');
  const headers = (values.header ?? []).map(parseHeaderArg);
  const scan = prepareScan({ ...values, headers });
  if (scan.retried !== undefined) {
    const n = scan.retried;
    io.stderr.write(`scan: ${n} record${n === 1 ? '' : 's'} that ended in an error will be fetched again\n`);
  }
  if (!scan.state) {
    io.stdout.write(dryRun(scan.settings, Boolean(values['show-secrets'])));
    return exitCode({ kind: 'done' });
  }
  return runAndReport(scan.state, scan.settings, {
    io,
    maxWaitMs: scan.maxWaitMs,
    quiet: values.quiet,
    progressInterval: scan.progressIntervalS,
    out: values.out,
    json: values.json,
    jsonl: values.jsonl,
    resumed: scan.resumed,
  });
}

function dryRun(s: ScanSettings, showSecrets: boolean): string {
  const url = (u: string) => (showSecrets ? u : redactUrl(u));
  const lines: string[] = [];
  if (s.source.kind === 'list')
    lines.push(`would walk the list: GET ${url(s.source.url)} and each next page it names (same origin only)`);
  else
    lines.push(`would read ids from ${s.source.file === '-' ? 'standard input' : s.source.file} (${s.source.format})`);
  lines.push(
    `would send, for each record: ${s.method} ${url(recordUrl(s.template, '{id}').replace('%7Bid%7D', '{id}'))}`,
  );
  for (const h of showSecrets ? s.headers : redactHeaders(s.headers)) lines.push(`  ${h.name}: ${h.value}`);
  lines.push(
    `at most ${s.concurrency} at once${s.rate ? `, at most ${String(Number(s.rate.toFixed(2)))} a second` : ''}, ` +
      `${s.timeoutMs / 1000} s timeout, ${s.retries} retries after a network error; 429 and Retry-After honoured`,
  );
  return lines.join('\n') + '\n';
}

async function runAndReport(
  state: ScanState,
  settings: ScanSettings,
  o: {
    io: Io;
    maxWaitMs: number;
    quiet?: boolean;
    progressInterval: number;
    out?: string;
    json?: boolean;
    jsonl?: boolean;
    resumed: boolean;
  },
): Promise<number> {
  const { io } = o;
  // Lines said before the progress display starts go straight to stderr.
  const progress: { display?: ProgressDisplay } = {};
  const say = (line: string) => {
    if (o.quiet) return;
    if (progress.display) progress.display.say(`scan: ${line}`);
    else io.stderr.write(`scan: ${line}\n`);
  };
  say(
    o.resumed
      ? `resuming ${state.path}`
      : `state ${state.path} (if stopped, continue with: why403 scan --resume ${state.path})`,
  );
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
      process.exit(exitCode({ kind: 'scan', records: scan.progress(), stop: { kind: 'interrupted', signal: sig } }));
    }
    const inFlight = `the requests in flight (at most ${settings.concurrency}) are ended and fetched again on --resume`;
    io.stderr.write(`\nscan: ${sig}: stopping; ${inFlight}\n`);
    scan.stop({ kind: 'interrupted', signal: sig }, true);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const shown = showProgress(io, () => scan.progress(), { quiet: o.quiet, intervalS: o.progressInterval });
  progress.display = shown;
  let run: ScanRunResult;
  try {
    run = await scan.run();
  } catch (e) {
    shown.stop();
    if (e instanceof ListDeniedError) {
      io.stderr.write(`why403: ${e.message}\n`);
      const width = Math.min(io.stdout.columns ?? 80, 100);
      io.stdout.write(
        o.json || o.jsonl
          ? renderJsonLine(e.report)
          : renderTerminal(e.report, { width, style: styleFor(io.stdout, io.env) }),
      );
      state.close();
      return exitCode({ kind: 'error', error: 'list-denied' });
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
    run: {
      ...(run.stopped ? { stopped: describeStop(run.stopped) } : {}),
      requeued: run.requeued,
      requests: run.requests,
      notes: run.notes,
      elapsedMs: Math.round(run.elapsedMs),
      fetchMs: Math.round(run.fetchMs),
      maxRssBytes: process.resourceUsage().maxRSS * 1024,
    },
  });
  state.close();
  if (run.stopped) {
    const left = `${summary.records.pending} records left; continue with: why403 scan --resume ${state.path}`;
    io.stderr.write(`scan: stopped: ${describeStop(run.stopped)}. ${left}\n`);
  }
  return exitCode({ kind: 'scan', records: summary.records, ...(run.stopped ? { stop: run.stopped } : {}) });
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
  const { values, positionals } = commandArgs(argv, { ...JSON_OPTIONS, out: { type: 'string' } });
  if (values.help) return printHelp(io, REPORT_HELP);
  if (positionals.length !== 1) throw new UsageError(`scan report needs one state file (got ${positionals.length})`);
  if (values.json && values.jsonl) throw new UsageError('choose one output format, not --json and --jsonl');
  checkOutFile(values.out);
  const state = ScanState.readOnly(positionals[0]);
  try {
    const summary = summarize(state);
    const outCount = values.out ? await writeForbidden(state, values.out) : undefined;
    const urlFor = recordUrlBuilder(state.config().template);
    writeResults(state, summary, urlFor, { io, out: values.out, outCount, json: values.json, jsonl: values.jsonl });
    return exitCode({ kind: 'scan-report', records: summary.records });
  } finally {
    state.close();
  }
}

function writeResults(
  state: ScanState,
  summary: ScanSummary,
  urlFor: (id: string) => string,
  o: { io: Io; out?: string; outCount?: number; json?: boolean; jsonl?: boolean; run?: Record<string, unknown> },
): void {
  const { io } = o;
  if (o.jsonl) {
    // One why403/report@1 per denied record: its signature's diagnosis, with its own URL and id.
    for (const report of deniedRecordReports(state, summary, urlFor)) io.stdout.write(renderJsonLine(report));
  } else if (o.json)
    io.stdout.write(
      JSON.stringify(
        { ...summary, ...(o.run ? { run: o.run } : {}), ...(o.out ? { out: { file: o.out, count: o.outCount } } : {}) },
        null,
        2,
      ) + '\n',
    );
  else
    io.stdout.write(
      renderScanSummary(summary, {
        width: Math.min(io.stdout.columns ?? 80, 100),
        style: styleFor(io.stdout, io.env),
        outFile: o.out,
        outCount: o.outCount,
      }),
    );
}

async function diffCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = commandArgs(argv, { json: { type: 'boolean' }, limit: { type: 'string' } });
  if (values.help) return printHelp(io, DIFF_HELP);
  if (positionals.length !== 2)
    throw new UsageError(`scan diff needs two state files, the earlier scan first (got ${positionals.length})`);
  const limit = positiveInt(values.limit, '--limit', 1000);
  const d = diffScans(positionals[0], positionals[1], limit);
  if (values.json) io.stdout.write(JSON.stringify(d, null, 2) + '\n');
  else
    io.stdout.write(
      renderScanDiff(d, { width: Math.min(io.stdout.columns ?? 80, 100), style: styleFor(io.stdout, io.env) }),
    );
  return exitCode({ kind: 'scan-diff', newlyForbidden: d.counts.newlyForbidden });
}
