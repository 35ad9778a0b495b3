// `check` as a library call: send the user's request once, diagnose the
// answer, then — when it is a denial — send the probes that can separate the
// hypotheses still standing, and diagnose again with their evidence.
import { readFile } from 'node:fs/promises';
import { runCredentialCommand as runCommand } from './probes/credential-command.ts';
import type { Exchange, ExchangeRequest, NameValue } from './model/exchange.ts';
import type { Report } from './model/report.ts';
import { sendRequest, type SendOptions } from './live/send.ts';
import { proxyFor } from './live/proxy.ts';
import { shownProxy } from './live/route.ts';
import { diagnose, type DiagnoseOptions } from './diagnose.ts';
import { isDenial } from './engine/status.ts';
import { appendedInput, indexLogs, logOffsets } from './logs/match.ts';
import { InputError, UsageError } from './errors.ts';
import type { Identity, ProbeOptions } from './probes/define.ts';
import { probeContext } from './probes/context.ts';
import {
  createSender,
  DEFAULT_BUDGET,
  loadProbeKinds,
  planProbes,
  runProbes,
  type ProbePlan,
} from './probes/runner.ts';
import { SAFE_METHODS } from './probes/guard.ts';
import { identityHeader } from './credentials/identity-header.ts';
import { detectFormat, importText, tokenizeCmd } from './importers/index.ts';
import { curlForCheck, type CurlCheck } from './importers/curl-options.ts';
import { unreadable } from './importers/common.ts';

export { SAFE_METHODS, identityHeader };

export interface CheckOptions extends SendOptions, Omit<DiagnoseOptions, 'probes' | 'probeClaims' | 'probing'> {
  /** Send a method other than GET, HEAD or OPTIONS (design.md section 4). */
  allowUnsafe?: boolean;
  /** The server's log files: what they gain while the request is answered is read as evidence (--log). */
  logs?: string[];
  /** false: stay passive (--no-probes). Otherwise the probe settings. */
  probes?: false | Partial<Omit<ProbeOptions, 'allowUnsafe' | 'env'>>;
  /** Credentials the request's options carry outside its headers (a proxy's password): never printed. */
  secrets?: string[];
}

export function assertSendable(req: ExchangeRequest, allowUnsafe: boolean | undefined): void {
  const method = req.method.toUpperCase();
  if (!SAFE_METHODS.includes(method) && !allowUnsafe)
    throw new UsageError(
      `refusing to send ${method} ${req.url}: it may change data on the server. ` +
        'Add --allow-unsafe to send it once, or --dry-run to see the request without sending it',
    );
}

/** Runs --token-cmd or --as-cmd; a failure is the user's input error (exit 2). */
export function runCredentialCommand(command: string, env: NodeJS.ProcessEnv, flag: string): Promise<string> {
  return runCommand(command, env, flag).catch((e: Error) => {
    throw new UsageError(e.message);
  });
}

function probeOptions(opts: CheckOptions): ProbeOptions {
  const p = opts.probes || {};
  return {
    budget: p.budget ?? DEFAULT_BUDGET,
    allowUnsafe: Boolean(opts.allowUnsafe),
    identities: p.identities ?? [],
    ...(p.tokenCmd ? { tokenCmd: p.tokenCmd } : {}),
    ...(p.origin ? { origin: p.origin } : {}),
    env: opts.env ?? process.env,
  };
}

/** The probes `check` would send if the answer were a denial (for --dry-run). */
export async function dryRunPlan(req: ExchangeRequest, opts: CheckOptions = {}): Promise<ProbePlan> {
  // Nothing is sent: the plan assumes a denial, and whether a proxy would be
  // used is decided from the environment, as the real send would.
  const proxy = proxyFor(new URL(req.url), opts.env ?? process.env, opts.route);
  const first: Exchange = {
    request: req,
    response: { status: 403, statusText: 'Forbidden', headers: [], content: {} },
    trace: {
      redirects: [],
      timings: { total: 0 },
      proxy: { url: proxy.url ? shownProxy(proxy.url) : '', used: proxy.used, reason: proxy.reason },
      receivedAt: new Date().toISOString(),
    },
    source: { kind: 'live', name: req.url },
  };
  const report = await diagnose(first, { now: opts.now });
  const ctx = probeContext(req, first, { ...report, causes: [] }, probeOptions(opts));
  return planProbes(ctx, await loadProbeKinds());
}

export async function checkRequest(req: ExchangeRequest, opts: CheckOptions = {}): Promise<Report> {
  assertSendable(req, opts.allowUnsafe);
  const offsets = opts.logs?.length ? await logOffsets(opts.logs) : undefined;
  const exchange = await sendRequest(req, opts);
  // The lines the server wrote while it answered, read before any probe adds its own.
  if (offsets) await attachLogs(exchange, offsets);
  const options = probeOptions(opts);
  const extraSecrets = [
    ...options.identities.map((i) => i.header.value.replace(/^\S+\s+/, '')),
    ...(opts.secrets ?? []),
  ];
  const diagnoseOpts: DiagnoseOptions = { now: opts.now, showSecrets: opts.showSecrets, extraSecrets };
  const first = await diagnose(exchange, diagnoseOpts);
  if (opts.probes === false || !isDenial(exchange.response.status)) return first;

  const ctx = probeContext(req, exchange, first, options);
  const sender = createSender(ctx, opts);
  if (options.tokenCmd) {
    let fresh: Promise<string> | undefined;
    ctx.freshCredential = () =>
      (fresh ??= runCredentialCommand(options.tokenCmd!, options.env, '--token-cmd').then((v) => {
        sender.setFreshValue(v);
        extraSecrets.push(v);
        return v;
      }));
  }
  const run = await runProbes(ctx, planProbes(ctx, await loadProbeKinds()), sender);
  return diagnose(exchange, { ...diagnoseOpts, probes: run.results, probeClaims: run.claims, probing: run.probing });
}

/** A server writes its log line as it answers; a moment's wait lets it reach the file. */
const LOG_SETTLE_MS = 150;

async function attachLogs(exchange: Exchange, offsets: Map<string, number>): Promise<void> {
  if (!isDenial(exchange.response.status)) return;
  await new Promise((r) => setTimeout(r, LOG_SETTLE_MS));
  const inputs = await Promise.all([...offsets].map(([path, offset]) => appendedInput(path, offset)));
  const lines = (await indexLogs(inputs)).linesFor(exchange);
  if (lines.length) exchange.logs = lines;
  else
    exchange.notes = [
      ...(exchange.notes ?? []),
      `the server wrote no line that gives a reason for this request to ${[...offsets.keys()].join(', ')}`,
    ];
}

/**
 * The request `check URL` sends: -X (default GET, or POST with a body), the
 * -H headers, and -d as a form body unless a Content-Type says otherwise.
 */
export function requestFromArgs(a: {
  url: string;
  method?: string;
  headers: NameValue[];
  data?: string;
}): ExchangeRequest {
  const headers = [...a.headers];
  const data = a.data;
  if (data !== undefined && !headers.some((h) => h.name.toLowerCase() === 'content-type'))
    headers.push({ name: 'Content-Type', value: 'application/x-www-form-urlencoded' });
  const mimeType = headers.find((h) => h.name.toLowerCase() === 'content-type')?.value;
  return {
    method: (a.method ?? (data !== undefined ? 'POST' : 'GET')).toUpperCase(),
    url: a.url,
    headers,
    ...(data !== undefined ? { postData: { mimeType: mimeType!, text: data } } : {}),
  };
}

/**
 * A saved command for --from (a file, or - for standard input): a curl copy
 * (bash or cmd.exe), or a raw HTTP / JSON request. A HAR, or a file that
 * holds a response already, is for `explain`, and the error says so.
 */
export async function readSavedRequest(
  path: string,
  stdin: NodeJS.ReadableStream,
): Promise<CurlCheck | { request: ExchangeRequest }> {
  let buf: Buffer;
  try {
    if (path === '-') {
      const chunks: Buffer[] = [];
      for await (const c of stdin as AsyncIterable<Buffer | string>)
        chunks.push(typeof c === 'string' ? Buffer.from(c) : c);
      buf = Buffer.concat(chunks);
    } else buf = await readFile(path);
  } catch (err) {
    throw new InputError(path, unreadable(err), { cause: err });
  }
  const text =
    buf[0] === 0xff && buf[1] === 0xfe
      ? buf.subarray(2).toString('utf16le')
      : buf.toString('utf8').replace(/^\uFEFF/, '');
  const format = detectFormat(text);
  if (format === 'curl-bash') return curlForCheck(text, path);
  if (format === 'curl-cmd') {
    const commands = tokenizeCmd(text, path);
    if (commands.length !== 1)
      throw new InputError(path, `expected one curl command, found ${commands.length}; give one command at a time`);
    return curlForCheck(commands[0]!, path);
  }
  if (format === 'har')
    throw new InputError(path, 'is a HAR file; to diagnose its entries use: why403 explain ' + path);
  const imported = await importText(text, path);
  if (imported.format === 'har')
    throw new InputError(path, 'is a HAR file; to diagnose its entries use: why403 explain ' + path);
  if (imported.exchanges.length)
    throw new InputError(path, 'holds a response already; to diagnose it use: why403 explain ' + path);
  if (imported.requests.length !== 1)
    throw new InputError(path, `expected one request, found ${imported.requests.length}`);
  return { request: imported.requests[0]! };
}

/**
 * The second identities to compare with: --as 'Name: value', --as-env VAR
 * (read from `env`), --as-cmd 'command' (run, unless `runCommands` is false:
 * a dry run sends and runs nothing). Throws UsageError.
 */
export async function identitiesFrom(
  o: { as?: string[]; asEnv?: string[]; asCmd?: string[] },
  env: NodeJS.ProcessEnv,
  runCommands = true,
): Promise<Identity[]> {
  const identities: Identity[] = [];
  for (const v of o.as ?? []) {
    if (!/^[A-Za-z0-9-]+:\s*\S/.test(v))
      throw new UsageError(`--as "${v.slice(0, 20)}…": expected 'Header-Name: value'`);
    identities.push({ label: '--as', header: identityHeader(v) });
  }
  for (const name of o.asEnv ?? []) {
    const v = env[name];
    if (!v) throw new UsageError(`--as-env ${name}: the environment variable is not set or empty`);
    identities.push({ label: `--as-env ${name}`, header: identityHeader(v) });
  }
  if (runCommands)
    for (const cmd of o.asCmd ?? [])
      identities.push({ label: '--as-cmd', header: identityHeader(await runCredentialCommand(cmd, env, '--as-cmd')) });
  return identities;
}

export type { Identity, CurlCheck };
