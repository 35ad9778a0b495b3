import { UsageError } from '../errors.ts';
import type { ExchangeRequest } from '../model/exchange.ts';
import { curlForCheck, type CurlCheck } from '../importers/curl-options.ts';
import {
  assertSendable,
  checkRequest,
  dryRunPlan,
  identitiesFrom,
  readSavedRequest,
  requestFromArgs,
} from '../check.ts';
import { DEFAULT_BUDGET, probeSignature, type ProbePlan } from '../probes/runner.ts';
import { redactHeaders, redactUrl } from '../credentials/redact.ts';
import { Output, formatFrom } from './output.ts';
import type { Io } from './io.ts';
import { commandArgs, JSON_OPTIONS, printHelp, SEND_OPTIONS } from './args.ts';
import { parseHeaderArg } from './header-arg.ts';
import { exitCode } from './exit-code.ts';

const HELP = `Usage:
  why403 check [options] URL [-X METHOD] [-H 'Name: value']… [-d BODY]
  why403 check [options] -- curl 'https://…' -H '…'   (as "Copy as cURL" gives)
  why403 check [options] --from FILE|-   (a saved curl command: bash or cmd)

Sends the request once (honouring HTTP(S)_PROXY and NO_PROXY), records a
trace, and diagnoses the answer. A curl command is sent as curl would send
it, by the route curl would take: -x, -k, -u, -b FILE, -L, --resolve,
--connect-to, --cacert, --cert, --http2, --unix-socket, --interface, -4/-6
and the rest are honoured; an option check cannot honour is refused, by name.
Options:
  --json | --jsonl | --markdown   output format (default: terminal)
  --from FILE | -                 read the curl command from a file or stdin
                                  (bash "Copy as cURL" or Windows cmd copy)
  --timeout SECONDS               give up after this long (default 15, or -m)
  --max-body BYTES                keep at most this much of the body,
                                  decoded (default 262144)
  --no-follow                     do not follow redirects (a URL: GET/HEAD
                                  follow up to 5; a curl command: only -L)
  --insecure                      do not verify TLS certificates
  --allow-unsafe                  allow sending (and probing with) methods
                                  other than GET, HEAD, OPTIONS
  --dry-run                       print the request, its route and the probe
                                  plan; send nothing
  --log FILE                      the server's access or error log (repeatable):
                                  the lines it writes while answering are
                                  evidence, and outrank the response
Probes (sent only when the answer is a denial, and only those that can
separate what is left):
  --budget N                      at most N probe requests (default 12)
  --no-probes                     stay passive: send the request once
  --as 'Name: value'              a second identity to compare with
                                  (e.g. a known-allowed account)
  --as-env VAR                    the same, read from an environment variable
  --as-cmd 'command'              the same, printed by a command
  --token-cmd 'command'           prints a fresh credential, tried when
                                  expiry or revocation is suspected
  --origin URL                    the Origin for a CORS preflight when the
                                  request carries none
  --show-secrets                  print credentials unredacted
`;

function describePlan(req: ExchangeRequest, showSecrets: boolean, route: string[]): string {
  const lines = [`would send: ${req.method} ${showSecrets ? req.url : redactUrl(req.url)}`];
  for (const h of showSecrets ? req.headers : redactHeaders(req.headers)) lines.push(`  ${h.name}: ${h.value}`);
  if (req.postData?.text)
    lines.push(
      `  (body: ${Buffer.byteLength(req.postData.text)} bytes${req.postData.mimeType ? `, ${req.postData.mimeType}` : ''})`,
    );
  for (const r of route) lines.push(`  route: ${r}`);
  return lines.join('\n') + '\n';
}

const isCurl = (word: string | undefined) => word !== undefined && /^(?:\S*[\\/])?curl(\.exe)?$/i.test(word);

function renderPlan(plan: ProbePlan, showSecrets: boolean, pendingAsCmd: number): string {
  const lines = [
    `then, if the answer is a denial: at most ${plan.budget} probe requests, from the probes below that can still separate the causes the passive diagnosis leaves standing:`,
  ];
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
      lines.push(
        `    ${r.request.method} ${showSecrets ? r.request.url : redactUrl(r.request.url)}${change ? `  ${change}` : ''}${r.direct ? '  (directly, not through the proxy)' : ''}`,
      );
    }
  }
  if (pendingAsCmd)
    lines.push(`  (${pendingAsCmd} --as-cmd identit${pendingAsCmd === 1 ? 'y is' : 'ies are'} not run in a dry run)`);
  for (const s of plan.skipped) lines.push(`  skipped ${s.name}: ${s.reason}`);
  return lines.join('\n') + '\n';
}

export async function checkCommand(argv: string[], io: Io): Promise<number> {
  const dashes = argv.indexOf('--');
  const own = dashes === -1 ? argv : argv.slice(0, dashes);
  const curlArgv = dashes === -1 ? undefined : argv.slice(dashes + 1);
  // "check curl 'https://…'" (the "--" forgotten): curl's options are not check's.
  const curlHint = (what: string) => {
    const url = own.find((p) => /^[a-z]+:\/\//i.test(p));
    return new UsageError(
      `${what}; to check a curl command, put -- before it: why403 check -- curl '${url ?? 'https://…'}' …`,
    );
  };
  let parsed;
  try {
    parsed = commandArgs(own, {
      ...JSON_OPTIONS,
      markdown: { type: 'boolean' },
      ...SEND_OPTIONS,
      'max-body': { type: 'string' },
      'no-follow': { type: 'boolean' },
      budget: { type: 'string' },
      'no-probes': { type: 'boolean' },
      as: { type: 'string', multiple: true },
      'as-env': { type: 'string', multiple: true },
      'as-cmd': { type: 'string', multiple: true },
      'token-cmd': { type: 'string' },
      origin: { type: 'string' },
      from: { type: 'string' },
      data: { type: 'string', short: 'd' },
      log: { type: 'string', multiple: true },
    });
  } catch (err) {
    const unknown = /Unknown option '([^']+)'/.exec((err as Error).message)?.[1];
    if (!curlArgv && own.some(isCurl))
      throw curlHint(unknown ? `unknown option ${unknown} for "check"` : (err as Error).message.split('\n')[0]!);
    throw err;
  }
  const { values, positionals } = parsed;
  if (values.help) return printHelp(io, HELP);
  const format = formatFrom(values);
  const maxBody = values['max-body'] === undefined ? 256 * 1024 : Number(values['max-body']);
  if (!Number.isInteger(maxBody) || maxBody < 0)
    throw new UsageError(`--max-body "${values['max-body']}": expected a whole number of bytes`);

  let req: ExchangeRequest;
  let curl: CurlCheck | undefined;
  const ownRequest = [
    values.request !== undefined && '-X',
    values.header?.length && '-H',
    values.data !== undefined && '-d',
  ].filter(Boolean);
  if (curlArgv || values.from !== undefined) {
    const form = curlArgv ? '"-- curl …"' : '--from';
    if (curlArgv && values.from !== undefined) throw new UsageError('give either "-- curl …" or --from FILE, not both');
    if (positionals.length)
      throw new UsageError(`give either a URL or ${form}, not both (got ${positionals.join(' ')})`);
    if (ownRequest.length)
      throw new UsageError(`${ownRequest.join(', ')} go with a URL; with ${form}, put them in the curl command`);
    if (curlArgv) {
      if (!curlArgv.length || !isCurl(curlArgv[0]))
        throw new UsageError('after "--" give a curl command, starting with "curl"');
      curl = await curlForCheck(['curl', ...curlArgv.slice(1)]);
      req = curl.request;
    } else {
      const saved = await readSavedRequest(values.from!, io.stdin);
      req = saved.request;
      if ('route' in saved) curl = saved;
    }
  } else {
    if (isCurl(positionals[0])) {
      throw curlHint(
        positionals.length === 1
          ? 'expected a URL, got "curl"'
          : `expected one URL, got ${positionals.length}: ${positionals.join(' ').slice(0, 60)}`,
      );
    }
    if (positionals.length !== 1)
      throw new UsageError(
        positionals.length
          ? `expected one URL, got ${positionals.length}: ${positionals.join(' ')}`
          : 'check needs a URL, "-- curl …" or --from FILE',
      );
    const headers = (values.header ?? []).map(parseHeaderArg);
    req = requestFromArgs({ url: positionals[0], method: values.request, headers, data: values.data });
  }
  const timeoutS = values.timeout === undefined ? (curl?.timeoutMs ?? 15000) / 1000 : Number(values.timeout);
  if (!(timeoutS > 0))
    throw new UsageError(`--timeout "${values.timeout}": expected a number of seconds greater than 0`);
  try {
    new URL(req.url);
  } catch {
    throw new UsageError(`"${req.url}" is not a URL (expected e.g. https://api.example.com/path)`);
  }
  const budget = values.budget === undefined ? DEFAULT_BUDGET : Number(values.budget);
  if (!Number.isInteger(budget) || budget < 0)
    throw new UsageError(`--budget "${values.budget}": expected a whole number of probe requests`);
  if (values.origin !== undefined) {
    try {
      if (new URL(values.origin).origin !== values.origin.replace(/\/$/, '')) throw new Error();
    } catch {
      throw new UsageError(`--origin "${values.origin}": expected an origin such as https://app.example.com`);
    }
  }
  const asFlags = { as: values.as, asEnv: values['as-env'], asCmd: values['as-cmd'] };
  const identities = await identitiesFrom(asFlags, io.env, !values['dry-run']);
  const probes = values['no-probes']
    ? (false as const)
    : {
        budget,
        identities,
        ...(values['token-cmd'] ? { tokenCmd: values['token-cmd'] } : {}),
        ...(values.origin ? { origin: new URL(values.origin).origin } : {}),
      };
  const checkOptions = {
    timeoutMs: timeoutS * 1000,
    maxBody,
    // A curl command follows redirects as curl does: only with -L.
    followRedirects: !values['no-follow'] && (!curl || curl.maxRedirects !== undefined),
    ...(curl?.maxRedirects !== undefined ? { maxRedirects: curl.maxRedirects } : {}),
    insecure: values.insecure || curl?.insecure,
    ...(curl ? { route: curl.route, secrets: curl.secrets } : {}),
    allowUnsafe: values['allow-unsafe'],
    showSecrets: values['show-secrets'],
    env: io.env,
    probes,
    ...(values.log?.length ? { logs: values.log } : {}),
  };
  if (values['dry-run']) {
    io.stdout.write(describePlan(req, Boolean(values['show-secrets']), curl?.route.describe ?? []));
    if (probes === false) io.stdout.write('then nothing more (--no-probes)\n');
    else
      io.stdout.write(
        renderPlan(
          await dryRunPlan(req, checkOptions),
          Boolean(values['show-secrets']),
          (values['as-cmd'] ?? []).length,
        ),
      );
    return 0;
  }
  assertSendable(req, values['allow-unsafe']);
  const report = await checkRequest(req, checkOptions);
  const out = new Output(format, io);
  out.write(report);
  out.end();
  return exitCode({ kind: 'reports', reports: [report] });
}
