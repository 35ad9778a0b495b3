// A scan's settings from the options as given (the command's flags, by
// name): each checked, a new scan's source and request built, or a stopped
// scan's state file opened with the rules of --resume (what may change, what
// must be given again). The command parses arguments and renders; the
// decisions are here.
import { existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { NameValue } from '../model/exchange.ts';
import { UsageError } from '../errors.ts';
import { SAFE_METHODS } from '../probes/guard.ts';
import {
  assertTemplate,
  DEFAULT_MAX_PAGE,
  restoreConfig,
  storeConfig,
  type ScanSettings,
  type Source,
} from './config.ts';
import { formatOf } from './ids.ts';
import { parsePath } from './json-path.ts';
import { DEFAULT_MAX_WAIT_MS } from './pace.ts';
import { ScanState } from './state.ts';

/** The scan's options as the command line spells them (strings, as given). */
export interface ScanOptions {
  list?: string;
  items?: string;
  next?: string;
  'cursor-param'?: string;
  'page-param'?: string;
  'offset-param'?: string;
  id?: string;
  ids?: string;
  'ids-format'?: string;
  column?: string;
  get?: string;
  /** The -H headers, parsed. */
  headers: NameValue[];
  /** -X */
  request?: string;
  'allow-unsafe'?: boolean;
  insecure?: boolean;
  concurrency?: string;
  rate?: string;
  timeout?: string;
  retries?: string;
  'max-wait'?: string;
  'max-page'?: string;
  state?: string;
  resume?: string;
  'retry-errors'?: boolean;
  out?: string;
  'progress-interval'?: string;
  'dry-run'?: boolean;
}

/** A scan ready to run (or to describe, for --dry-run). */
export interface PreparedScan {
  settings: ScanSettings;
  /** The state file, created or resumed; absent for a dry run, which opens nothing it keeps. */
  state?: ScanState;
  resumed: boolean;
  /** --retry-errors: the records that ended in an error, set to be fetched again. */
  retried?: number;
  /** A Retry-After longer than this stops the scan. */
  maxWaitMs: number;
  /** Without a terminal, a progress line this often. */
  progressIntervalS: number;
}

export function positiveInt(v: string | undefined, flag: string, dflt: number, min = 1): number {
  if (v === undefined) return dflt;
  const x = Number(v);
  if (!Number.isInteger(x) || x < min)
    throw new UsageError(`${flag} "${v}": expected a whole number${min > 0 ? ` of at least ${min}` : ''}`);
  return x;
}

export function seconds(v: string | undefined, flag: string, dflt: number): number {
  if (v === undefined) return dflt;
  const x = Number(v);
  if (!(x > 0)) throw new UsageError(`${flag} "${v}": expected a number of seconds greater than 0`);
  return x;
}

/** "16777216", "512KiB", "16MiB", "1GiB" (k, M and G are binary too). */
export function parseBytes(v: string, flag: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(?:(b|k|kb|kib|m|mb|mib|g|gb|gib)\s*)?$/i.exec(v);
  const unit = (m?.[2] ?? 'b')[0].toLowerCase();
  const scale = unit === 'g' ? 2 ** 30 : unit === 'm' ? 2 ** 20 : unit === 'k' ? 1024 : 1;
  const n = m ? Math.floor(Number(m[1]) * scale) : NaN;
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

/** --out: a .csv or .jsonl file in a folder that exists. */
export function checkOutFile(file: string | undefined): void {
  if (file === undefined) return;
  if (!/\.(csv|jsonl|ndjson)$/i.test(file)) throw new UsageError(`--out ${file}: expected a .csv or .jsonl file name`);
  const dir = dirname(resolve(file));
  if (!existsSync(dir) || !statSync(dir).isDirectory())
    throw new UsageError(`--out ${file}: the folder ${dir} does not exist`);
}

export function defaultStatePath(d = new Date()): string {
  const p = (x: number) => String(x).padStart(2, '0');
  const date = `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}`;
  return `why403-scan-${date}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}.sqlite`;
}

/** Options that set how a scan reads its source or builds its request: fixed once it started. */
const FIXED_ON_RESUME = [
  'ids-format',
  'column',
  'items',
  'next',
  'cursor-param',
  'page-param',
  'offset-param',
  'id',
  'request',
  'state',
] as const;

/** Checks the options, then creates the state file, or opens the one --resume names. Throws UsageError. */
export function prepareScan(o: ScanOptions): PreparedScan {
  const progressIntervalS = seconds(o['progress-interval'], '--progress-interval', 10);
  checkOutFile(o.out);
  const pace = {
    concurrency: positiveInt(o.concurrency, '--concurrency', 4),
    rate: o.rate === undefined ? undefined : parseRate(o.rate),
    timeoutMs: seconds(o.timeout, '--timeout', 15) * 1000,
    retries: positiveInt(o.retries, '--retries', 2, 0),
  };
  const maxWaitMs = seconds(o['max-wait'], '--max-wait', DEFAULT_MAX_WAIT_MS / 1000) * 1000;
  const maxPage = o['max-page'] === undefined ? undefined : parseBytes(o['max-page'], '--max-page');
  const run = { maxWaitMs, progressIntervalS };

  if (o.resume !== undefined) {
    const { state, settings, retried } = resumeScan(o, o.resume, pace, maxPage);
    if (o['dry-run']) {
      state.close();
      return { settings, resumed: true, ...(retried !== undefined ? { retried } : {}), ...run };
    }
    return { settings, state, resumed: true, ...(retried !== undefined ? { retried } : {}), ...run };
  }
  const settings = newScanSettings(o, pace, maxPage);
  if (o['dry-run']) return { settings, resumed: false, ...run };
  const state = ScanState.create(o.state ?? defaultStatePath(), storeConfig(settings));
  return { settings, state, resumed: false, ...run };
}

type Pace = Pick<ScanSettings, 'concurrency' | 'rate' | 'timeoutMs' | 'retries'>;

/**
 * --resume: the stored configuration with its secrets given again; the pace
 * may change, the source and the request may not. The ids from standard
 * input must be given again if they were not all read.
 */
function resumeScan(
  o: ScanOptions,
  path: string,
  pace: Pace,
  maxPage: number | undefined,
): { state: ScanState; settings: ScanSettings; retried?: number } {
  for (const flag of FIXED_ON_RESUME)
    if (o[flag] !== undefined)
      throw new UsageError(
        `--${flag} cannot change on --resume: ` +
          'the scan keeps the settings it started with (start a new scan to change them)',
      );
  const state = ScanState.resume(path);
  const stored = state.config();
  let settings = restoreConfig(stored, { headers: o.headers, template: o.get, list: o.list }, path);
  if (o.ids !== undefined) {
    if (stored.source.kind !== 'ids') throw new UsageError('--ids: this scan reads a list endpoint, not ids');
    if (o.ids !== '-' && resolve(o.ids) !== stored.source.file)
      throw new UsageError(`--ids ${o.ids}: the scan started with ${stored.source.file}`);
  } else if (stored.source.kind === 'ids' && stored.source.file === '-' && state.meta('source.done') !== '1')
    throw new UsageError(
      `${path}: the ids from standard input were not all read before the scan stopped; ` +
        `give them again: why403 scan --resume ${path} --ids - < ids`,
    );
  settings = {
    ...settings,
    concurrency: o.concurrency !== undefined ? pace.concurrency : settings.concurrency,
    rate: o.rate !== undefined ? pace.rate : settings.rate,
    timeoutMs: o.timeout !== undefined ? pace.timeoutMs : settings.timeoutMs,
    retries: o.retries !== undefined ? pace.retries : settings.retries,
    ...(maxPage !== undefined ? { maxPage } : {}),
  };
  return { state, settings, ...(o['retry-errors'] ? { retried: state.requeueErrors() } : {}) };
}

/** A new scan: its source (a list or ids, not both), the record URL template and the method. */
function newScanSettings(o: ScanOptions, pace: Pace, maxPage: number | undefined): ScanSettings {
  if (o['retry-errors']) throw new UsageError('--retry-errors goes with --resume STATE');
  if (o.list === undefined && o.ids === undefined)
    throw new UsageError(
      'scan needs records: --list URL (a list endpoint) or --ids FILE (one id a line; - for standard input)',
    );
  if (o.list !== undefined && o.ids !== undefined) throw new UsageError('give either --list or --ids, not both');
  if (o.get === undefined)
    throw new UsageError("scan needs --get 'https://…/{id}': the URL of one record, {id} where the id goes");
  assertTemplate(o.get);
  const method = (o.request ?? 'GET').toUpperCase();
  if (!SAFE_METHODS.includes(method) && !o['allow-unsafe'])
    throw new UsageError(
      `refusing to send ${method} to every record: it may change data on the server. ` +
        'Add --allow-unsafe to do it anyway, or --dry-run to see the requests',
    );
  const source = o.list !== undefined ? listSource(o, o.list) : idsSource(o, o.ids!);
  return {
    source,
    template: o.get,
    method,
    headers: o.headers,
    ...pace,
    maxBody: 64 * 1024,
    maxPage: maxPage ?? DEFAULT_MAX_PAGE,
    ...(o.insecure ? { insecure: true } : {}),
    ...(o['allow-unsafe'] ? { allowUnsafe: true } : {}),
  };
}

function listSource(o: ScanOptions, url: string): Source {
  try {
    const u = new URL(url);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error();
  } catch {
    throw new UsageError(`--list "${url}": expected an http(s) URL of the list's first page`);
  }
  for (const flag of ['ids-format', 'column'] as const)
    if (o[flag] !== undefined) throw new UsageError(`--${flag} goes with --ids, not --list`);
  const styles = (['next', 'page-param', 'offset-param'] as const).filter((f) => o[f] !== undefined);
  if (styles.length > 1) throw new UsageError(`choose one way to the next page, not --${styles.join(' and --')}`);
  return {
    kind: 'list',
    url,
    ...(checkPath(o.items, '--items') !== undefined ? { items: o.items } : {}),
    ...(checkPath(o.next, '--next') !== undefined ? { next: o.next } : {}),
    ...(o['cursor-param'] ? { cursorParam: o['cursor-param'] } : {}),
    ...(o['page-param'] ? { pageParam: o['page-param'] } : {}),
    ...(o['offset-param'] ? { offsetParam: o['offset-param'] } : {}),
    ...(checkPath(o.id, '--id') !== undefined ? { id: o.id } : {}),
  };
}

function idsSource(o: ScanOptions, file: string): Source {
  for (const flag of ['items', 'next', 'cursor-param', 'page-param', 'offset-param'] as const)
    if (o[flag] !== undefined) throw new UsageError(`--${flag} goes with --list, not --ids`);
  if (file !== '-' && !existsSync(file)) throw new UsageError(`--ids ${file}: no such file`);
  const format = formatOf(file, o['ids-format']);
  if (o.column !== undefined && format !== 'csv')
    throw new UsageError('--column goes with a CSV file (--ids-format csv)');
  return {
    kind: 'ids',
    file: file === '-' ? '-' : resolve(file),
    format,
    ...(o.column ? { column: o.column } : {}),
    ...(checkPath(o.id, '--id') !== undefined ? { id: o.id } : {}),
  };
}
