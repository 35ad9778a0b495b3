// A real Caddy on 127.0.0.1 with one site block. Caddy does not drop
// privileges itself; as root it is started as the `caddy` user (setpriv), so
// a root:root 0600 file is really unreadable to it. The suite's one Caddyfile
// holds every denial on its own path; the fixture capture
// (scripts/capture/caddy.ts) starts the same binary the same way, one site
// block per fixture. Caddy's JSON access and error log lines (debug level)
// name the reason: "permission denied", "not authenticated", or nothing
// beyond the status for a `respond`. The access log also goes to a file,
// CADDY_ACCESS_LOG under the server dir (a global `log` that includes the
// access logger), as a site would keep it for `why403 logs`.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  freePort,
  isRoot,
  LOOPBACK,
  makeTempDir,
  removeDir,
  spawnServer,
  stopChild,
  waitForPort,
  type RunningServer,
  type StartOptions,
} from './common.ts';
import { debianRelease } from './nginx.ts';
import type { Scenario, Suite } from './scenarios.ts';

export const CADDY_USER = 'alice';
/** Throwaway password of a throwaway basicauth block; it guards nothing. */
export const CADDY_PASSWORD = 'right-password';
/** basicauth's lines; `{HASH}` becomes the bcrypt hash of CADDY_PASSWORD. */
export const CADDY_BASICAUTH = ['basicauth /reports/* {', `\t${CADDY_USER} {HASH}`, '}'];

export const basicAuth = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

export function caddyVersion(): string {
  const v = execFileSync('caddy', ['version'], { encoding: 'utf8' }).trim().split(/\s/)[0];
  return `Caddy ${v.replace(/^v/, '')}`;
}

export function caddyMissing(): string | undefined {
  return spawnSync('sh', ['-c', 'command -v caddy']).status === 0
    ? undefined
    : 'caddy is not installed (Debian package caddy)';
}

function writeDocroot(www: string): void {
  for (const d of ['reports', 'admin', 'office']) mkdirSync(join(www, d), { recursive: true });
  writeFileSync(join(www, 'index.html'), '<p>why403 test root</p>\n');
  writeFileSync(join(www, 'reports', 'q3.txt'), 'q3 report\n');
  writeFileSync(join(www, 'admin', 'users'), 'admin users\n');
  writeFileSync(join(www, 'office', 'report.txt'), 'office report\n');
  const secret = join(www, 'secret.txt');
  writeFileSync(secret, 'only root may read this\n');
  if (isRoot()) {
    chownSync(secret, 0, 0);
    chmodSync(secret, 0o600);
  } else chmodSync(secret, 0o000);
  for (const d of [www, join(www, 'reports'), join(www, 'admin'), join(www, 'office')]) chmodSync(d, 0o755);
}

/** The access log file Caddy writes, relative to the server dir (a directory the caddy user may write). */
export const CADDY_ACCESS_LOG = join('logs', 'access.log');

export function caddyfileText(port: number, www: string, rules: string[], hash: string, accessLog?: string): string {
  const body = rules.map((r) => `\t${r.replace('{HASH}', hash)}`).join('\n');
  // Every log gets the messages it includes: the site's own log below still writes to stderr.
  const file = accessLog
    ? `\tlog access_file {\n\t\toutput file ${accessLog}\n\t\tformat json\n\t\tinclude http.log.access\n\t}\n`
    : '';
  return `{
\tadmin off
\tauto_https off
\tdebug
${file}}
http://${LOOPBACK}:${port} {
\tbind ${LOOPBACK}
\tlog {
\t\toutput stderr
\t\tformat json
\t}
\troot * ${www}
${body}
}
`;
}

/** Caddy's JSON log lines about requests (access log and handler errors), timestamps and ids cut, credentials never kept. */
export function caddyRequestLines(output: string): string[] {
  const lines: string[] = [];
  for (const l of output.split('\n')) {
    let o: Record<string, any>;
    try {
      o = JSON.parse(l);
    } catch {
      continue;
    }
    // Only what Caddy says about requests: the access log and handler errors (debug level in 2.6 for 4xx).
    if (!/^http\.log\.(access|error)/.test(String(o.logger ?? ''))) continue;
    const { ts: _ts, request, resp_headers: _rh, ...rest } = o;
    const req = request ? { remote_ip: request.remote_ip, method: request.method, uri: request.uri } : undefined;
    lines.push(JSON.stringify({ ...rest, ...(req ? { request: req } : {}) }));
  }
  return lines;
}

export interface CaddyServer extends RunningServer {
  /** caddyRequestLines of everything Caddy has written so far. */
  requestLog(): string[];
}

/** Starts `caddy run` with a site block of `rules` (after `root * <docroot>`); `caddy validate` first, so a Caddyfile error fails with Caddy's own message. */
export async function launchCaddy(rules: string[], opts: StartOptions = {}): Promise<CaddyServer> {
  const dir = makeTempDir('caddy', opts.dir);
  const port = opts.port || (await freePort());
  const www = join(dir, 'www');
  writeDocroot(www);
  const hash = rules.some((r) => r.includes('{HASH}'))
    ? execFileSync('caddy', ['hash-password', '--plaintext', CADDY_PASSWORD], { encoding: 'utf8' }).trim()
    : '';
  const logs = join(dir, 'logs');
  mkdirSync(logs);
  if (isRoot()) {
    const id = (flag: string) => Number(execFileSync('id', [flag, 'caddy'], { encoding: 'utf8' }).trim());
    chownSync(logs, id('-u'), id('-g'));
  }
  const cfg = join(dir, 'Caddyfile');
  writeFileSync(cfg, caddyfileText(port, www, rules, hash, join(dir, CADDY_ACCESS_LOG)));
  // Caddy writes its state under HOME / XDG dirs: keep them in the temp dir.
  const env = { ...process.env, HOME: dir, XDG_DATA_HOME: join(dir, 'data'), XDG_CONFIG_HOME: join(dir, 'config') };
  const args = ['run', '--config', cfg, '--adapter', 'caddyfile'];
  try {
    execFileSync('caddy', ['validate', '--config', cfg, '--adapter', 'caddyfile'], { stdio: 'pipe', env });
  } catch (e) {
    removeDir(dir);
    const err = e as { stderr?: Buffer };
    throw new Error(`caddy validate rejected the generated Caddyfile:\n${err.stderr ?? ''}`);
  }
  const { child, output } = isRoot()
    ? spawnServer('setpriv', ['--reuid=caddy', '--regid=caddy', '--init-groups', 'caddy', ...args], { env })
    : spawnServer('caddy', args, { env });
  try {
    await waitForPort(port, child, 15_000, () => `\n${output()}`);
  } catch (e) {
    await stopChild(child);
    removeDir(dir);
    throw e;
  }
  const start = output().length;
  return {
    origin: `http://${LOOPBACK}:${port}`,
    port,
    dir,
    pid: child.pid!,
    version: `${caddyVersion()} (${debianRelease()})`,
    errorLog: () => caddyRequestLines(output().slice(start)),
    requestLog: () => caddyRequestLines(output()),
    async stop() {
      await stopChild(child, 3000);
      removeDir(dir);
    },
  };
}

/**
 * The suite's one site block. Caddy orders directives itself (basicauth, then
 * respond, then file_server), so each path meets exactly one of these.
 */
export const CADDY_SUITE_RULES = [
  '@office_blocked {',
  '\tpath /office/*',
  '\tremote_ip 127.0.0.1',
  '}',
  'respond @office_blocked 403',
  'respond /admin/* "Forbidden" 403',
  ...CADDY_BASICAUTH,
  'file_server',
];

export const startCaddy = (opts: StartOptions = {}) => launchCaddy(CADDY_SUITE_RULES, opts);

function scenario(
  name: string,
  cause: Scenario['label']['cause'],
  status: number,
  ambiguous: Scenario['ambiguous'],
  config: string,
  path: string,
  headers?: Record<string, string>,
): Scenario {
  return {
    name,
    label: { product: 'caddy', layer: 'web-server', cause },
    ...(ambiguous?.length ? { ambiguous } : {}),
    config,
    status,
    plan: async () => ({ method: 'GET', path, ...(headers ? { headers } : {}) }),
  };
}

const BASICAUTH_SHOWN = `\`basicauth /reports/* { ${CADDY_USER} <bcrypt hash> }\``;

export const caddySuite: Suite = {
  id: 'caddy',
  product: 'caddy',
  rule: 'caddy',
  capturePort: 18300,
  start: startCaddy,
  missing: caddyMissing,
  scenarios: [
    // An empty 403 is what any `respond … 403` without a body and an unreadable file give too.
    scenario(
      'ip-rule',
      'ip-restricted',
      403,
      ['path-forbidden', 'filesystem-permission'],
      '`@office_blocked { path /office/*; remote_ip 127.0.0.1 }` + `respond @office_blocked 403`, client 127.0.0.1',
      '/office/report.txt',
    ),
    // The body is the config's own text: a `respond` on an IP matcher could say the same.
    scenario(
      'path-rule',
      'path-forbidden',
      403,
      ['ip-restricted'],
      '`respond /admin/* "Forbidden" 403`',
      '/admin/users',
    ),
    scenario(
      'unreadable-file',
      'filesystem-permission',
      403,
      ['ip-restricted', 'path-forbidden'],
      '`file_server`; /secret.txt is root:root 0600 and Caddy runs as the caddy user',
      '/secret.txt',
    ),
    scenario(
      'basic-auth-missing',
      'credential-missing',
      401,
      [],
      `${BASICAUTH_SHOWN}, no Authorization sent`,
      '/reports/q3.txt',
    ),
    scenario(
      'basic-auth-wrong-password',
      'credential-invalid',
      401,
      [],
      `${BASICAUTH_SHOWN}, user ${CADDY_USER} with a wrong password (fake)`,
      '/reports/q3.txt',
      { Authorization: basicAuth(CADDY_USER, 'wrong-password') },
    ),
    scenario(
      'basic-auth-wrong-scheme',
      'credential-malformed',
      401,
      [],
      `${BASICAUTH_SHOWN}, a Bearer token (fake) sent where basicauth reads only Basic credentials`,
      '/reports/q3.txt',
      { Authorization: 'Bearer fake-opaque-token-0123456789' },
    ),
  ],
};
