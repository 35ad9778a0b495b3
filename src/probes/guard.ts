// The safety guard every probe request passes before it is sent
// (design.md section 4). A refusal is a bug in a probe kind, so it throws;
// the runner records it as a skipped probe and the tests fail on it.
import type { ExchangeRequest } from '../model/exchange.ts';
import type { ProbeContext, ProbeRequest } from './define.ts';

export class ProbeRefused extends Error {}

/** Headers that claim a client address: never added, whatever the probe. */
const SOURCE_ADDRESS = new Set([
  'x-forwarded-for',
  'x-forwarded-host',
  'x-real-ip',
  'forwarded',
  'x-client-ip',
  'true-client-ip',
  'cf-connecting-ip',
  'x-originating-ip',
  'x-remote-ip',
  'x-remote-addr',
  'x-cluster-client-ip',
  'client-ip',
  'fastly-client-ip',
  'x-host',
  'x-original-url',
  'x-rewrite-url',
]);
const PREFLIGHT = new Set(['origin', 'access-control-request-method', 'access-control-request-headers']);
export const SAFE_METHODS = ['GET', 'HEAD', 'OPTIONS'];

const key = (name: string) => name.toLowerCase();

function formParams(req: ExchangeRequest): URLSearchParams | undefined {
  if (!req.postData?.text || !/x-www-form-urlencoded/i.test(req.postData.mimeType ?? '')) return undefined;
  return new URLSearchParams(req.postData.text);
}

/**
 * Throws ProbeRefused unless `probe` only removes what the user sent, or swaps
 * in what the user named: their second identities, a fresh credential from
 * their --token-cmd (`freshValue`), the Origin of a browser preflight.
 */
export function assertProbeSafe(ctx: ProbeContext, probe: ProbeRequest, freshValue?: string): void {
  const orig = ctx.original;
  const req = probe.request;
  const method = req.method.toUpperCase();
  if (!SAFE_METHODS.includes(method) && !(ctx.options.allowUnsafe && method === orig.method.toUpperCase()))
    throw new ProbeRefused(
      `${method} may change data; it is replayed only with --allow-unsafe, and only as the user's own method`,
    );

  const a = new URL(orig.url);
  const b = new URL(req.url);
  if (a.origin !== b.origin || a.pathname !== b.pathname)
    throw new ProbeRefused(`probes keep the user's URL; ${b.origin}${b.pathname} is not ${a.origin}${a.pathname}`);
  for (const [k, v] of b.searchParams)
    if (!a.searchParams.getAll(k).includes(v))
      throw new ProbeRefused(`query parameter ${k} was not in the user's request`);

  const sent = new Map<string, string[]>();
  for (const h of orig.headers) sent.set(key(h.name), [...(sent.get(key(h.name)) ?? []), h.value]);
  const identities = ctx.options.identities.map((i) => `${key(i.header.name)}\u0000${i.header.value}`);
  const origin = orig.headers.find((h) => key(h.name) === 'origin')?.value ?? ctx.options.origin;
  for (const h of req.headers) {
    const name = key(h.name);
    if (sent.get(name)?.includes(h.value)) continue;
    if (SOURCE_ADDRESS.has(name)) throw new ProbeRefused(`${h.name} claims a client address; probes never forge one`);
    if (identities.includes(`${name}\u0000${h.value}`)) continue;
    if (freshValue !== undefined && h.value.includes(freshValue) && (sent.has(name) || name === 'authorization'))
      continue;
    if (method === 'OPTIONS' && PREFLIGHT.has(name) && (name !== 'origin' || h.value === origin)) continue;
    if (name === 'cookie' && sent.has('cookie')) {
      // Fewer cookies than the user sent is a removal.
      const had = new Set(sent.get('cookie')!.flatMap((v) => v.split(/;\s*/)));
      if (h.value.split(/;\s*/).every((c) => had.has(c))) continue;
    }
    throw new ProbeRefused(`header ${h.name} was neither sent by the user nor named by them`);
  }

  if (req.postData?.text !== undefined && req.postData.text !== orig.postData?.text) {
    const before = formParams(orig);
    const after = formParams(req);
    const subset = before && after && [...after].every(([k, v]) => before.getAll(k).includes(v));
    if (!subset)
      throw new ProbeRefused('the request body may only be the user’s, or the user’s form with fields removed');
  }
}
