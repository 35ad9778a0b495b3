// Captures the caddy rule's fixtures from a real Caddy on 127.0.0.1:
//   node scripts/capture/caddy.ts [--out DIR]
// One Caddy per scenario, each with its own small Caddyfile, so a fixture's
// label rests on the only rule that config holds. Caddy does not drop
// privileges itself; as root it is started as the `caddy` user (setpriv), so
// a root:root 0600 file is really unreadable to it. Each request is sent once
// with why403's own sendRequest (no proxy from the environment); Caddy's JSON
// access and error log lines for it are kept, as they name the reason. The
// Caddyfile skeleton, document root, start and log reading are
// test/servers/caddy.ts's, which the end-to-end suite uses too.
import { createServer } from 'node:http';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Exchange } from '../../src/model/exchange.ts';
import { sendRequest } from '../../src/live/send.ts';
import { isRoot, LOOPBACK } from '../../test/servers/common.ts';
import { CAPTURE_USER_AGENT } from '../../test/servers/http.ts';
import {
  basicAuth as basic,
  CADDY_BASICAUTH,
  CADDY_PASSWORD as PASSWORD,
  CADDY_USER as USER,
  caddyVersion,
  launchCaddy,
} from '../../test/servers/caddy.ts';
import { fixtureRequest, fixtureResponse, fixtureWriter } from './fixture-json.ts';

const ROOT = join(import.meta.dirname, '..', '..');
/** Fixed, so fixtures name the same ports from one capture to the next. */
const PORT = 18300;
const UPSTREAM_PORT = 18301;
const DIR = '/tmp/why403-capture/caddy';

interface Scenario {
  file: string;
  dir: 'fixtures' | 'extra';
  /** The site block's deciding directives; `{HASH}` becomes the bcrypt hash of PASSWORD. */
  rules: string[];
  path: string;
  headers?: Record<string, string>;
  label: { product: string; layer: string; cause: string };
  ambiguous?: string[];
  note: string;
  /** A request the same config must allow (200), proving the rule is narrow. */
  allowedPath?: string;
  /** Headers of a request to the same path that must be allowed (the right password). */
  allowedHeaders?: Record<string, string>;
  expectStatus: number;
  /** Starts a plain node:http upstream that answers 403 itself. */
  upstream?: boolean;
}

const BASICAUTH = [...CADDY_BASICAUTH, 'file_server'];

const SCENARIOS: Scenario[] = [
  {
    file: 'ip-rule.json',
    dir: 'fixtures',
    rules: ['@blocked remote_ip 127.0.0.1', 'respond @blocked 403'],
    path: '/reports/q3.txt',
    label: { product: 'caddy', layer: 'web-server', cause: 'ip-restricted' },
    // An empty 403 is what any `respond … 403` without a body and an unreadable file give too.
    ambiguous: ['path-forbidden', 'filesystem-permission'],
    note: 'the client address 127.0.0.1 matches the remote_ip matcher; `respond` without a body sends an empty 403',
    expectStatus: 403,
  },
  {
    file: 'path-rule.json',
    dir: 'fixtures',
    rules: ['respond /admin/* "Forbidden" 403', 'file_server'],
    path: '/admin/users',
    allowedPath: '/reports/q3.txt',
    label: { product: 'caddy', layer: 'web-server', cause: 'path-forbidden' },
    // The body is the config's own text: a `respond` on an IP matcher could say the same.
    ambiguous: ['ip-restricted'],
    note: 'the path matches /admin/*',
    expectStatus: 403,
  },
  {
    file: 'unreadable-file.json',
    dir: 'fixtures',
    rules: ['file_server'],
    path: '/secret.txt',
    allowedPath: '/reports/q3.txt',
    label: { product: 'caddy', layer: 'web-server', cause: 'filesystem-permission' },
    ambiguous: ['ip-restricted', 'path-forbidden'],
    note: 'secret.txt is root:root 0600 and Caddy runs as the caddy user',
    expectStatus: 403,
  },
  {
    file: 'basic-auth-missing.json',
    dir: 'fixtures',
    rules: BASICAUTH,
    path: '/reports/q3.txt',
    allowedPath: '/index.html',
    label: { product: 'caddy', layer: 'web-server', cause: 'credential-missing' },
    note: 'no Authorization header sent',
    expectStatus: 401,
  },
  {
    file: 'basic-auth-wrong-password.json',
    dir: 'fixtures',
    rules: BASICAUTH,
    path: '/reports/q3.txt',
    headers: { Authorization: basic(USER, 'wrong-password') },
    allowedHeaders: { Authorization: basic(USER, PASSWORD) },
    label: { product: 'caddy', layer: 'web-server', cause: 'credential-invalid' },
    note: `user ${USER} with a wrong password (fake); the right one (also fake) answered 200 from the same config`,
    expectStatus: 401,
  },
  {
    file: 'basic-auth-wrong-scheme.json',
    dir: 'fixtures',
    rules: BASICAUTH,
    path: '/reports/q3.txt',
    headers: { Authorization: 'Bearer fake-opaque-token-0123456789' },
    label: { product: 'caddy', layer: 'web-server', cause: 'credential-malformed' },
    note: 'a Bearer token (fake) sent where basicauth reads only Basic credentials',
    expectStatus: 401,
  },
  {
    // Caddy only relayed this: the application said no. The rule must not claim it as Caddy's own.
    file: 'reverse-proxy-app-403.json',
    dir: 'extra',
    rules: [`reverse_proxy ${LOOPBACK}:${UPSTREAM_PORT}`],
    path: '/api/orders/42',
    upstream: true,
    label: { product: 'unknown', layer: 'application', cause: 'unknown' },
    note: `a node:http upstream on ${LOOPBACK}:${UPSTREAM_PORT} answers 403 with its own JSON body`,
    expectStatus: 403,
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
  while (requestLog().filter((l) => l.includes('http.log.access')).length < n && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 50));
  return requestLog();
}

async function capture(
  s: Scenario,
  version: string,
  write: (sub: string, name: string, fixture: object) => void,
): Promise<void> {
  const upstream = s.upstream
    ? createServer((_req, res) => {
        res.writeHead(403, { 'Content-Type': 'application/json', Server: 'why403-test-app' });
        res.end('{"error":"forbidden","message":"order 42 belongs to another customer"}\n');
      })
    : undefined;
  if (upstream) await new Promise<void>((r) => upstream.listen(UPSTREAM_PORT, LOOPBACK, r));
  let server: Awaited<ReturnType<typeof launchCaddy>> | undefined;
  try {
    server = await launchCaddy(s.rules, { port: PORT, dir: DIR });
    let sent = 0;
    let proof = '';
    if (s.allowedPath) {
      const ok = await send(s.allowedPath);
      sent++;
      if (ok.response.status !== 200)
        throw new Error(`${s.file}: ${s.allowedPath} should be allowed by this config, got ${ok.response.status}`);
      proof = `; the same config answers 200 for ${s.allowedPath}`;
    }
    if (s.allowedHeaders) {
      // The wrong-password label rests on basicauth accepting the right one.
      const good = await send(s.path, s.allowedHeaders);
      sent++;
      if (good.response.status !== 200)
        throw new Error(
          `Caddy refused the right password too (${good.response.status}); the wrong-password fixture would not be trustworthy`,
        );
    }
    const ex = await send(s.path, s.headers);
    if (ex.response.status !== s.expectStatus)
      throw new Error(`${s.file}: expected ${s.expectStatus}, got ${ex.response.status}`);
    const all = await waitForLines(server.requestLog, sent + 1);
    // Keep only the lines for the captured request: after the last access line of the proofs.
    let accessSeen = 0;
    const lines = all.filter((l) => {
      const mine = accessSeen >= sent;
      if (l.includes('"logger":"http.log.access')) accessSeen++;
      return mine;
    });
    const shown = s.rules
      .map((r) => r.replace('{HASH}', '<bcrypt hash>'))
      .join('; ')
      .replace(/\{; \t/g, '{ ')
      .replace(/; \}/g, ' }');
    const source = `captured: ${version} (Debian 12) on ${LOOPBACK}:${PORT} by scripts/capture/caddy.ts${isRoot() ? ', run as the caddy user' : ''}, Caddyfile site block: \`root * <docroot>; ${shown}\`; client ${LOOPBACK}: ${s.note}${proof}`;
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
    await server?.stop();
    if (upstream) await new Promise((r) => upstream.close(r));
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { out: { type: 'string' } } });
  const out = values.out ?? join(ROOT, 'src', 'rules', 'caddy');
  const version = caddyVersion();
  const write = fixtureWriter(out);
  for (const s of SCENARIOS) await capture(s, version, write);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
