// Captures the squid rule's fixtures from a real Squid forward proxy on 127.0.0.1:
//   node scripts/capture/squid.ts [--out DIR]
// Two proxies: the e2e harness (test/servers/squid.ts, which denies a
// destination port) and one configured here with a dstdomain deny and Basic
// proxy authentication (basic_ncsa_auth, as Debian ships it). Each request is
// sent once, in absolute form as a client configured with HTTP_PROXY sends it;
// Squid refuses before it would connect or resolve anything, so nothing leaves
// the machine. 401/403 denials go to fixtures/; 407s and the 503 go to
// extra/ (the engine does not treat them as denials; see the rule's test).
import { execFileSync } from 'node:child_process';
import { chownSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Client } from 'undici';
import type { NameValue } from '../../src/model/exchange.ts';
import {
  isRoot,
  LOOPBACK,
  makeTempDir,
  readLines,
  removeDir,
  spawnServer,
  stopChild,
  waitForPort,
} from '../../test/servers/common.ts';
import { squidDenyConfig, startSquid } from '../../test/servers/squid.ts';
import { CAPTURE_USER_AGENT } from '../../test/servers/http.ts';
import { fixtureWriter } from './fixture-json.ts';

const ROOT = join(import.meta.dirname, '..', '..');
/** Fixed, so fixtures name the same ports from one capture to the next. */
const HARNESS_PORT = 18128;
const AUTH_PORT = 18129;
/** Nothing listens here: Squid refuses before connecting. */
const DEST_PORT = 18080;
/** A plain origin the proxy allows. */
const ORIGIN_PORT = 18081;
const REALM = 'why403 corporate proxy';
/** Fake, for this capture only. */
const USER = 'alice';
const PASSWORD = 'right-password';
const BLOCKED_DOMAIN = '.blocked.example';

interface Captured {
  request: { method: string; url: string; headers: Record<string, string> };
  response: { status: number; statusText: string; httpVersion: string; headers: NameValue[]; body: string };
}

/** One absolute-form request to the proxy; the response kept as it came (names, order, reason phrase). */
async function viaProxy(
  proxy: string,
  method: string,
  url: string,
  extra: Record<string, string> = {},
): Promise<Captured> {
  const p = new URL(proxy);
  if (p.hostname !== LOOPBACK) throw new Error(`refusing to send to ${p.hostname}: capture traffic stays on 127.0.0.1`);
  const headers: Record<string, string> = {
    Host: new URL(url).host,
    'User-Agent': CAPTURE_USER_AGENT,
    Accept: '*/*',
    ...extra,
  };
  const client = new Client(p.origin, { headersTimeout: 10_000, bodyTimeout: 10_000, connectTimeout: 5_000 });
  try {
    const response = await new Promise<Captured['response']>((resolve, reject) => {
      let status = 0;
      let statusText = '';
      const raw: NameValue[] = [];
      const chunks: Buffer[] = [];
      client.dispatch(
        { origin: p.origin, path: url, method, headers },
        {
          onConnect() {},
          onHeaders(code: number, rawHeaders: Buffer[], _resume: () => void, message: string) {
            status = code;
            statusText = message ?? '';
            raw.length = 0;
            for (let i = 0; i + 1 < rawHeaders.length; i += 2)
              raw.push({ name: rawHeaders[i].toString('latin1'), value: rawHeaders[i + 1].toString('latin1') });
            return true;
          },
          onData(chunk: Buffer) {
            chunks.push(chunk);
            return true;
          },
          onComplete() {
            resolve({
              status,
              statusText,
              httpVersion: 'HTTP/1.1',
              headers: raw,
              body: Buffer.concat(chunks).toString('utf8'),
            });
          },
          onError: reject,
        },
      );
    });
    return { request: { method, url, headers }, response };
  } finally {
    await client.close().catch(() => undefined);
  }
}

function squidVersion(): string {
  const m = /Version ([\d.]+)/.exec(execFileSync('squid', ['-v'], { encoding: 'utf8' }));
  return `Squid ${m?.[1] ?? '?'}`;
}

/** A Squid with a dstdomain deny ahead of Basic proxy authentication, the usual corporate layout. */
async function startAuthSquid(dir: string) {
  const users = join(dir, 'passwd');
  writeFileSync(users, execFileSync('htpasswd', ['-nbm', USER, PASSWORD], { encoding: 'utf8' }));
  const authConfig = [
    `auth_param basic program /usr/lib/squid/basic_ncsa_auth ${users}`,
    `auth_param basic realm ${REALM}`,
    'acl why403_users proxy_auth REQUIRED',
    `acl why403_blocked_sites dstdomain ${BLOCKED_DOMAIN}`,
    'http_access deny why403_blocked_sites',
    'http_access allow localhost why403_users',
    'http_access deny all',
  ];
  const conf = `http_port ${LOOPBACK}:${AUTH_PORT}
${isRoot() ? 'cache_effective_user proxy\ncache_effective_group proxy' : ''}
pid_filename ${dir}/squid.pid
cache_log ${dir}/cache.log
access_log stdio:${dir}/access.log squid
cache_store_log none
coredump_dir ${dir}
netdb_filename none
cache deny all
cache_mem 8 MB
dns_nameservers 127.0.0.1
icp_port 0
htcp_port 0
visible_hostname why403-test-proxy
shutdown_lifetime 0 seconds
acl localhost src 127.0.0.1/32
${authConfig.join('\n')}
`;
  writeFileSync(join(dir, 'squid.conf'), conf);
  if (isRoot()) {
    const id = (flag: string) => Number(execFileSync('id', [flag, 'proxy'], { encoding: 'utf8' }).trim());
    chownSync(dir, id('-u'), id('-g'));
    chownSync(users, id('-u'), id('-g'));
  }
  const { child, output } = spawnServer('squid', ['-N', '-d', '1', '-f', join(dir, 'squid.conf')]);
  try {
    await waitForPort(AUTH_PORT, child, 20_000, () => `\n${output()}\n${readLines(join(dir, 'cache.log')).join('\n')}`);
  } catch (e) {
    await stopChild(child);
    throw e;
  }
  return {
    origin: `http://${LOOPBACK}:${AUTH_PORT}`,
    config: authConfig,
    /** Squid's native access.log lines, timestamps and elapsed times cut. */
    // NONE_NONE/000 lines are the readiness check's bare TCP connects.
    accessLog: () =>
      readLines(join(dir, 'access.log'))
        .filter((l) => !l.includes('NONE_NONE/000'))
        .map((l) => l.replace(/^\S+\s+\d+\s+/, '')),
    stop: () => stopChild(child, 5000),
  };
}

/** The right password is fake too, but a fixture never shows a credential that works. */
function redactAuth(cap: Captured): Captured {
  const headers = { ...cap.request.headers };
  if (headers['Proxy-Authorization']) headers['Proxy-Authorization'] = 'Basic <redacted: the right password>';
  return { ...cap, request: { ...cap.request, headers } };
}

function fixture(source: string, label: object, cap: Captured, log?: string[]): object {
  return { source, label, request: cap.request, response: cap.response, ...(log?.length ? { log } : {}) };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { out: { type: 'string' } } });
  const out = values.out ?? join(ROOT, 'src', 'rules', 'squid');
  const version = `${squidVersion()} (Debian 12)`;
  const write = fixtureWriter(out);
  const forwardProxy = { product: 'squid', layer: 'forward-proxy' };

  // 1. The e2e harness: a port the proxy's policy refuses.
  const harness = await startSquid({ port: HARNESS_PORT, denyPorts: [DEST_PORT], dir: '/tmp/why403-capture/squid' });
  try {
    const cap = await viaProxy(harness.origin, 'GET', `http://${LOOPBACK}:${DEST_PORT}/index.html`);
    const config = squidDenyConfig([DEST_PORT]).replace('\n', '; ');
    write(
      'fixtures',
      'denied-port.json',
      fixture(
        `captured: ${harness.version} as a forward proxy on ${harness.origin} by scripts/capture/squid.ts (test/servers/squid.ts): \`${config}\`; the request sent through the proxy in absolute form`,
        { ...forwardProxy, cause: 'proxy-interference' },
        cap,
      ),
    );

    // An origin's own 403, relayed: Squid adds only Via and X-Cache, so the
    // rule must leave the verdict to whoever made the response.
    const origin = createServer((_req, res) => {
      res.writeHead(403, { 'Content-Type': 'text/plain' });
      res.end('forbidden by the origin\n');
    });
    await new Promise<void>((r) => origin.listen(ORIGIN_PORT, LOOPBACK, r));
    try {
      const relayed = await viaProxy(harness.origin, 'GET', `http://${LOOPBACK}:${ORIGIN_PORT}/private`);
      write(
        'extra',
        'relayed-origin-403.json',
        fixture(
          `captured: ${harness.version} as a forward proxy on ${harness.origin} by scripts/capture/squid.ts (test/servers/squid.ts), relaying a 403 made by a node:http server on ${LOOPBACK}:${ORIGIN_PORT} (res.writeHead(403, text/plain))`,
          { product: 'unknown', layer: 'application', cause: 'unknown' },
          relayed,
        ),
      );
    } finally {
      await new Promise((r) => origin.close(r));
    }
  } finally {
    await harness.stop();
  }

  // 2. A blocked domain and proxy authentication.
  const dir = makeTempDir('squid-auth', '/tmp/why403-capture/squid-auth');
  const proxy = await startAuthSquid(dir);
  try {
    const cfg = `\`${proxy.config.join('; ').replace(/ \/tmp\/[^\s;]+/, ' <htpasswd file>')}\``;
    const logFor = (n: number) => proxy.accessLog().slice(n);
    let seen = 0;
    const take = () => {
      const lines = logFor(seen);
      seen += lines.length;
      return lines;
    };
    const note = `captured: ${version} as a forward proxy on ${proxy.origin} by scripts/capture/squid.ts: ${cfg}`;

    const blocked = await viaProxy(proxy.origin, 'GET', `http://intranet${BLOCKED_DOMAIN}/reports/`);
    await new Promise((r) => setTimeout(r, 300));
    write(
      'fixtures',
      'denied-domain.json',
      fixture(
        `${note}; a destination in ${BLOCKED_DOMAIN} (refused by name, nothing resolved)`,
        { ...forwardProxy, cause: 'proxy-interference' },
        blocked,
        take(),
      ),
    );

    const dest = `http://${LOOPBACK}:${DEST_PORT}/index.html`;
    const none = await viaProxy(proxy.origin, 'GET', dest);
    await new Promise((r) => setTimeout(r, 300));
    write(
      'extra',
      'proxy-auth-missing.json',
      fixture(`${note}; no Proxy-Authorization sent`, { ...forwardProxy, cause: 'credential-missing' }, none, take()),
    );

    // The right password first: it must get past authentication (Squid then
    // fails to connect to the empty port, 503 ERR_CONNECT_FAIL), or the
    // wrong-password label would rest on a helper that rejects everyone.
    const good = await viaProxy(proxy.origin, 'GET', dest, {
      'Proxy-Authorization': `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`,
    });
    await new Promise((r) => setTimeout(r, 300));
    if (good.response.status === 407)
      throw new Error(
        'Squid refused the right password too: the basic_ncsa_auth helper is not working; the wrong-password fixture would not be trustworthy',
      );
    const goodCode = good.response.headers.find((h) => h.name.toLowerCase() === 'x-squid-error')?.value ?? '';
    // Not a denial: the label's cause is "unknown" because there is no refusal to explain.
    write(
      'extra',
      'connect-fail.json',
      fixture(
        `${note}; user ${USER} with the right password (fake), to a port where nothing listens: ${good.response.status} ${goodCode}`,
        { ...forwardProxy, cause: 'unknown' },
        redactAuth(good),
        take(),
      ),
    );

    const wrong = `Basic ${Buffer.from(`${USER}:wrong-password`).toString('base64')}`;
    const bad = await viaProxy(proxy.origin, 'GET', dest, { 'Proxy-Authorization': wrong });
    await new Promise((r) => setTimeout(r, 300));
    write(
      'extra',
      'proxy-auth-wrong-password.json',
      fixture(
        `${note}; user ${USER} with a wrong password (fake); the right one got past authentication (${good.response.status} ${goodCode})`,
        { ...forwardProxy, cause: 'credential-invalid' },
        bad,
        take(),
      ),
    );
  } finally {
    await proxy.stop();
    removeDir(dir);
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
