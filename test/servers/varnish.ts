// A real Varnish on 127.0.0.1 in front of a node:http backend on loopback:
// the backend answers 200 for everything but /private, which it refuses
// itself with 403 (a response Varnish only relays). As root varnishd's
// workers run as vcache. The suite's one VCL holds every denial, each on its
// own condition; the fixture capture (scripts/capture/varnish.ts) starts the
// same binary the same way with one small VCL per fixture. varnishlog's record
// of a request (VCL_call, VCL_acl, VCL_return, RespStatus) says whether VCL
// answered with synth or the backend did.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
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

export interface VclParts {
  /** ACL declarations, each one line. */
  acls?: string[];
  /** The body of vcl_recv. */
  recv: string[];
}

export function varnishVersion(): string {
  // varnishd -V writes its version to stderr.
  const r = spawnSync('varnishd', ['-V'], { encoding: 'utf8' });
  const m = /varnish-([\d.]+)/.exec(`${r.stdout}${r.stderr}`);
  return `Varnish ${m?.[1] ?? '?'}`;
}

export function varnishMissing(): string | undefined {
  return spawnSync('sh', ['-c', 'command -v varnishd || test -x /usr/sbin/varnishd']).status === 0
    ? undefined
    : 'varnishd is not installed (Debian package varnish)';
}

export function vclText(backendPort: number, v: VclParts): string {
  return `vcl 4.1;
backend default { .host = "${LOOPBACK}"; .port = "${backendPort}"; }
${(v.acls ?? []).map((a) => `${a}\n`).join('')}sub vcl_recv {
${v.recv.map((l) => `  ${l}`).join('\n')}
}
`;
}

/** The backend: 200 for everything, except /private, which the application itself refuses. */
export function startBackend(port = 0): Promise<Server> {
  const srv = createServer((req, res) => {
    if (req.url?.startsWith('/private')) {
      res.writeHead(403, { 'Content-Type': 'text/plain' });
      res.end('forbidden by the backend application\n');
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.end('allowed by the backend\n');
  });
  return new Promise((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(port, LOOPBACK, () => resolve(srv));
  });
}

export interface VarnishServer extends RunningServer {
  /** varnishlog's record of the last request answered with this status: the lines that say who answered. */
  vsl(status: number): string[];
}

/** Starts varnishd in the foreground (-F) with this VCL in front of a backend on `backendPort`; compiles it first (-C), so a VCL error fails with Varnish's own message. */
export async function launchVarnish(v: VclParts, backendPort: number, opts: StartOptions = {}): Promise<VarnishServer> {
  const dir = makeTempDir('varnish', opts.dir);
  const port = opts.port || (await freePort());
  const file = join(dir, 'why403.vcl');
  writeFileSync(file, vclText(backendPort, v));
  chmodSync(file, 0o644);
  const workdir = join(dir, 'work');
  mkdirSync(workdir);
  chmodSync(workdir, 0o755);
  try {
    execFileSync('varnishd', ['-C', '-f', file, '-n', workdir], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    removeDir(dir);
    throw new Error(`varnishd -C rejected the generated VCL:\n${(e as { stderr?: Buffer }).stderr ?? ''}`);
  }
  const jail = isRoot() ? ['-j', 'unix,user=vcache'] : [];
  const { child, output } = spawnServer('varnishd', [
    '-F',
    '-a',
    `${LOOPBACK}:${port}`,
    '-f',
    file,
    '-n',
    workdir,
    '-s',
    'malloc,16m',
    ...jail,
  ]);
  try {
    await waitForPort(port, child, 15_000, () => `\n${output()}`);
  } catch (e) {
    await stopChild(child, 5000);
    removeDir(dir);
    throw e;
  }
  const vsl = (status: number): string[] => {
    try {
      const out = execFileSync(
        'varnishlog',
        [
          '-d',
          '-n',
          workdir,
          '-g',
          'request',
          '-q',
          `RespStatus == ${status}`,
          '-i',
          'ReqMethod,ReqURL,VCL_call,VCL_acl,VCL_return,BerespStatus,RespStatus,RespReason,RespHeader',
        ],
        { encoding: 'utf8', timeout: 5000 },
      );
      // Top-level groups start with "*   <<"; the backend fetch nested in one starts with "**".
      const blocks = out.split(/\n(?=\*\s)/).filter((b) => b.trim());
      const last = blocks[blocks.length - 1] ?? '';
      return last
        .split('\n')
        .map((l) =>
          l
            .replace(/^[-* ]+\s*/, '')
            .replace(/\s+/g, ' ')
            .trim(),
        )
        .filter(Boolean)
        .filter((l) => !/^RespHeader (Date|Content-Length|Accept-Ranges|Connection):/.test(l));
    } catch {
      return [];
    }
  };
  return {
    origin: `http://${LOOPBACK}:${port}`,
    port,
    dir,
    pid: child.pid!,
    version: `${varnishVersion()} (${debianRelease()})`,
    // varnishd keeps no error log of its own; its stdout/stderr carries the management process's notices.
    errorLog: () => output().split('\n').filter(Boolean),
    vsl,
    async stop() {
      await stopChild(child, 5000);
      removeDir(dir);
    },
  };
}

const PURGE_GATE = [
  'if (req.method == "PURGE" || req.method == "BAN") {',
  '  if (!(client.ip ~ purgers)) { return (synth(403, "Forbidden")); }',
  '  return (purge);',
  '}',
];

/** The suite's one VCL; +log makes Varnish 7 log each ACL's match (VCL_acl). */
export const VARNISH_SUITE_VCL: VclParts = {
  acls: ['acl blocked +log { "127.0.0.1"; }', 'acl purgers +log { "192.0.2.10"; }'],
  recv: [
    ...PURGE_GATE,
    'if (req.url ~ "^/admin") { return (synth(403, "Forbidden")); }',
    'if (req.url ~ "^/office/" && client.ip ~ blocked) { return (synth(403)); }',
  ],
};

/** The suite's server: a backend on a free port, and Varnish in front of it; stop() stops both. */
export async function startVarnish(opts: StartOptions = {}): Promise<VarnishServer> {
  const backend = await startBackend();
  const addr = backend.address();
  const backendPort = typeof addr === 'object' && addr ? addr.port : 0;
  const closeBackend = () => new Promise<void>((r) => backend.close(() => r()));
  let varnish: VarnishServer;
  try {
    varnish = await launchVarnish(VARNISH_SUITE_VCL, backendPort, opts);
  } catch (e) {
    await closeBackend();
    throw e;
  }
  return {
    ...varnish,
    async stop() {
      await varnish.stop();
      backend.closeAllConnections();
      await closeBackend();
    },
  };
}

function scenario(
  name: string,
  cause: Scenario['label']['cause'],
  ambiguous: Scenario['ambiguous'],
  config: string,
  method: string,
  path: string,
): Scenario {
  return {
    name,
    label: { product: 'varnish', layer: 'reverse-proxy', cause },
    ...(ambiguous?.length ? { ambiguous } : {}),
    config,
    status: 403,
    plan: async () => ({ method, path }),
  };
}

export const varnishSuite: Suite = {
  id: 'varnish',
  product: 'varnish',
  rule: 'varnish',
  capturePort: 18196,
  start: startVarnish,
  missing: varnishMissing,
  // The synth page does not say which VCL condition sent it.
  scenarios: [
    scenario(
      'path-rule',
      'path-forbidden',
      ['ip-restricted'],
      'vcl_recv: `if (req.url ~ "^/admin") { return (synth(403, "Forbidden")); }`',
      'GET',
      '/admin/users',
    ),
    scenario(
      'ip-acl',
      'ip-restricted',
      ['path-forbidden'],
      '`acl blocked +log { "127.0.0.1"; }`; vcl_recv: `if (req.url ~ "^/office/" && client.ip ~ blocked) { return (synth(403)); }`, client 127.0.0.1',
      'GET',
      '/office/report.txt',
    ),
    // PURGE is refused because of who sends it: the client address is half the rule.
    scenario(
      'purge-not-allowed',
      'method-not-allowed',
      ['ip-restricted'],
      '`acl purgers +log { "192.0.2.10"; }`; vcl_recv: PURGE/BAN get `synth(403, "Forbidden")` unless `client.ip ~ purgers`; PURGE from 127.0.0.1',
      'PURGE',
      '/reports/q3.pdf',
    ),
  ],
};
