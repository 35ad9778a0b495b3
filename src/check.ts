// `check` as a library call: send the user's request once, diagnose the
// answer, then — when it is a denial — send the probes that can separate the
// hypotheses still standing, and diagnose again with their evidence.
import { runCredentialCommand as runCommand } from './probes/credential-command.ts';
import type { Exchange, ExchangeRequest, NameValue } from './model/exchange.ts';
import type { Report } from './model/report.ts';
import { sendRequest, type SendOptions } from './live/send.ts';
import { proxyFor } from './live/proxy.ts';
import { shownProxy } from './live/route.ts';
import { diagnose, type DiagnoseOptions } from './diagnose.ts';
import { isDenial } from './engine/status.ts';
import { UsageError } from './errors.ts';
import type { Identity, ProbeOptions } from './probes/define.ts';
import { probeContext } from './probes/context.ts';
import { createSender, DEFAULT_BUDGET, loadProbeKinds, planProbes, runProbes, type ProbePlan } from './probes/runner.ts';
import { SAFE_METHODS } from './probes/guard.ts';

export { SAFE_METHODS };

export interface CheckOptions extends SendOptions, Omit<DiagnoseOptions, 'probes' | 'probeClaims' | 'probing'> {
  /** Send a method other than GET, HEAD or OPTIONS (design.md section 4). */
  allowUnsafe?: boolean;
  /** false: stay passive (--no-probes). Otherwise the probe settings. */
  probes?: false | Partial<Omit<ProbeOptions, 'allowUnsafe' | 'env'>>;
  /** Credentials the request's options carry outside its headers (a proxy's password): never printed. */
  secrets?: string[];
}

export function assertSendable(req: ExchangeRequest, allowUnsafe: boolean | undefined): void {
  const method = req.method.toUpperCase();
  if (!SAFE_METHODS.includes(method) && !allowUnsafe)
    throw new UsageError(`refusing to send ${method} ${req.url}: it may change data on the server. Add --allow-unsafe to send it once, or --dry-run to see the request without sending it`);
}

/** Runs --token-cmd or --as-cmd; a failure is the user's input error (exit 2). */
export function runCredentialCommand(command: string, env: NodeJS.ProcessEnv, flag: string): Promise<string> {
  return runCommand(command, env, flag).catch((e: Error) => {
    throw new UsageError(e.message);
  });
}

/** "Header: value" stays a header; a bare token becomes `Authorization: Bearer <token>`. */
export function identityHeader(value: string): NameValue {
  const m = /^([A-Za-z0-9-]+):\s*(\S.*)$/s.exec(value.trim());
  if (m && !/^bearer$/i.test(m[1])) return { name: m[1], value: m[2].trim() };
  return { name: 'Authorization', value: /^(bearer|basic|token)\s/i.test(value.trim()) ? value.trim() : `Bearer ${value.trim()}` };
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
    trace: { redirects: [], timings: { total: 0 }, proxy: { url: proxy.url ? shownProxy(proxy.url) : '', used: proxy.used, reason: proxy.reason }, receivedAt: new Date().toISOString() },
    source: { kind: 'live', name: req.url },
  };
  const report = await diagnose(first, { now: opts.now });
  const ctx = probeContext(req, first, { ...report, causes: [] }, probeOptions(opts));
  return planProbes(ctx, await loadProbeKinds());
}

export async function checkRequest(req: ExchangeRequest, opts: CheckOptions = {}): Promise<Report> {
  assertSendable(req, opts.allowUnsafe);
  const exchange = await sendRequest(req, opts);
  const options = probeOptions(opts);
  const extraSecrets = [...options.identities.map((i) => i.header.value.replace(/^\S+\s+/, '')), ...(opts.secrets ?? [])];
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

export type { Identity };
