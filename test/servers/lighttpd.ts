// A real lighttpd on 127.0.0.1. As root its worker drops to www-data, which
// is what makes a root:root 0600 file really unreadable (a
// filesystem-permission denial). The suite's one config holds every denial
// on its own path; the fixture capture (scripts/capture/lighttpd.ts) starts
// the same binary the same way with its own rule lists. lighttpd logs nothing
// for its 403s by default, so it runs with debug.log-request-handling and the
// error log tells the denials apart ("url denied as we match access_deny",
// "file open failed: … Permission denied"). Its access log (log/access.log)
// is in mod_accesslog's default format.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  freePort,
  isRoot,
  LOOPBACK,
  makeTempDir,
  readLines,
  removeDir,
  spawnServer,
  stopChild,
  waitForPort,
  type RunningServer,
  type StartOptions,
} from './common.ts';
import { debianRelease } from './nginx.ts';
import type { Scenario, Suite } from './scenarios.ts';

/** Path rules: the stock Debian suffix list, and everything under /private/. */
export const LIGHTTPD_ACCESS_RULES = [
  'url.access-deny = ( "~", ".inc" )',
  '$HTTP["url"] =~ "^/private/" { url.access-deny = ( "" ) }',
];
/** An address rule, scoped to /office/ so the suite's other paths stay reachable from 127.0.0.1. */
export const LIGHTTPD_OFFICE_RULE =
  '$HTTP["url"] =~ "^/office/" { $HTTP["remoteip"] == "127.0.0.1" { url.access-deny = ( "" ) } }';

export function lighttpdVersion(): string {
  const m = /lighttpd\/([\d.]+)/.exec(execFileSync('lighttpd', ['-v'], { encoding: 'utf8' }));
  return `lighttpd ${m?.[1] ?? '?'}`;
}

export function lighttpdMissing(): string | undefined {
  return spawnSync('sh', ['-c', 'command -v lighttpd || test -x /usr/sbin/lighttpd']).status === 0
    ? undefined
    : 'lighttpd is not installed (Debian package lighttpd)';
}

/** The document root: index.html, /files/ without index, /private/, /office/, an include file, and secret.txt that only root may read. */
function writeDocroot(www: string): void {
  for (const d of ['files', 'private', 'office']) mkdirSync(join(www, d), { recursive: true });
  chmodSync(www, 0o755);
  const files: Record<string, string> = {
    'index.html': '<p>why403 test root</p>\n',
    'files/a.txt': 'a file in a directory without index\n',
    'private/report.txt': 'private report\n',
    'office/report.txt': 'office report\n',
    'config.inc': '<?php $db_password = "fake"; ?>\n',
  };
  for (const [path, text] of Object.entries(files)) writeFileSync(join(www, path), text, { mode: 0o644 });
  const secret = join(www, 'secret.txt');
  writeFileSync(secret, 'only root may read this\n', { mode: 0o600 });
  // Not root: the worker runs as us, and a file we may not read ourselves is the same denial.
  if (isRoot()) chownSync(secret, 0, 0);
  else chmodSync(secret, 0o000);
}

export interface LighttpdServer extends RunningServer {
  /** Error-log lines since the last call, timestamps cut; the parsed-URI dump repeats the request and the startup notice says nothing about it. */
  takeLog(): string[];
}

/** Starts lighttpd in the foreground (-D) with `rules` after the common settings; `lighttpd -tt` first, so a config error fails with its own message. */
export async function launchLighttpd(rules: string[], opts: StartOptions = {}): Promise<LighttpdServer> {
  const dir = makeTempDir('lighttpd', opts.dir);
  const port = opts.port || (await freePort());
  writeDocroot(join(dir, 'www'));
  const logDir = join(dir, 'log');
  mkdirSync(logDir);
  // lighttpd opens its error log after dropping to www-data.
  if (isRoot()) {
    const wwwData = (flag: string) => Number(execFileSync('id', [flag, 'www-data'], { encoding: 'utf8' }).trim());
    chownSync(logDir, wwwData('-u'), wwwData('-g'));
  }
  const conf = [
    `server.document-root = "${dir}/www"`,
    `server.port = ${port}`,
    `server.bind = "${LOOPBACK}"`,
    ...(isRoot() ? ['server.username = "www-data"', 'server.groupname = "www-data"'] : []),
    `server.errorlog = "${logDir}/error.log"`,
    // mod_accesslog writes its default accesslog.format (Common Log Format with the Host for the second field).
    'server.modules = ( "mod_access", "mod_accesslog" )',
    `accesslog.filename = "${logDir}/access.log"`,
    'index-file.names = ( "index.html" )',
    'mimetype.assign = ( ".html" => "text/html", ".txt" => "text/plain" )',
    // Off by default; without it lighttpd writes no line at all for a 403.
    'debug.log-request-handling = "enable"',
    ...rules,
    '',
  ].join('\n');
  const cfg = join(dir, 'lighttpd.conf');
  writeFileSync(cfg, conf);
  const errorLogPath = join(logDir, 'error.log');
  try {
    execFileSync('lighttpd', ['-tt', '-f', cfg], { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    removeDir(dir);
    const err = e as { stderr?: Buffer; stdout?: Buffer };
    throw new Error(`lighttpd -tt rejected the generated config:\n${err.stdout ?? ''}${err.stderr ?? ''}`);
  }
  const { child, output } = spawnServer('lighttpd', ['-D', '-f', cfg]);
  try {
    await waitForPort(port, child, 10_000, () => `\n${output()}\n${readLines(errorLogPath).join('\n')}`);
  } catch (e) {
    await stopChild(child);
    removeDir(dir);
    throw e;
  }
  const initial = readLines(errorLogPath).length;
  let seen = initial;
  return {
    origin: `http://${LOOPBACK}:${port}`,
    port,
    dir,
    pid: child.pid!,
    version: `${lighttpdVersion()} (${debianRelease()})`,
    errorLog: () => readLines(errorLogPath).slice(initial),
    takeLog(): string[] {
      const all = readLines(errorLogPath);
      const fresh = all.slice(seen);
      seen = all.length;
      // "server started" may land after the port opens, so it is not always before `initial`.
      return fresh
        .filter(
          (l) =>
            !/\(response\.c\.\d+\) (-- parsed Request-URI|Request-URI|URI-scheme|URI-authority|URI-path|URI-query)|\) server started \(/.test(
              l,
            ),
        )
        .map((l) => l.replace(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d: /, ''));
    },
    async stop() {
      await stopChild(child, 5000);
      removeDir(dir);
    },
  };
}

export const startLighttpd = (opts: StartOptions = {}) =>
  launchLighttpd([...LIGHTTPD_ACCESS_RULES, LIGHTTPD_OFFICE_RULE], opts);

function scenario(
  name: string,
  cause: Scenario['label']['cause'],
  ambiguous: Scenario['ambiguous'],
  config: string,
  path: string,
): Scenario {
  return {
    name,
    label: { product: 'lighttpd', layer: 'web-server', cause },
    ...(ambiguous?.length ? { ambiguous } : {}),
    config,
    status: 403,
    plan: async () => ({ method: 'GET', path }),
  };
}

export const lighttpdSuite: Suite = {
  id: 'lighttpd',
  product: 'lighttpd',
  rule: 'lighttpd',
  capturePort: 18431,
  start: startLighttpd,
  missing: lighttpdMissing,
  // lighttpd's 403 page is one and the same for all of these: only the request's shape separates some.
  scenarios: [
    scenario(
      'access-deny-suffix',
      'path-forbidden',
      [],
      '`url.access-deny = ( "~", ".inc" )`, request for /config.inc',
      '/config.inc',
    ),
    scenario(
      'access-deny-prefix',
      'path-forbidden',
      ['ip-restricted', 'filesystem-permission'],
      '`$HTTP["url"] =~ "^/private/" { url.access-deny = ( "" ) }`, /private/report.txt is mode 0644',
      '/private/report.txt',
    ),
    scenario(
      'ip-rule',
      'ip-restricted',
      ['path-forbidden', 'filesystem-permission'],
      `\`${LIGHTTPD_OFFICE_RULE}\`, client 127.0.0.1, /office/report.txt is mode 0644`,
      '/office/report.txt',
    ),
    scenario(
      'unreadable-file',
      'filesystem-permission',
      ['path-forbidden', 'ip-restricted'],
      'file /secret.txt is root:root 0600 and the worker runs as www-data (`server.username = "www-data"`)',
      '/secret.txt',
    ),
    scenario(
      'directory-no-index',
      'directory-listing',
      [],
      '/files/ holds a.txt and no index.html; mod_dirlisting is not loaded (listings are off by default)',
      '/files/',
    ),
  ],
};
