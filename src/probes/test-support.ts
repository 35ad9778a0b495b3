// For the probe kinds' tests: a context built the way `check` builds it, from
// a real request to a loopback server, and a `send` that records what a probe
// asked for (optionally stopping after `limit`, like a spent budget).
import type { ExchangeRequest } from '../model/exchange.ts';
import { sendRequest } from '../live/send.ts';
import { diagnose } from '../diagnose.ts';
import type { ProbeContext, ProbeOptions, ProbeRequest, Send } from './define.ts';
import { probeContext } from './context.ts';

export async function contextFor(req: ExchangeRequest, options: Partial<ProbeOptions> = {}, env: NodeJS.ProcessEnv = {}): Promise<ProbeContext> {
  const first = await sendRequest(req, { env });
  return probeContext(req, first, await diagnose(first), { budget: 12, allowUnsafe: false, identities: [], env, ...options });
}

export function recorder(opts: { limit?: number; env?: NodeJS.ProcessEnv } = {}) {
  const sent: ProbeRequest[] = [];
  const names: string[] = [];
  const send: Send = async (name, req) => {
    if (sent.length >= (opts.limit ?? Infinity)) return undefined;
    sent.push(req);
    names.push(name);
    // Honours `direct` as the runner does: no proxy variables for that request.
    return sendRequest(req.request, { env: req.direct ? {} : (opts.env ?? {}) });
  };
  return { sent, names, send };
}
