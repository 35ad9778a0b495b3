// Captures the lighttpd rule's fixtures from a real lighttpd on 127.0.0.1:
//   node scripts/capture/lighttpd.ts [--out DIR]
// Must run as root: lighttpd drops to www-data, which is what makes a
// root:root 0600 file really unreadable (a filesystem-permission denial).
// Two servers: one with url.access-deny rules, an unreadable file and a
// directory without index; one whose only rule refuses 127.0.0.1 by address
// (it would refuse every request of the first). Each request is sent once,
// with why403's own sendRequest, never following redirects, never through a
// proxy. lighttpd logs nothing for these 403s by default, so the servers run
// with debug.log-request-handling, and each fixture keeps the error-log lines
// that tell the denials apart. Config, document root and start are
// test/servers/lighttpd.ts's, which the end-to-end suite uses too.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { sendRequest } from '../../src/live/send.ts';
import type { Exchange } from '../../src/model/exchange.ts';
import { isRoot, LOOPBACK } from '../../test/servers/common.ts';
import { CAPTURE_USER_AGENT } from '../../test/servers/http.ts';
import { launchLighttpd, LIGHTTPD_ACCESS_RULES, lighttpdVersion as version } from '../../test/servers/lighttpd.ts';

const ROOT = join(import.meta.dirname, '..', '..');
/** Fixed, so fixtures name the same ports and paths from one capture to the next. */
const MAIN_PORT = 18431;
const IP_PORT = 18432;
const DIR = '/tmp/why403-capture/lighttpd';

/** The rules under test, quoted in the fixtures' sources. */
const MAIN_RULES = LIGHTTPD_ACCESS_RULES;
const IP_RULES = ['$HTTP["remoteip"] == "127.0.0.1" { url.access-deny = ( "" ) }'];

const startLighttpd = (name: string, port: number, rules: string[]) =>
  launchLighttpd(rules, { port, dir: join(DIR, name) });

async function get(origin: string, path: string): Promise<Exchange> {
  const url = `${origin}${path}`;
  if (new URL(url).hostname !== LOOPBACK)
    throw new Error(`refusing to send to ${url}: capture traffic stays on 127.0.0.1`);
  return sendRequest(
    {
      method: 'GET',
      url,
      httpVersion: 'HTTP/1.1',
      headers: [
        { name: 'User-Agent', value: CAPTURE_USER_AGENT },
        { name: 'Accept', value: '*/*' },
      ],
    },
    { timeoutMs: 10_000, followRedirects: false, env: {} },
  );
}

function fixture(source: string, cause: string, ambiguous: string[], ex: Exchange, log: string[]): string {
  const req = ex.request!;
  const res = ex.response;
  return `${JSON.stringify(
    {
      source,
      label: { product: 'lighttpd', layer: 'web-server', cause },
      ...(ambiguous.length ? { ambiguous } : {}),
      request: {
        method: req.method,
        url: req.url,
        headers: Object.fromEntries([['Host', new URL(req.url).host], ...req.headers.map((h) => [h.name, h.value])]),
      },
      response: {
        status: res.status,
        statusText: res.statusText,
        httpVersion: res.httpVersion,
        headers: res.headers,
        body: res.content.text ?? '',
      },
      ...(log.length ? { log } : {}),
    },
    null,
    2,
  )}\n`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { out: { type: 'string' } } });
  if (!isRoot())
    throw new Error('run as root: lighttpd must drop to www-data for the unreadable-file capture to be real');
  const out = join(values.out ?? join(ROOT, 'src', 'rules', 'lighttpd'), 'fixtures');
  mkdirSync(out, { recursive: true });
  const ver = `${version()} (Debian 12)`;
  const write = (name: string, text: string) => {
    writeFileSync(join(out, name), text);
    console.log(`wrote ${join(out, name)}`);
  };
  const settle = () => new Promise((r) => setTimeout(r, 300));

  const srv = await startLighttpd('main', MAIN_PORT, MAIN_RULES);
  try {
    const note = `captured: ${ver} on ${srv.origin} by scripts/capture/lighttpd.ts, workers as www-data, config \`${MAIN_RULES.join('; ')}\` plus debug.log-request-handling = "enable" (without it lighttpd logs nothing for a 403)`;
    const cases: { file: string; path: string; cause: string; ambiguous: string[]; what: string }[] = [
      {
        file: 'unreadable-file.json',
        path: '/secret.txt',
        cause: 'filesystem-permission',
        ambiguous: ['path-forbidden', 'ip-restricted'],
        what: '/secret.txt is root:root 0600, which www-data cannot open',
      },
      {
        file: 'access-deny-suffix.json',
        path: '/config.inc',
        cause: 'path-forbidden',
        ambiguous: [],
        what: '/config.inc matches the ".inc" suffix in url.access-deny (Debian’s stock lighttpd.conf has the same list)',
      },
      {
        file: 'access-deny-prefix.json',
        path: '/private/report.txt',
        cause: 'path-forbidden',
        ambiguous: ['ip-restricted', 'filesystem-permission'],
        what: '/private/report.txt (mode 0644) is refused by url.access-deny = ("") inside $HTTP["url"] =~ "^/private/"',
      },
      {
        file: 'directory-no-index.json',
        path: '/files/',
        cause: 'directory-listing',
        ambiguous: [],
        what: '/files/ holds no index.html and mod_dirlisting is not loaded (listings are off by default)',
      },
    ];
    for (const c of cases) {
      const ex = await get(srv.origin, c.path);
      await settle();
      if (ex.response.status !== 403)
        throw new Error(
          `${c.path}: lighttpd answered ${ex.response.status}, not 403; the ${c.cause} fixture would be wrong`,
        );
      write(c.file, fixture(`${note}; ${c.what}`, c.cause, c.ambiguous, ex, srv.takeLog()));
    }
    // A control: the same server serves an ordinary file, so the 403s above come from the rules, not a broken setup.
    const ok = await get(srv.origin, '/index.html');
    if (ok.response.status !== 200)
      throw new Error(`/index.html: lighttpd answered ${ok.response.status}, expected 200; the server setup is broken`);
  } finally {
    await srv.stop();
  }

  const ip = await startLighttpd('ip', IP_PORT, IP_RULES);
  try {
    const ex = await get(ip.origin, '/index.html');
    await settle();
    if (ex.response.status !== 403) throw new Error(`ip rule: lighttpd answered ${ex.response.status}, not 403`);
    write(
      'ip-rule.json',
      fixture(
        `captured: ${ver} on ${ip.origin} by scripts/capture/lighttpd.ts, workers as www-data, config \`${IP_RULES.join('; ')}\` plus debug.log-request-handling = "enable"; /index.html (mode 0644, served 200 by the same docroot without this rule) requested from 127.0.0.1`,
        'ip-restricted',
        ['path-forbidden', 'filesystem-permission'],
        ex,
        ip.takeLog(),
      ),
    );
  } finally {
    await ip.stop();
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
