// What a scan found, read back from its state file: outcomes by status, the
// errors, the distinct denial signatures with one full diagnosis each, and
// the fields that separate the forbidden records from the allowed ones.
// Everything is read in one pass over the records, however many there are.
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Report } from '../model/report.ts';
import { InputError } from '../errors.ts';
import { redactHeaderValue, redactUrl } from '../credentials/redact.ts';
import { DONE, type ScanState } from './state.ts';
import { FieldSeparator, type Separation } from './separate.ts';
import type { ScanConfig } from './config.ts';
import { DENIAL_STATUSES_SQL } from '../engine/status.ts';

export const SCAN_SCHEMA = 'why403/scan@1';

export interface SignatureSummary {
  id: string;
  status: number;
  producer: string;
  layer: string;
  cause: string;
  confidence: number;
  count: number;
  /** Up to five ids that got this answer. */
  examples: string[];
  /** The full diagnosis of the first record that got it (why403/report@1). */
  report: Report;
  /** The fields that separate this signature's records from the allowed ones (the other signatures' records left out). */
  separation: Separation[];
}

export interface ScanSummary {
  schema: typeof SCAN_SCHEMA;
  state: string;
  source: ScanConfig['source'];
  request: { method: string; template: string; headers: { name: string; value: string }[] };
  createdAt?: string;
  complete: boolean;
  records: { total: number; done: number; pending: number; denied: number; allowed: number; errors: number };
  byStatus: Record<string, number>;
  errors: { error: string; count: number; examples: string[] }[];
  signatures: SignatureSummary[];
  /**
   * What separates the forbidden records from the allowed ones: with one
   * signature, all of them; with several, each signature's own separations
   * (each names its `signature`), or, when none has any, all of them at once.
   */
  separation: Separation[];
  /** Why no separation could be looked for, when none could. */
  separationNote?: string;
  duplicates: number;
  listPages?: number;
  /** Why the list's walk stopped before the list said it was over (a loop, another origin). */
  listEnd?: string;
}

const isDenied = (s: number | null) => s === 401 || s === 403 || s === 407;

/** Signatures separated one by one from the allowed records: the largest ones (memory stays bounded). */
const SEPARATED_SIGNATURES = 20;

export function summarize(state: ScanState): ScanSummary {
  const config = state.config();
  const byStatus: Record<string, number> = {};
  const errors = new Map<string, { count: number; examples: string[] }>();
  const sigCounts = new Map<string, { count: number; examples: string[] }>();
  // Counts come from SQL aggregates; JavaScript only walks the rows that need it
  // (errors, and records with fields to compare), so a million plain ids cost
  // no per-row allocation here.
  const { total, done } = state.counts();
  for (const r of state.db
    .prepare(`SELECT status, count(*) AS n FROM records WHERE state = ${DONE} GROUP BY status`)
    .all() as { status: number | null; n: number }[])
    byStatus[r.status === null ? 'error' : String(r.status)] = Number(r.n);
  const sum = (pred: (s: number) => boolean) =>
    Object.entries(byStatus).reduce((n, [k, v]) => (k !== 'error' && pred(Number(k)) ? n + v : n), 0);
  const denied = sum((x) => isDenied(x));
  const allowed = sum((x) => x >= 200 && x < 300);
  let errorCount = 0;
  for (const r of state.db
    .prepare(`SELECT id, error FROM records WHERE state = ${DONE} AND error IS NOT NULL ORDER BY seq`)
    .iterate() as Iterable<{ id: string; error: string }>) {
    errorCount++;
    // Group errors by their wording without the varying parts.
    const kind = r.error.replace(/\d+(\.\d+)?/g, '#');
    const e = errors.get(kind) ?? { count: 0, examples: [] };
    e.count++;
    if (e.examples.length < 5) e.examples.push(r.id);
    errors.set(kind, e);
  }
  const examples = state.db.prepare(
    `SELECT id FROM records WHERE signature = ? AND state = ${DONE} ORDER BY seq LIMIT 5`,
  );
  for (const r of state.db
    .prepare(
      `SELECT signature, count(*) AS n FROM records WHERE state = ${DONE} AND signature IS NOT NULL AND status IN ${DENIAL_STATUSES_SQL} GROUP BY signature`,
    )
    .all() as { signature: string; n: number }[])
    sigCounts.set(r.signature, {
      count: Number(r.n),
      examples: (examples.all(r.signature) as { id: string }[]).map((x) => x.id),
    });
  const separated = [...sigCounts]
    .sort(([ka, a], [kb, b]) => b.count - a.count || ka.localeCompare(kb))
    .slice(0, SEPARATED_SIGNATURES)
    .map(([k]) => k);
  const separator = new FieldSeparator(separated);
  let withFields = 0;
  const fieldRows = state.db
    .prepare(
      `SELECT fields, status, signature FROM records WHERE state = ${DONE} AND fields IS NOT NULL AND fields != '{}' AND (status IN ${DENIAL_STATUSES_SQL} OR status BETWEEN 200 AND 299) ORDER BY seq`,
    )
    .iterate() as Iterable<{ fields: string; status: number; signature: string | null }>;
  for (const r of fieldRows) {
    withFields++;
    separator.add(r.fields, isDenied(r.status), r.signature);
  }
  // One signature holding every forbidden record keeps the plain wording; with several, each statement names its own.
  const separationOf = (key: string): Separation[] => {
    if (!separated.includes(key)) return [];
    const all = separator.deniedCount(key) === separator.deniedCount();
    return separator.resultFor(key, all ? 'forbidden records' : `records refused with [${key}]`);
  };
  const firstErrorText = (kind: string) =>
    (
      state.db
        .prepare('SELECT error FROM records WHERE error IS NOT NULL AND id = ?')
        .get(errors.get(kind)!.examples[0]) as { error: string }
    ).error;
  const signatures: SignatureSummary[] = state
    .signatures()
    .filter((s) => sigCounts.has(s.key))
    .map((s) => ({
      id: s.key,
      status: s.status,
      producer: s.producer,
      layer: s.layer,
      cause: s.cause,
      confidence: s.confidence,
      ...sigCounts.get(s.key)!,
      report: JSON.parse(s.report) as Report,
      separation: separationOf(s.key),
    }))
    .sort((a, b) => b.count - a.count || a.id.localeCompare(b.id));
  const perSignature = signatures.length > 1 ? signatures.flatMap((s) => s.separation) : [];
  const separation = perSignature.length ? perSignature : separator.result();
  let separationNote: string | undefined;
  if (!withFields)
    separationNote =
      'the source gave ids only, no fields to compare (a list endpoint, a CSV with more columns or JSON lines with fields would)';
  else if (!denied) separationNote = 'no record was denied';
  else if (!allowed) separationNote = 'no record was allowed, so nothing to compare the forbidden ones with';
  else if (!separation.length)
    separationNote = 'no field of the records tells the forbidden ones from the allowed ones';
  const listPages = state.meta('source.pages');
  return {
    schema: SCAN_SCHEMA,
    state: state.path,
    source: config.source,
    request: {
      method: config.method,
      template: config.template,
      headers: config.headers.map((h) => ({
        name: h.name,
        value: h.secret ? h.value : redactHeaderValue(h.name, h.value),
      })),
    },
    createdAt: state.meta('createdAt'),
    complete: state.meta('source.done') === '1' && done === total,
    records: { total, done, pending: total - done, denied, allowed, errors: errorCount },
    byStatus,
    errors: [...errors]
      .map(([kind, e]) => ({ error: firstErrorText(kind), count: e.count, examples: e.examples }))
      .sort((a, b) => b.count - a.count),
    signatures,
    separation,
    ...(separationNote ? { separationNote } : {}),
    duplicates: Number(state.meta('source.duplicates') ?? '0'),
    ...(listPages ? { listPages: Number(listPages) } : {}),
    ...(state.meta('source.end') ? { listEnd: state.meta('source.end') } : {}),
  };
}

/** --out: the forbidden ids, as CSV (id,status,signature,producer,cause) or JSON lines with the record's fields. */
export async function writeForbidden(state: ScanState, file: string): Promise<number> {
  const jsonl = /\.(jsonl|ndjson)$/i.test(file);
  const sigs = new Map(state.signatures().map((s) => [s.key, s]));
  const out = createWriteStream(file);
  await once(out, 'open').catch((e: Error) => {
    throw new InputError(file, `cannot write the forbidden ids here (${e.message})`);
  });
  const csv = (v: string | number) => (/[",\n\r]/.test(String(v)) ? `"${String(v).replace(/"/g, '""')}"` : String(v));
  if (!jsonl) out.write('id,status,signature,producer,cause\n');
  let n = 0;
  const rows = state.db
    .prepare(
      `SELECT id, status, signature, fields FROM records WHERE state = ${DONE} AND status IN ${DENIAL_STATUSES_SQL} ORDER BY seq`,
    )
    .iterate() as Iterable<{ id: string; status: number; signature: string | null; fields: string | null }>;
  for (const r of rows) {
    const s = r.signature ? sigs.get(r.signature) : undefined;
    const line = jsonl
      ? JSON.stringify({
          id: r.id,
          status: r.status,
          signature: r.signature,
          producer: s?.producer,
          cause: s?.cause,
          ...(r.fields && r.fields !== '{}' ? { fields: JSON.parse(r.fields) as unknown } : {}),
        }) + '\n'
      : [r.id, r.status, r.signature ?? '', s?.producer ?? '', s?.cause ?? ''].map(csv).join(',') + '\n';
    if (!out.write(line)) await once(out, 'drain');
    n++;
  }
  out.end();
  await once(out, 'finish');
  return n;
}

/**
 * One why403/report@1 per denied record (--jsonl), in the records' order: its
 * signature's diagnosis with the record's own URL (redacted) and id.
 */
export function* deniedRecordReports(
  state: ScanState,
  summary: ScanSummary,
  urlFor: (id: string) => string,
): Generator<Report> {
  const reports = new Map(summary.signatures.map((s) => [s.id, s.report]));
  const sql = `SELECT id, signature FROM records WHERE state = ${DONE} AND status IN ${DENIAL_STATUSES_SQL} ORDER BY seq`;
  for (const r of state.db.prepare(sql).iterate() as Iterable<{ id: string; signature: string | null }>) {
    const base = r.signature ? reports.get(r.signature) : undefined;
    if (!base) continue;
    const url = redactUrl(urlFor(r.id));
    yield {
      ...base,
      request: { ...base.request, url },
      source: { kind: 'live', name: url },
      scan: { id: r.id, signature: r.signature },
    } as Report;
  }
}
