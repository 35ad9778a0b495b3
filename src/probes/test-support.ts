// For the probe kinds' tests: a context built the way `check` builds it, from
// a real request to a loopback server, and a `send` that records what a probe
// asked for (optionally stopping after `limit`, like a spent budget), and the
// loopback server each kind's test talks to.
import http from 'node:http';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before } from 'node:test';
import type { ExchangeRequest } from '../model/exchange.ts';
import { sendRequest } from '../live/send.ts';
import { diagnose } from '../diagnose.ts';
import type { ProbeContext, ProbeKind, ProbeOptions, ProbeRequest, Send } from './define.ts';
import { probeContext } from './context.ts';
import { createSender, runProbes } from './runner.ts';

export async function contextFor(
  req: ExchangeRequest,
  options: Partial<ProbeOptions> = {},
  env: NodeJS.ProcessEnv = {},
): Promise<ProbeContext> {
  const first = await sendRequest(req, { env });
  return probeContext(req, first, await diagnose(first), {
    budget: 12,
    allowUnsafe: false,
    identities: [],
    env,
    ...options,
  });
}

/**
 * `kind` alone, planned as it stands (no standing or applies check), run
 * through the runner's sender and its safety guard within the context's budget.
 */
export async function throughRunner(ctx: ProbeContext, kind: ProbeKind, env: NodeJS.ProcessEnv = {}) {
  const sender = createSender(ctx, { env });
  const plan = { planned: [{ kind, requests: kind.plan(ctx) }], skipped: [], budget: ctx.options.budget };
  return { sender, run: await runProbes(ctx, plan, sender) };
}

/**
 * `kind` run on `ctx`, which it must apply to, sending through a `recorder`;
 * `log`, the test server's record of what reached it, is emptied just before
 * so that it holds only the probe's requests.
 */
export async function runApplying(
  ctx: ProbeContext,
  kind: ProbeKind,
  log: unknown[],
  opts: { limit?: number; env?: NodeJS.ProcessEnv } = {},
) {
  assert.equal(kind.applies(ctx), true);
  const { sent, send } = recorder(opts);
  log.length = 0;
  return { sent, findings: await kind.run(ctx, send) };
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

/**
 * A loopback HTTP server for one test file, started before its tests and
 * closed after them; `base` is its URL once started.
 */
export function serveForTests(handler: http.RequestListener): { readonly base: string } {
  let server: http.Server | undefined;
  const loop = { base: '' };
  before(async () => {
    server = http.createServer(handler);
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    loop.base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server?.closeAllConnections();
    server?.close();
  });
  return loop;
}

/** Answers with a JSON body. */
export const sendJson = (
  res: http.ServerResponse,
  status: number,
  body: object,
  headers: Record<string, string> = {},
) => res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
