// Captures the haproxy rule's fixtures from a real HAProxy on 127.0.0.1:
//   node scripts/capture/haproxy.ts [--out DIR]
// One HAProxy per scenario, each with its own small config, so a fixture's
// label rests on the only rule that config holds; the config skeleton, the
// start and the log reading are test/servers/haproxy.ts's, which the
// end-to-end suite uses with one config for all the denials. No backend server: allowed
// requests get `http-request return`, so nothing is proxied anywhere. Each
// request is sent once with why403's own sendRequest (no proxy from the
// environment) and the HAProxy log line for it is kept: its termination state
// (PR--, LR--) says whether a deny rule or the auth rule answered.
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Exchange } from '../../src/model/exchange.ts';
import { sendRequest } from '../../src/live/send.ts';
import { LOOPBACK } from '../../test/servers/common.ts';
import { CAPTURE_USER_AGENT } from '../../test/servers/http.ts';
import {
  basicAuth as basic,
  HAPROXY_ALLOW as ALLOW,
  HAPROXY_PASSWORD as PASSWORD,
  HAPROXY_REALM as REALM,
  HAPROXY_USER as USER,
  HAPROXY_USERLIST,
  haproxyVersion,
  launchHaproxy,
} from '../../test/servers/haproxy.ts';
import { fixtureRequest, fixtureResponse, fixtureWriter } from './fixture-json.ts';

const ROOT = join(import.meta.dirname, '..', '..');
/** Fixed, so fixtures name the same port from one capture to the next. */
const PORT = 18190;
const DOCS_85 = 'https://docs.haproxy.org/2.6/configuration.html#8.5';

interface Scenario {
  file: string;
  dir: 'fixtures' | 'extra';
  /** The lines of the frontend that decide; the rest of the config is the same for all. */
  rules: string[];
  userlist?: boolean;
  path: string;
  headers?: Record<string, string>;
  label: { product: 'haproxy'; layer: 'reverse-proxy'; cause: string };
  ambiguous?: string[];
  /** Why the label is what it is. */
  note: string;
  /** A request the same config must allow (200), proving the rule is narrow. */
  allowedPath?: string;
  expectStatus: number;
}

const AUTH = [`http-request auth realm "${REALM}" if { path_beg /admin } !{ http_auth(${HAPROXY_USERLIST}) }`, ALLOW];

const SCENARIOS: Scenario[] = [
  {
    file: 'deny-all.json',
    dir: 'fixtures',
    rules: ['http-request deny'],
    path: '/reports/q3.pdf',
    label: { product: 'haproxy', layer: 'reverse-proxy', cause: 'path-forbidden' },
    ambiguous: ['ip-restricted'],
    note: 'an unconditional deny: every path refused for every client',
    expectStatus: 403,
  },
  {
    file: 'ip-rule.json',
    dir: 'fixtures',
    rules: ['acl blocked src 127.0.0.1', 'http-request deny if blocked', ALLOW],
    path: '/reports/q3.pdf',
    label: { product: 'haproxy', layer: 'reverse-proxy', cause: 'ip-restricted' },
    ambiguous: ['path-forbidden'],
    note: 'the client address 127.0.0.1 is in the blocked ACL',
    expectStatus: 403,
  },
  {
    file: 'path-rule.json',
    dir: 'fixtures',
    rules: ['http-request deny if { path_beg /admin }', ALLOW],
    path: '/admin/users',
    allowedPath: '/reports/q3.pdf',
    label: { product: 'haproxy', layer: 'reverse-proxy', cause: 'path-forbidden' },
    ambiguous: ['ip-restricted'],
    note: 'the path begins with /admin',
    expectStatus: 403,
  },
  {
    file: 'basic-auth-missing.json',
    dir: 'fixtures',
    rules: AUTH,
    userlist: true,
    path: '/admin/users',
    allowedPath: '/reports/q3.pdf',
    label: { product: 'haproxy', layer: 'reverse-proxy', cause: 'credential-missing' },
    note: 'no Authorization header sent',
    expectStatus: 401,
  },
  {
    file: 'basic-auth-wrong-password.json',
    dir: 'fixtures',
    rules: AUTH,
    userlist: true,
    path: '/admin/users',
    headers: { Authorization: basic(USER, 'wrong-password') },
    label: { product: 'haproxy', layer: 'reverse-proxy', cause: 'credential-invalid' },
    note: `user ${USER} with a wrong password (fake); the right one (also fake) answered 200 from the same config`,
    expectStatus: 401,
  },
  {
    // 429 is not a denial to the engine (401/403/407 are); the rule must still read it.
    file: 'deny-status-429.json',
    dir: 'extra',
    rules: ['http-request deny deny_status 429 if { path_beg /api/ }', ALLOW],
    path: '/api/search',
    label: { product: 'haproxy', layer: 'reverse-proxy', cause: 'rate-limited' },
    note: 'a deny rule that answers 429 instead of 403 (as rate limits built on stick tables do)',
    expectStatus: 429,
  },
];

async function send(path: string, headers: Record<string, string> = {}): Promise<Exchange> {
  const url = `http://${LOOPBACK}:${PORT}${path}`;
  const h = { 'User-Agent': CAPTURE_USER_AGENT, Accept: '*/*', ...headers };
  return sendRequest(
    { method: 'GET', url, headers: Object.entries(h).map(([name, value]) => ({ name, value })) },
    { env: {}, followRedirects: false, timeoutMs: 10_000 },
  );
}

async function waitForLines(requestLog: () => string[], n: number): Promise<string[]> {
  const deadline = Date.now() + 3000;
  while (requestLog().length < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  return requestLog();
}

async function capture(
  s: Scenario,
  version: string,
  write: (sub: string, name: string, fixture: object) => void,
): Promise<void> {
  const server = await launchHaproxy(
    { frontend: s.rules, userlist: s.userlist },
    { port: PORT, dir: '/tmp/why403-capture/haproxy' },
  );
  try {
    // The port check's bare connect may log nothing or a line; count from here.
    await new Promise((r) => setTimeout(r, 200));
    const before = server.requestLog().length;
    let proof = '';
    if (s.allowedPath) {
      const ok = await send(s.allowedPath);
      if (ok.response.status !== 200)
        throw new Error(`${s.file}: ${s.allowedPath} should be allowed by this config, got ${ok.response.status}`);
      proof = `; the same config answers 200 for ${s.allowedPath}`;
    }
    if (s.file === 'basic-auth-wrong-password.json') {
      // The wrong-password label rests on the userlist accepting the right one.
      const good = await send(s.path, { Authorization: basic(USER, PASSWORD) });
      if (good.response.status !== 200)
        throw new Error(
          `HAProxy refused the right password too (${good.response.status}); the wrong-password fixture would not be trustworthy`,
        );
    }
    const ex = await send(s.path, s.headers);
    if (ex.response.status !== s.expectStatus)
      throw new Error(`${s.file}: expected ${s.expectStatus}, got ${ex.response.status}`);
    const sentBefore = (s.allowedPath ? 1 : 0) + (s.file === 'basic-auth-wrong-password.json' ? 1 : 0);
    const lines = (await waitForLines(server.requestLog, before + sentBefore + 1)).slice(before + sentBefore);
    const shownRules = s.rules.map((r) => (r === ALLOW ? 'http-request return status 200 …' : r));
    const source = `captured: ${version} (Debian 12) as a reverse proxy on ${LOOPBACK}:${PORT} by scripts/capture/haproxy.ts, frontend: \`${shownRules.join('; ')}\`${s.userlist ? ` with a userlist holding ${USER} (fake password)` : ''}; client ${LOOPBACK}: ${s.note}${proof}; log termination state per ${DOCS_85}`;
    const request = fixtureRequest(ex);
    const response = fixtureResponse(ex);
    const fx = {
      source,
      label: s.label,
      ...(s.ambiguous ? { ambiguous: s.ambiguous } : {}),
      request,
      response,
      trace: ex.trace,
      ...(lines.length ? { log: lines } : {}),
    };
    write(s.dir, s.file, fx);
  } finally {
    await server.stop();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { out: { type: 'string' } } });
  const out = values.out ?? join(ROOT, 'src', 'rules', 'haproxy');
  const version = haproxyVersion();
  const write = fixtureWriter(out);
  for (const s of SCENARIOS) await capture(s, version, write);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
