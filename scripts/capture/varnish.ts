// Captures the varnish rule's fixtures from a real Varnish on 127.0.0.1:
//   node scripts/capture/varnish.ts [--out DIR]
// One varnishd per scenario, each with its own small VCL, so a fixture's label
// rests on the only deciding line that VCL holds. The backend is a node:http
// server on loopback inside this script: 200 for everything but /private,
// which it refuses itself with 403 (the response Varnish only relays). Each
// request is sent once with why403's own sendRequest (no proxy from the
// environment), and varnishlog's record of it (VCL_call, VCL_acl, VCL_return,
// RespStatus) is kept: it says whether VCL answered with synth or the backend did.
// The VCL skeleton, the backend, the start and varnishlog reading are
// test/servers/varnish.ts's, which the end-to-end suite uses too.
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Exchange } from '../../src/model/exchange.ts';
import { sendRequest } from '../../src/live/send.ts';
import { LOOPBACK } from '../../test/servers/common.ts';
import { CAPTURE_USER_AGENT } from '../../test/servers/http.ts';
import { launchVarnish, startBackend, varnishVersion } from '../../test/servers/varnish.ts';
import { fixtureRequest, fixtureResponse, fixtureWriter } from './fixture-json.ts';

const ROOT = join(import.meta.dirname, '..', '..');
/** Fixed, so fixtures name the same ports from one capture to the next. */
const PORT = 18196;
const BACKEND_PORT = 18197;
const VSL_DOCS = 'https://varnish-cache.org/docs/7.1/reference/vsl.html';

interface Scenario {
  file: string;
  dir: 'fixtures' | 'extra';
  /** The body of vcl_recv (and any ACL before it); the rest of the VCL is the same for all. */
  acl?: string;
  recv: string[];
  method?: string;
  path: string;
  label: { product: string; layer: string; cause: string };
  ambiguous?: string[];
  note: string;
  /** A request the same VCL must pass to the backend (200), proving the rule is narrow. */
  allowed?: { method?: string; path: string };
  expectStatus: number;
}

const SCENARIOS: Scenario[] = [
  {
    file: 'path-rule.json',
    dir: 'fixtures',
    recv: ['if (req.url ~ "^/admin") { return (synth(403, "Forbidden")); }'],
    path: '/admin/users',
    allowed: { path: '/reports/q3.pdf' },
    label: { product: 'varnish', layer: 'reverse-proxy', cause: 'path-forbidden' },
    // The synth page does not say which VCL condition sent it.
    ambiguous: ['ip-restricted'],
    note: 'the URL begins with /admin',
    expectStatus: 403,
  },
  {
    file: 'ip-acl.json',
    dir: 'fixtures',
    // +log: Varnish 7 logs an ACL's match (VCL_acl) only when asked to.
    acl: 'acl blocked +log { "127.0.0.1"; }',
    recv: ['if (client.ip ~ blocked) { return (synth(403)); }'],
    path: '/reports/q3.pdf',
    label: { product: 'varnish', layer: 'reverse-proxy', cause: 'ip-restricted' },
    ambiguous: ['path-forbidden'],
    note: 'the client address 127.0.0.1 is in the blocked ACL (varnishlog: VCL_acl MATCH blocked, then VCL_return synth)',
    expectStatus: 403,
  },
  {
    file: 'purge-not-allowed.json',
    dir: 'fixtures',
    acl: 'acl purgers +log { "192.0.2.10"; }',
    recv: [
      'if (req.method == "PURGE" || req.method == "BAN") {',
      '  if (!(client.ip ~ purgers)) { return (synth(403, "Forbidden")); }',
      '  return (purge);',
      '}',
    ],
    method: 'PURGE',
    path: '/reports/q3.pdf',
    allowed: { path: '/reports/q3.pdf' },
    label: { product: 'varnish', layer: 'reverse-proxy', cause: 'method-not-allowed' },
    // PURGE is refused because of who sends it: the client address is half the rule.
    ambiguous: ['ip-restricted'],
    note: 'PURGE from 127.0.0.1, which is not in the purgers ACL (varnishlog: VCL_acl NO_MATCH purgers, then VCL_return synth; the pattern of https://varnish-cache.org/docs/7.1/users-guide/purging.html, with 403 where that page shows 405)',
    expectStatus: 403,
  },
  {
    file: 'relayed-backend-403.json',
    dir: 'extra',
    recv: [],
    path: '/private',
    allowed: { path: '/reports/q3.pdf' },
    label: { product: 'unknown', layer: 'application', cause: 'unknown' },
    note: `the backend (a node:http server on ${LOOPBACK}:${BACKEND_PORT}, res.writeHead(403, text/plain)) refused /private itself; Varnish's VCL has no deny and only relayed it (varnishlog: BerespStatus 403, VCL_return deliver)`,
    expectStatus: 403,
  },
];

async function send(method: string, path: string): Promise<Exchange> {
  const url = `http://${LOOPBACK}:${PORT}${path}`;
  const h = { 'User-Agent': CAPTURE_USER_AGENT, Accept: '*/*' };
  return sendRequest(
    { method, url, headers: Object.entries(h).map(([name, value]) => ({ name, value })) },
    { env: {}, followRedirects: false, timeoutMs: 10_000 },
  );
}

async function capture(
  s: Scenario,
  version: string,
  write: (sub: string, name: string, fixture: object) => void,
): Promise<void> {
  const server = await launchVarnish({ acls: s.acl ? [s.acl] : [], recv: s.recv }, BACKEND_PORT, {
    port: PORT,
    dir: '/tmp/why403-capture/varnish',
  });
  try {
    let proof = '';
    if (s.allowed) {
      const ok = await send(s.allowed.method ?? 'GET', s.allowed.path);
      if (ok.response.status !== 200)
        throw new Error(
          `${s.file}: ${s.allowed.path} should be passed to the backend, got ${ok.response.status} (${ok.response.headers.map((h) => `${h.name}: ${h.value}`).join('; ')})`,
        );
      proof = `; the same VCL answers 200 (from the backend) for ${s.allowed.method ?? 'GET'} ${s.allowed.path}`;
    }
    const method = s.method ?? 'GET';
    const ex = await send(method, s.path);
    if (ex.response.status !== s.expectStatus)
      throw new Error(`${s.file}: expected ${s.expectStatus}, got ${ex.response.status}`);
    await new Promise((r) => setTimeout(r, 300));
    const log = server.vsl(s.expectStatus);
    const shown = [s.acl, ...s.recv].filter(Boolean).join(' ');
    const source = `captured: ${version} (Debian 12) as a reverse proxy on ${LOOPBACK}:${PORT} by scripts/capture/varnish.ts, VCL: \`${shown || 'vcl_recv empty (built-in VCL only)'}\`; client ${LOOPBACK}: ${s.note}${proof}; log via varnishlog, tags per ${VSL_DOCS}`;
    const request = fixtureRequest(ex);
    const response = fixtureResponse(ex);
    const fx = {
      source,
      label: s.label,
      ...(s.ambiguous ? { ambiguous: s.ambiguous } : {}),
      request,
      response,
      trace: ex.trace,
      ...(log.length ? { log } : {}),
    };
    write(s.dir, s.file, fx);
  } finally {
    await server.stop();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { out: { type: 'string' } } });
  const out = values.out ?? join(ROOT, 'src', 'rules', 'varnish');
  const version = varnishVersion();
  const write = fixtureWriter(out);
  const backend = await startBackend(BACKEND_PORT);
  try {
    for (const s of SCENARIOS) await capture(s, version, write);
  } finally {
    backend.close();
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
