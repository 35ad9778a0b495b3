import { parseArgs } from 'node:util';
import { UsageError } from '../errors.ts';
import type { ExchangeRequest } from '../model/exchange.ts';
import { fromCurl } from '../importers/index.ts';
import { assertSendable, checkRequest, dryRunPlan, identityHeader, runCredentialCommand, type Identity } from '../check.ts';
import { DEFAULT_BUDGET, probeSignature, type ProbePlan } from '../probes/runner.ts';
import { redactHeaders, redactUrl } from '../credentials/redact.ts';
import { exitCodeFor } from '../render/exit-code.ts';
import { Output, formatFrom } from './output.ts';
import type { Io } from './io.ts';
import { parseHeaderArg } from './header-arg.ts';

const HELP = `Usage:
  why403 check [options] URL [-X METHOD] [-H 'Name: value']… [-d BODY]
  why403 check [options] -- curl 'https://…' -H '…'      (a command as "Copy as cURL" gives it)

Sends the request once (honouring HTTP(S)_PROXY and NO_PROXY), records a trace, and diagnoses the answer.
Options:
  --json | --jsonl | --markdown   output format (default: terminal)
  --timeout SECONDS               give up after this long (default 15)
  --max-body BYTES                keep at most this much of the body (default 262144)
  --no-follow                     do not follow redirects (GET/HEAD follow up to 5 by default)
  --insecure                      do not verify TLS certificates
  --allow-unsafe                  allow sending (and probing with) methods other than GET, HEAD, OPTIONS
  --dry-run                       print the request and the probe plan; send nothing
Probes (sent only when the answer is a denial, and only those that can separate what is left):
  --budget N                      at most N probe requests (default 12)
  --no-probes                     stay passive: send the request once, nothing more
  --as 'Name: value'              a second identity to compare with (e.g. a known-allowed account)
  --as-env VAR                    the same, read from an environment variable
  --as-cmd 'command'              the same, printed by a command
  --token-cmd 'command'           prints a fresh credential, tried when expiry or revocation is suspected
  --origin URL                    the Origin for a CORS preflight when the request carries none
  --show-secrets                  print credentials unredacted
`;

/** Re-quotes argv tokens so the curl parser sees exactly what the shell gave us. */
const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

function describePlan(req: ExchangeRequest, showSecrets: boolean): string {
  const lines = [`would send: ${req.method} ${showSecrets ? req.url : redactUrl(req.url)}`];
  for (const h of showSecrets ? req.headers : redactHeaders(req.headers)) lines.push(`  ${h.name}: ${h.value}`);
  if (req.postData?.text) lines.push(`  (body: ${Buffer.byteLength(req.postData.text)} bytes${req.postData.mimeType ? `, ${req.postData.mimeType}` : ''})`);
  return lines.join('\n') + '\n';
}

function renderPlan(plan: ProbePlan, showSecrets: boolean, pendingAsCmd: number): string {
  const lines = [`then, if the answer is a denial: at most ${plan.budget} probe requests, from the probes below that can still separate the causes the passive diagnosis leaves standing:`];
  if (!plan.planned.length) lines.push('  (none applies to this request)');
  const planned = new Map<string, string>();
  for (const p of plan.planned) {
    lines.push(`  ${p.kind.name} (up to ${p.kind.maxRequests} request${p.kind.maxRequests === 1 ? '' : 's'})`);
    for (const r of p.requests) {
      const earlier = planned.get(probeSignature(r));
      if (earlier) {
        lines.push(`    (the same request as ${earlier}'s: sent once, its answer read again)`);
        continue;
      }
      planned.set(probeSignature(r), p.kind.name);
      const change = [...r.removed.map((x) => `−${x}`), ...r.added.map((x) => `+${x}`)].join(' ');
      lines.push(`    ${r.request.method} ${showSecrets ? r.request.url : redactUrl(r.request.url)}${change ? `  ${change}` : ''}${r.direct ? '  (directly, not through the proxy)' : ''}`);
    }
  }
  if (pendingAsCmd) lines.push(`  (${pendingAsCmd} --as-cmd identit${pendingAsCmd === 1 ? 'y is' : 'ies are'} not run in a dry run)`);
  for (const s of plan.skipped) lines.push(`  skipped ${s.name}: ${s.reason}`);
  return lines.join('\n') + '\n';
}

export async function checkCommand(argv: string[], io: Io): Promise<number> {
  const dashes = argv.indexOf('--');
  const own = dashes === -1 ? argv : argv.slice(0, dashes);
  const curlArgv = dashes === -1 ? undefined : argv.slice(dashes + 1);
  const { values, positionals } = parseArgs({
    args: own,
    allowPositionals: true,
    options: {
      json: { type: 'boolean' },
      jsonl: { type: 'boolean' },
      markdown: { type: 'boolean' },
      timeout: { type: 'string' },
      'max-body': { type: 'string' },
      'no-follow': { type: 'boolean' },
      insecure: { type: 'boolean' },
      'allow-unsafe': { type: 'boolean' },
      'dry-run': { type: 'boolean' },
      budget: { type: 'string' },
      'no-probes': { type: 'boolean' },
      as: { type: 'string', multiple: true },
      'as-env': { type: 'string', multiple: true },
      'as-cmd': { type: 'string', multiple: true },
      'token-cmd': { type: 'string' },
      origin: { type: 'string' },
      'show-secrets': { type: 'boolean' },
      request: { type: 'string', short: 'X' },
      header: { type: 'string', short: 'H', multiple: true },
      data: { type: 'string', short: 'd' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    io.stdout.write(HELP);
    return 0;
  }
  let format;
  try {
    format = formatFrom(values);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const timeoutS = values.timeout === undefined ? 15 : Number(values.timeout);
  if (!(timeoutS > 0)) throw new UsageError(`--timeout "${values.timeout}": expected a number of seconds greater than 0`);
  const maxBody = values['max-body'] === undefined ? 256 * 1024 : Number(values['max-body']);
  if (!Number.isInteger(maxBody) || maxBody < 0) throw new UsageError(`--max-body "${values['max-body']}": expected a whole number of bytes`);

  let req: ExchangeRequest;
  if (curlArgv) {
    if (positionals.length) throw new UsageError(`give either a URL or "-- curl …", not both (got ${positionals.join(' ')})`);
    if (!curlArgv.length || !/^curl(\.exe)?$/.test(curlArgv[0])) throw new UsageError('after "--" give a curl command, starting with "curl"');
    req = await fromCurl(curlArgv.map(shellQuote).join(' '));
  } else {
    if (positionals.length !== 1) throw new UsageError(positionals.length ? `expected one URL, got ${positionals.length}: ${positionals.join(' ')}` : 'check needs a URL, or "-- curl …"');
    const headers = (values.header ?? []).map(parseHeaderArg);
    const data = values.data;
    if (data !== undefined && !headers.some((h) => h.name.toLowerCase() === 'content-type')) headers.push({ name: 'Content-Type', value: 'application/x-www-form-urlencoded' });
    req = {
      method: (values.request ?? (data !== undefined ? 'POST' : 'GET')).toUpperCase(),
      url: positionals[0],
      headers,
      ...(data !== undefined ? { postData: { mimeType: headers.find((h) => h.name.toLowerCase() === 'content-type')!.value, text: data } } : {}),
    };
  }
  try {
    new URL(req.url);
  } catch {
    throw new UsageError(`"${req.url}" is not a URL (expected e.g. https://api.example.com/path)`);
  }
  const budget = values.budget === undefined ? DEFAULT_BUDGET : Number(values.budget);
  if (!Number.isInteger(budget) || budget < 0) throw new UsageError(`--budget "${values.budget}": expected a whole number of probe requests`);
  if (values.origin !== undefined) {
    try {
      if (new URL(values.origin).origin !== values.origin.replace(/\/$/, '')) throw new Error();
    } catch {
      throw new UsageError(`--origin "${values.origin}": expected an origin such as https://app.example.com`);
    }
  }
  const identities: Identity[] = [];
  for (const v of values.as ?? []) {
    if (!/^[A-Za-z0-9-]+:\s*\S/.test(v)) throw new UsageError(`--as "${v.slice(0, 20)}…": expected 'Header-Name: value'`);
    identities.push({ label: '--as', header: identityHeader(v) });
  }
  for (const name of values['as-env'] ?? []) {
    const v = io.env[name];
    if (!v) throw new UsageError(`--as-env ${name}: the environment variable is not set or empty`);
    identities.push({ label: `--as-env ${name}`, header: identityHeader(v) });
  }
  if (!values['dry-run'])
    for (const cmd of values['as-cmd'] ?? []) identities.push({ label: '--as-cmd', header: identityHeader(await runCredentialCommand(cmd, io.env, '--as-cmd')) });
  const probes = values['no-probes'] ? (false as const) : { budget, identities, ...(values['token-cmd'] ? { tokenCmd: values['token-cmd'] } : {}), ...(values.origin ? { origin: new URL(values.origin).origin } : {}) };
  const checkOptions = {
    timeoutMs: timeoutS * 1000,
    maxBody,
    followRedirects: !values['no-follow'],
    insecure: values.insecure,
    allowUnsafe: values['allow-unsafe'],
    showSecrets: values['show-secrets'],
    env: io.env,
    probes,
  };
  if (values['dry-run']) {
    io.stdout.write(describePlan(req, Boolean(values['show-secrets'])));
    if (probes === false) io.stdout.write('then nothing more (--no-probes)\n');
    else io.stdout.write(renderPlan(await dryRunPlan(req, checkOptions), Boolean(values['show-secrets']), (values['as-cmd'] ?? []).length));
    return 0;
  }
  assertSendable(req, values['allow-unsafe']);
  const report = await checkRequest(req, checkOptions);
  const out = new Output(format, io);
  out.write(report);
  out.end();
  return exitCodeFor([report]);
}
