// Plans and runs probes within a budget, and is the only place that sends
// their requests: every request passes the guard, counts against the budget,
// is recorded with its outcome, and probing stops at the first sign of a
// rate limit (design.md section 4).
import type { Exchange } from '../model/exchange.ts';
import { headerValue } from '../model/exchange.ts';
import type { Probing, ProbeResult } from '../model/report.ts';
import type { CauseClaim } from '../model/rule.ts';
import { sendRequest, type SendOptions } from '../live/send.ts';
import { Why403Error } from '../errors.ts';
import type { ProbeContext, ProbeKind, ProbeRequest, Send } from './define.ts';
import { assertProbeSafe, ProbeRefused } from './guard.ts';

export const DEFAULT_BUDGET = 12;

let cached: Promise<ProbeKind[]> | undefined;

/**
 * Probe kinds are the files of src/probes/kinds/, listed in kinds.generated.ts
 * by `npm run generate` (a bundle has no folder to read); cheapest first.
 */
export function loadProbeKinds(): Promise<ProbeKind[]> {
  cached ??= import('./kinds.generated.ts').then(({ PROBE_KINDS }) =>
    PROBE_KINDS.filter((k) => k?.name).sort((a, b) => a.order - b.order),
  );
  return cached;
}

export interface PlannedProbe {
  kind: ProbeKind;
  requests: ProbeRequest[];
}

export interface ProbePlan {
  planned: PlannedProbe[];
  skipped: { name: string; reason: string }[];
  budget: number;
}

/** Only probes that can separate a hypothesis still standing, cheapest and most decisive first. */
export function planProbes(ctx: ProbeContext, kinds: ProbeKind[]): ProbePlan {
  const planned: PlannedProbe[] = [];
  const skipped: ProbePlan['skipped'] = [];
  for (const kind of kinds) {
    const separates = kind.separates.filter((c) => ctx.standing.includes(c));
    if (!separates.length) {
      skipped.push({
        name: kind.name,
        reason: `none of the hypotheses it separates (${kind.separates.join(', ')}) is standing`,
      });
      continue;
    }
    const applies = kind.applies(ctx);
    if (applies !== true) {
      skipped.push({ name: kind.name, reason: applies });
      continue;
    }
    planned.push({ kind, requests: kind.plan(ctx) });
  }
  return { planned, skipped, budget: ctx.options.budget };
}

export interface Sender {
  send: Send;
  /** Every probe request asked for, in order, with its status; `reused` when an identical one was already sent. */
  log: { probe: string; request: ProbeRequest; status: number | null; reused?: string }[];
  probing: Probing;
  /** The fresh credential from --token-cmd, once read (so the guard accepts it). */
  setFreshValue(value: string): void;
}

function rateLimitSign(ex: Exchange): string | undefined {
  const h = ex.response.headers;
  const retry = headerValue(h, 'retry-after');
  if (ex.response.status === 429) return `429 Too Many Requests${retry ? `, Retry-After: ${retry}` : ''}`;
  if (retry && (ex.response.status === 403 || ex.response.status === 503))
    return `${ex.response.status} with Retry-After: ${retry}`;
  for (const name of ['x-ratelimit-remaining', 'ratelimit-remaining', 'x-rate-limit-remaining'])
    if (headerValue(h, name)?.trim() === '0') return `${name}: 0`;
  return undefined;
}

/** Two probe requests are the same when they would put the same bytes on the wire. */
export function probeSignature(req: ProbeRequest): string {
  const r = req.request;
  const headers = r.headers.map((h) => `${h.name.toLowerCase()}:${h.value}`).sort();
  return JSON.stringify([r.method.toUpperCase(), r.url, headers, r.postData?.text ?? null, Boolean(req.direct)]);
}

export function createSender(ctx: ProbeContext, sendOptions: SendOptions = {}): Sender {
  const log: Sender['log'] = [];
  // Probes may ask for a request another probe already sent (minimise's first
  // cut can equal without-credential's): it is answered from here, unsent and
  // outside the budget.
  const answered = new Map<string, { probe: string; exchange: Exchange }>();
  const probing: Probing = { budget: ctx.options.budget, sent: 0, skipped: [] };
  let fresh: string | undefined;
  // The original answer may itself be a rate-limit sign: then nothing is sent.
  const initial = rateLimitSign(ctx.first);
  if (initial) probing.stopped = `the original answer shows a rate limit (${initial}); no probe was sent`;
  const send: Send = async (probe, req) => {
    if (probing.stopped) return undefined;
    const sig = probeSignature(req);
    const earlier = answered.get(sig);
    if (earlier) {
      log.push({ probe, request: req, status: earlier.exchange.response.status, reused: earlier.probe });
      return earlier.exchange;
    }
    if (probing.sent >= probing.budget) {
      probing.stopped = `the budget of ${probing.budget} probe requests is spent (raise it with --budget)`;
      return undefined;
    }
    assertProbeSafe(ctx, req, fresh);
    probing.sent++;
    let ex: Exchange;
    try {
      // One request per probe: a redirect is an outcome to read, not to follow.
      // Direct: no proxy from the environment, nor the one a curl command named.
      const direct = req.direct
        ? {
            env: {},
            ...(sendOptions.route ? { route: { ...sendOptions.route, proxy: undefined, proxyLabel: undefined } } : {}),
          }
        : {};
      ex = await sendRequest(req.request, { ...sendOptions, followRedirects: false, ...direct });
    } catch (err) {
      log.push({ probe, request: req, status: null });
      if (err instanceof Why403Error) return undefined;
      throw err;
    }
    log.push({ probe, request: req, status: ex.response.status });
    answered.set(sig, { probe, exchange: ex });
    const sign = rateLimitSign(ex);
    if (sign)
      probing.stopped = `stopped at the first rate-limit sign (${sign}); Retry-After is honoured by sending nothing more in this run`;
    return ex;
  };
  return { send, log, probing, setFreshValue: (v) => (fresh = v) };
}

export interface ProbeRun {
  results: ProbeResult[];
  claims: CauseClaim[];
  probing: Probing;
}

export async function runProbes(ctx: ProbeContext, plan: ProbePlan, sender: Sender): Promise<ProbeRun> {
  const results: ProbeResult[] = [];
  const claims: CauseClaim[] = [];
  sender.probing.skipped.push(...plan.skipped);
  for (const { kind } of plan.planned) {
    if (sender.probing.stopped) {
      sender.probing.skipped.push({ name: kind.name, reason: sender.probing.stopped });
      continue;
    }
    const before = sender.log.length;
    try {
      for (const f of await kind.run(ctx, sender.send)) {
        results.push(f.result);
        claims.push(...f.claims);
      }
    } catch (err) {
      if (!(err instanceof ProbeRefused)) throw err;
      sender.probing.skipped.push({ name: kind.name, reason: `refused by the safety guard: ${err.message}` });
    }
    // Every request sent appears in the report, interpreted or not; one
    // answered from an earlier identical request says so.
    const sentByKind = sender.log.slice(before);
    const ofKind = results.filter((r) => r.name === kind.name);
    sentByKind.forEach((entry, i) => {
      if (entry.reused && ofKind[i]) ofKind[i].reused = entry.reused;
    });
    const reported = ofKind.length;
    for (const entry of sentByKind.slice(reported))
      results.push({
        name: kind.name,
        status: entry.status,
        meaning:
          entry.status === null ? 'no response (network error)' : 'sent; the outcome did not change the diagnosis',
        request: {
          method: entry.request.request.method,
          url: entry.request.request.url,
          removed: entry.request.removed,
          added: entry.request.added,
        },
        ...(entry.reused ? { reused: entry.reused } : {}),
      });
  }
  return { results, claims, probing: sender.probing };
}
