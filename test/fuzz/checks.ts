// What the fuzz properties assert, one `check` per target. Each takes an input
// (as the arbitraries of ./arbitraries.ts produce it, or as a saved fixture in
// ./found/ holds it) and throws a FuzzFailure when the code under test broke
// its contract: every importer either returns a well-formed result or throws
// the project's InputError/UsageError; the engine never throws and returns a
// report of the documented shape; no input takes more than a second.
import { InputError, UsageError } from '../../src/errors.ts';
import { parseRaw, fromRaw } from '../../src/importers/raw.ts';
import { parseJson, fromJson, fromJsonAll } from '../../src/importers/json.ts';
import { readHar } from '../../src/importers/har.ts';
import { detectFormat, importFile, importText, type Import } from '../../src/importers/detect.ts';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { curlRequests } from '../../src/importers/curl.ts';
import { curlCmdRequests, tokenizeCmd } from '../../src/importers/curl-cmd.ts';
import { curlForCheck } from '../../src/importers/curl-options.ts';
import { inspectToken } from '../../src/inspect.ts';
import { diagnoseWith, likelihoodOf } from '../../src/engine/diagnose.ts';
import { outcomeOf, isDenial } from '../../src/engine/status.ts';
import { secretsOf } from '../../src/engine/scrub.ts';
import { loadRules } from '../../src/rules/registry.ts';
import type { Rule } from '../../src/rules/define.ts';
import type { Exchange, ExchangeRequest, ExchangeResponse } from '../../src/model/exchange.ts';
import type { Report } from '../../src/model/report.ts';
import type { CredentialReport } from '../../src/model/credential.ts';
import { REPORT_SCHEMA } from '../../src/model/report.ts';
import { CAUSE_IDS } from '../../src/model/vocabulary.ts';

/** The contract was broken: `message` says how. */
export class FuzzFailure extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FuzzFailure';
  }
}

/** The most one input may take, in milliseconds. */
export const PER_INPUT_MS = 1000;

/** A fixed date, so that a replay sees the same clock. */
export const NOW = new Date('2026-06-01T12:00:00Z');

let rules: Rule[] | undefined;
/** Loads the rules and curlconverter (its first use compiles a grammar): not to be counted against one input. */
export async function warmUp(): Promise<void> {
  rules ??= await loadRules();
  await curlRequests("curl 'https://warm.example.test/' -H 'A: b'", 'warm-up');
}

// ---- shapes ---------------------------------------------------------------

function fail(where: string, what: string, value?: unknown): never {
  let shown: string;
  try {
    shown = value === undefined ? '' : `: ${JSON.stringify(value)?.slice(0, 200)}`;
  } catch {
    shown = `: ${String(value).slice(0, 200)}`;
  }
  throw new FuzzFailure(`${where}: ${what}${shown}`);
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function nameValues(v: unknown, where: string): void {
  if (!Array.isArray(v)) fail(where, 'expected a list of {name, value}', v);
  v.forEach((nv, i) => {
    if (!isObj(nv) || typeof nv.name !== 'string' || typeof nv.value !== 'string')
      fail(`${where}[${i}]`, 'expected {name: string, value: string}', nv);
  });
}

export function checkRequest(r: unknown, where: string, urlMustParse: boolean): asserts r is ExchangeRequest {
  if (!isObj(r)) fail(where, 'expected an object', r);
  if (typeof r.method !== 'string' || !r.method) fail(`${where}.method`, 'expected a non-empty string', r.method);
  if (typeof r.url !== 'string') fail(`${where}.url`, 'expected a string', r.url);
  if (urlMustParse && !URL.canParse(r.url)) fail(`${where}.url`, 'expected an absolute URL', r.url);
  nameValues(r.headers, `${where}.headers`);
  if (r.cookies !== undefined) nameValues(r.cookies, `${where}.cookies`);
  if (r.queryString !== undefined) nameValues(r.queryString, `${where}.queryString`);
  if (r.httpVersion !== undefined && typeof r.httpVersion !== 'string')
    fail(`${where}.httpVersion`, 'expected a string', r.httpVersion);
  if (r.postData !== undefined) {
    const pd = r.postData;
    if (!isObj(pd) || typeof pd.mimeType !== 'string') fail(`${where}.postData`, 'expected {mimeType: string, …}', pd);
    if (pd.text !== undefined && typeof pd.text !== 'string')
      fail(`${where}.postData.text`, 'expected a string', pd.text);
    if (pd.params !== undefined) nameValues(pd.params, `${where}.postData.params`);
  }
}

export function checkResponse(r: unknown, where: string): asserts r is ExchangeResponse {
  if (!isObj(r)) fail(where, 'expected an object', r);
  // HAR keeps a denial's status as read (401 or 403); text importers accept 100–999.
  if (typeof r.status !== 'number' || !Number.isInteger(r.status) || r.status < 100 || r.status > 999)
    fail(`${where}.status`, 'expected an integer 100–999', r.status);
  if (typeof r.statusText !== 'string') fail(`${where}.statusText`, 'expected a string', r.statusText);
  nameValues(r.headers, `${where}.headers`);
  const c = r.content;
  if (!isObj(c)) fail(`${where}.content`, 'expected an object', c);
  if (c.text !== undefined && typeof c.text !== 'string') fail(`${where}.content.text`, 'expected a string', c.text);
  if (c.mimeType !== undefined && typeof c.mimeType !== 'string')
    fail(`${where}.content.mimeType`, 'expected a string', c.mimeType);
  if (c.size !== undefined && typeof c.size !== 'number') fail(`${where}.content.size`, 'expected a number', c.size);
  if (c.encoding !== undefined && typeof c.encoding !== 'string')
    fail(`${where}.content.encoding`, 'expected a string', c.encoding);
}

const SOURCE_KINDS = new Set(['har', 'raw', 'curl', 'json', 'live', 'fetch']);

export function checkExchange(e: unknown, where: string, urlMustParse: boolean): asserts e is Exchange {
  if (!isObj(e)) fail(where, 'expected an object', e);
  checkResponse(e.response, `${where}.response`);
  if (e.request !== undefined) checkRequest(e.request, `${where}.request`, urlMustParse);
  if (!isObj(e.source) || !SOURCE_KINDS.has(e.source.kind as string) || typeof e.source.name !== 'string')
    fail(`${where}.source`, 'expected {kind, name}', e.source);
  if (e.notes !== undefined && (!Array.isArray(e.notes) || !e.notes.every((n) => typeof n === 'string')))
    fail(`${where}.notes`, 'expected a list of strings', e.notes);
}

const unit = (n: unknown) => typeof n === 'number' && Number.isFinite(n) && n >= 0 && n <= 1;

export function checkCredentialReport(c: unknown, where: string): asserts c is CredentialReport {
  if (!isObj(c)) fail(where, 'expected an object', c);
  if (typeof c.scheme !== 'string') fail(`${where}.scheme`, 'expected a string', c.scheme);
  if (!Array.isArray(c.items)) fail(`${where}.items`, 'expected a list', c.items);
  c.items.forEach((it, i) => {
    if (!isObj(it) || typeof it.kind !== 'string' || typeof it.location !== 'string' || typeof it.display !== 'string')
      fail(`${where}.items[${i}]`, 'expected {kind, location, display}', it);
  });
  if (c.items.length && c.scheme === 'none') fail(`${where}.scheme`, 'is "none" but items were found', c.items);
  if (!Array.isArray(c.findings)) fail(`${where}.findings`, 'expected a list', c.findings);
  c.findings.forEach((f, i) => {
    if (!isObj(f) || typeof f.id !== 'string' || typeof f.text !== 'string' || typeof f.source !== 'string')
      fail(`${where}.findings[${i}]`, 'expected {id, cause, weight, text, source}', f);
    if (!(CAUSE_IDS as readonly string[]).includes(f.cause as string))
      fail(`${where}.findings[${i}].cause`, 'expected a cause id', f.cause);
    if (!unit(f.weight)) fail(`${where}.findings[${i}].weight`, 'expected a number in [0, 1]', f.weight);
    if (i && (c.findings as { weight: number }[])[i - 1]!.weight < (f.weight as number))
      fail(`${where}.findings`, 'expected to be sorted by weight, highest first', c.findings);
  });
  if (!isObj(c.clock) || typeof c.clock.local !== 'string') fail(`${where}.clock`, 'expected {local, …}', c.clock);
}

const OUTCOMES = new Set([
  'denied',
  'unauthenticated',
  'allowed',
  'redirect',
  'not-found',
  'method-not-allowed',
  'rate-limited',
  'client-error',
  'server-error',
]);

/** The report's documented shape (src/model/report.ts, design.md section 3). */
export function checkReport(r: unknown, exchange: Exchange): asserts r is Report {
  if (!isObj(r)) fail('report', 'expected an object', r);
  if (r.schema !== REPORT_SCHEMA) fail('report.schema', `expected ${REPORT_SCHEMA}`, r.schema);
  if (!isObj(r.request) || typeof r.request.method !== 'string' || typeof r.request.url !== 'string')
    fail('report.request', 'expected {method, url}', r.request);
  if (r.status !== exchange.response.status) fail('report.status', `expected ${exchange.response.status}`, r.status);
  if (r.outcome !== outcomeOf(exchange.response.status) || !OUTCOMES.has(r.outcome as string))
    fail('report.outcome', 'expected the outcome of the status', r.outcome);
  if (typeof r.headline !== 'string' || !r.headline) fail('report.headline', 'expected a non-empty string', r.headline);
  if (!Array.isArray(r.causes)) fail('report.causes', 'expected a list', r.causes);
  const denial = isDenial(exchange.response.status);
  if (denial && !r.causes.length) fail('report.causes', 'expected at least one cause for a denial (or "unknown")');
  if (!denial && r.causes.length) fail('report.causes', 'expected none for a status that is not a denial', r.causes);
  const ids = new Set<string>();
  r.causes.forEach((c, i) => {
    const w = `report.causes[${i}]`;
    if (!isObj(c)) fail(w, 'expected an object', c);
    if (!(CAUSE_IDS as readonly string[]).includes(c.id as string)) fail(`${w}.id`, 'expected a cause id', c.id);
    if (ids.has(c.id as string)) fail(`${w}.id`, 'appears twice', c.id);
    ids.add(c.id as string);
    if (!unit(c.score)) fail(`${w}.score`, 'expected a number in [0, 1]', c.score);
    if (c.likelihood !== likelihoodOf(c.score as number))
      fail(`${w}.likelihood`, `expected ${likelihoodOf(c.score as number)} for score ${c.score}`, c.likelihood);
    if (i && (r.causes as { score: number }[])[i - 1]!.score < (c.score as number))
      fail(
        'report.causes',
        'expected to be sorted by score, highest first',
        (r.causes as { id: string; score: number }[]).map((x) => [x.id, x.score]),
      );
    if (typeof c.summary !== 'string' || !c.summary) fail(`${w}.summary`, 'expected a non-empty string', c.summary);
    if (
      !Array.isArray(c.evidence) ||
      !c.evidence.every((e) => isObj(e) && typeof e.source === 'string' && typeof e.text === 'string')
    )
      fail(`${w}.evidence`, 'expected a list of {source, text}', c.evidence);
    if (
      !Array.isArray(c.fixes) ||
      !c.fixes.every(
        (f) => isObj(f) && typeof f.title === 'string' && ['easy', 'medium', 'hard'].includes(f.difficulty as string),
      )
    )
      fail(`${w}.fixes`, 'expected a list of {title, difficulty}', c.fixes);
    const order = { easy: 0, medium: 1, hard: 2 } as Record<string, number>;
    (c.fixes as { difficulty: string }[]).forEach((f, j, all) => {
      if (j && order[all[j - 1]!.difficulty]! > order[f.difficulty]!)
        fail(`${w}.fixes`, 'expected easy fixes first', all);
    });
  });
  if (r.deniedBy !== undefined) {
    if (!denial) fail('report.deniedBy', 'expected none for a status that is not a denial', r.deniedBy);
    const d = r.deniedBy;
    if (
      !isObj(d) ||
      typeof d.layer !== 'string' ||
      typeof d.product !== 'string' ||
      !unit(d.confidence) ||
      !Array.isArray(d.evidence)
    )
      fail('report.deniedBy', 'expected {layer, product, confidence in [0,1], evidence}', d);
  }
  checkCredentialReport(r.credential, 'report.credential');
  if (!Array.isArray(r.probes)) fail('report.probes', 'expected a list', r.probes);
  if (!Array.isArray(r.notes) || !r.notes.every((n) => typeof n === 'string'))
    fail('report.notes', 'expected a list of strings', r.notes);
  if (new Set(r.notes).size !== r.notes.length) fail('report.notes', 'expected no repeats', r.notes);
  if (!isObj(r.source) || typeof r.source.kind !== 'string' || typeof r.source.name !== 'string')
    fail('report.source', 'expected {kind, name}', r.source);
  let json: string;
  try {
    json = JSON.stringify(r);
  } catch (err) {
    fail('report', `does not serialise to JSON (${(err as Error).message})`);
  }
  if (typeof json !== 'string') fail('report', 'does not serialise to JSON');
}

/** Without showSecrets, no secret the request carried appears anywhere in the report, keys included. */
export function checkNoSecrets(report: Report, exchange: Exchange): void {
  const secrets = secretsOf(exchange);
  if (!secrets.length) return;
  const walk = (v: unknown, path: string): void => {
    const look = (s: string, where: string) => {
      const leaked = secrets.find((x) => s.includes(x));
      if (leaked !== undefined) fail(where, `shows the secret ${JSON.stringify(leaked)} of the request`, s);
    };
    if (typeof v === 'string') look(v, path);
    else if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${path}[${i}]`));
    else if (isObj(v))
      for (const [k, x] of Object.entries(v)) {
        look(k, `${path} (key ${JSON.stringify(k)})`);
        walk(x, `${path}.${k}`);
      }
  };
  walk(report, 'report');
}

// ---- running one input ------------------------------------------------------

/** Runs `f`; an InputError or UsageError is a fine outcome, anything else escaping is a failure. */
async function expectResultOrInputError<T>(what: string, f: () => T | Promise<T>): Promise<T | undefined> {
  try {
    return await f();
  } catch (err) {
    if (err instanceof InputError || err instanceof UsageError) {
      if (typeof err.message !== 'string' || err.message.includes('\n'))
        throw new FuzzFailure(
          `${what} threw ${err.name} with a message that is not one line: ${JSON.stringify(err.message)}`,
          { cause: err },
        );
      return undefined;
    }
    if (err instanceof FuzzFailure) throw err;
    const e = err as Error;
    throw new FuzzFailure(
      `${what} threw ${e?.name ?? typeof err} (not InputError/UsageError): ${e?.message ?? String(err)}\n${e?.stack ?? ''}`,
      { cause: err },
    );
  }
}

/** The engine must not throw on any exchange, and its report must have the documented shape. */
export function checkDiagnose(exchange: Exchange, what: string): void {
  let report: Report;
  for (const showSecrets of [false, true]) {
    try {
      report = diagnoseWith(rules!, exchange, { now: NOW, showSecrets });
    } catch (err) {
      const e = err as Error;
      throw new FuzzFailure(
        `diagnose (${what}, showSecrets: ${showSecrets}) threw ${e?.name}: ${e?.message}\n${e?.stack ?? ''}`,
        { cause: err },
      );
    }
    try {
      checkReport(report, exchange);
      if (!showSecrets) checkNoSecrets(report, exchange);
    } catch (err) {
      if (err instanceof FuzzFailure) err.message = `diagnose (${what}, showSecrets: ${showSecrets}): ${err.message}`;
      throw err;
    }
  }
}

/** What importText and importFile return: a HAR read to its end, or text exchanges and requests. */
async function checkImport(imp: Import, what: string): Promise<void> {
  if (imp.format === 'har') {
    const exchanges = await expectResultOrInputError(`${what} HAR`, async () => {
      const out: Exchange[] = [];
      for await (const e of imp.har.exchanges) out.push(e);
      await imp.har.summary;
      return out;
    });
    exchanges?.forEach((e, i) => {
      checkExchange(e, `${what}.har.exchanges[${i}]`, false);
      checkDiagnose(e, `${what}.har.exchanges[${i}]`);
    });
    return;
  }
  imp.exchanges.forEach((e, i) => {
    checkExchange(e, `${what}.exchanges[${i}]`, true);
    checkDiagnose(e, `${what}.exchanges[${i}]`);
  });
  imp.requests.forEach((r, i) => checkRequest(r, `${what}.requests[${i}]`, true));
}

async function harExchanges(input: Buffer, what: string): Promise<Exchange[] | undefined> {
  return expectResultOrInputError(what, async () => {
    const r = readHar(input, { name: 'fuzz.har', highWaterMark: 1 + (input.length % 97) });
    const out: Exchange[] = [];
    for await (const e of r.exchanges) out.push(e);
    const s = await r.summary;
    if (
      !isObj(s) ||
      typeof s.total !== 'number' ||
      typeof s.denied !== 'number' ||
      s.denied !== out.length ||
      !isObj(s.byStatus) ||
      !Array.isArray(s.notes)
    )
      fail('readHar summary', `expected {total, denied (= ${out.length}), byStatus, sanitized, notes}`, s);
    return out;
  });
}

/** Inputs by target; a saved fixture names its target and holds its input as JSON (bytes as {"base64": …}). */
export type Target =
  | 'raw'
  | 'json-text'
  | 'json-value'
  | 'har'
  | 'detect'
  | 'file'
  | 'curl'
  | 'curl-argv'
  | 'curl-cmd'
  | 'curl-check'
  | 'token'
  | 'engine';

export const TARGETS: Target[] = [
  'raw',
  'json-text',
  'json-value',
  'har',
  'detect',
  'file',
  'curl',
  'curl-argv',
  'curl-cmd',
  'curl-check',
  'token',
  'engine',
];

/** What each target does with one input. Throws FuzzFailure when a contract is broken. */
export async function check(target: Target, input: unknown): Promise<void> {
  switch (target) {
    case 'raw': {
      const text = input as string;
      const p = await expectResultOrInputError('parseRaw', () => parseRaw(text, 'fuzz'));
      if (p) {
        if (!Array.isArray(p.notes)) fail('parseRaw().notes', 'expected a list', p.notes);
        if (p.request) checkRequest(p.request, 'parseRaw().request', true);
        if (p.response) checkResponse(p.response, 'parseRaw().response');
        if (!p.request && !p.response) fail('parseRaw()', 'returned neither a request nor a response', p);
      }
      const e = await expectResultOrInputError('fromRaw', () => fromRaw(text, 'fuzz'));
      if (e) {
        checkExchange(e, 'fromRaw()', true);
        checkDiagnose(e, 'fromRaw');
      }
      return;
    }
    case 'json-text':
    case 'json-value': {
      const v = target === 'json-text' ? (input as string) : input;
      const parts = await expectResultOrInputError('parseJson', () => parseJson(v, 'fuzz'));
      parts?.forEach((p, i) => {
        if (p.request) checkRequest(p.request, `parseJson()[${i}].request`, true);
        if (p.response) checkResponse(p.response, `parseJson()[${i}].response`);
        if (!p.request && !p.response) fail(`parseJson()[${i}]`, 'returned neither a request nor a response', p);
      });
      const one = await expectResultOrInputError('fromJson', () => fromJson(v, 'fuzz'));
      if (one) {
        checkExchange(one, 'fromJson()', true);
        checkDiagnose(one, 'fromJson');
      }
      const all = await expectResultOrInputError('fromJsonAll', () => fromJsonAll(v, 'fuzz'));
      all?.forEach((e, i) => {
        checkExchange(e, `fromJsonAll()[${i}]`, true);
        checkDiagnose(e, `fromJsonAll()[${i}]`);
      });
      return;
    }
    case 'har': {
      const buf = typeof input === 'string' ? Buffer.from(input, 'utf8') : Buffer.from(input as Uint8Array);
      const exchanges = await harExchanges(buf, 'readHar');
      exchanges?.forEach((e, i) => {
        checkExchange(e, `readHar().exchanges[${i}]`, false);
        checkDiagnose(e, `readHar().exchanges[${i}]`);
      });
      return;
    }
    case 'detect': {
      const text = input as string;
      let format: string | undefined;
      try {
        format = detectFormat(text);
      } catch (err) {
        throw new FuzzFailure(`detectFormat threw ${(err as Error).name}: ${(err as Error).message}`, { cause: err });
      }
      if (format !== undefined && !['har', 'json', 'raw', 'curl-bash', 'curl-cmd'].includes(format))
        fail('detectFormat()', 'returned an unknown format', format);
      const imp = await expectResultOrInputError('importText', () => importText(text, 'fuzz'));
      if (!imp) return;
      if (imp.format !== format) fail('importText().format', `expected ${format}`, imp.format);
      await checkImport(imp, 'importText()');
      return;
    }
    case 'file': {
      // importFile reads bytes: UTF-16 byte order marks, binary data, a HAR streamed from disk.
      const dir = mkdtempSync(join(tmpdir(), 'why403-fuzz-'));
      try {
        const path = join(dir, 'input');
        writeFileSync(path, typeof input === 'string' ? Buffer.from(input, 'utf8') : (input as Uint8Array));
        const imp = await expectResultOrInputError('importFile', () => importFile(path));
        if (imp) await checkImport(imp, 'importFile()');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      return;
    }
    case 'curl':
    case 'curl-argv': {
      const cmd = input as string | string[];
      const reqs = await expectResultOrInputError('curlRequests', () => curlRequests(cmd, 'fuzz'));
      reqs?.forEach((r, i) => {
        checkRequest(r, `curlRequests()[${i}]`, true);
        checkDiagnose(
          {
            request: r,
            response: { status: 403, statusText: 'Forbidden', headers: [], content: {} },
            source: { kind: 'curl', name: 'fuzz' },
          },
          `curlRequests()[${i}] with a bare 403`,
        );
      });
      return;
    }
    case 'curl-cmd': {
      const text = input as string;
      const argvs = await expectResultOrInputError('tokenizeCmd', () => tokenizeCmd(text, 'fuzz'));
      argvs?.forEach((a, i) => {
        if (!Array.isArray(a) || a[0] !== 'curl' || !a.every((w) => typeof w === 'string'))
          fail(`tokenizeCmd()[${i}]`, 'expected an argv starting with "curl"', a);
      });
      const reqs = await expectResultOrInputError('curlCmdRequests', () => curlCmdRequests(text, 'fuzz'));
      reqs?.forEach((r, i) => checkRequest(r, `curlCmdRequests()[${i}]`, true));
      return;
    }
    case 'curl-check': {
      const cmd = input as string | string[];
      const c = await expectResultOrInputError('curlForCheck', () => curlForCheck(cmd, 'fuzz'));
      if (c) {
        checkRequest(c.request, 'curlForCheck().request', true);
        if (!isObj(c.route)) fail('curlForCheck().route', 'expected an object', c.route);
        if (!Array.isArray(c.secrets) || !c.secrets.every((s) => typeof s === 'string'))
          fail('curlForCheck().secrets', 'expected a list of strings', c.secrets);
      }
      return;
    }
    case 'token': {
      const text = input as string;
      const r = await expectResultOrInputError('inspectToken', () => inspectToken(text, { now: NOW }));
      if (r) checkCredentialReport(r, 'inspectToken()');
      const shown = await expectResultOrInputError('inspectToken (showSecrets)', () =>
        inspectToken(text, { now: NOW, showSecrets: true }),
      );
      if (shown) checkCredentialReport(shown, 'inspectToken(showSecrets)');
      return;
    }
    case 'engine': {
      checkDiagnose(input as Exchange, 'an arbitrary exchange');
      return;
    }
  }
}

/** CPU time of this thread in ms: unlike wall time, not stretched by whatever else the machine runs. */
const cpuMs = (): number => {
  const u = process.threadCpuUsage();
  return (u.user + u.system) / 1000;
};

/**
 * check() with the time it took: more than PER_INPUT_MS of this thread's CPU
 * is a failure. (Wall time, which a loaded machine stretches, is watched by
 * the harness with a looser bound; a hang stops the worker's messages.)
 */
export async function checkTimed(target: Target, input: unknown): Promise<number> {
  const c0 = cpuMs();
  await check(target, input);
  const ms = cpuMs() - c0;
  if (ms > PER_INPUT_MS)
    throw new FuzzFailure(`${target}: one input took ${Math.round(ms)} ms of CPU (limit ${PER_INPUT_MS} ms)`);
  return ms;
}

// ---- fixtures -------------------------------------------------------------------

/** Inputs as JSON: bytes as {"base64": …}; everything else is JSON already. */
export function encodeInput(input: unknown): unknown {
  if (input instanceof Uint8Array) return { base64: Buffer.from(input).toString('base64') };
  return input;
}

export function decodeInput(target: Target, stored: unknown): unknown {
  // Only HAR and file inputs are ever bytes: a JSON value {"base64": …} stays one.
  if (
    (target === 'har' || target === 'file') &&
    isObj(stored) &&
    typeof stored.base64 === 'string' &&
    Object.keys(stored).length === 1
  )
    return new Uint8Array(Buffer.from(stored.base64, 'base64'));
  return stored;
}

export interface FoundCase {
  target: Target;
  /** The property that found it. */
  property: string;
  seed: number;
  input: unknown;
  /** What went wrong when it was found. */
  error: string;
  /** What was done about it. */
  fixed?: string;
}
