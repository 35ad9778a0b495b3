// Shared plumbing for the real servers the tests and the fixture capture run:
// a free loopback port, a temp dir the worker user can enter, a child process
// stopped by its PID, and a wait until the server answers.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, existsSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export const LOOPBACK = '127.0.0.1';

export interface RunningServer {
  /** "http://127.0.0.1:PORT" */
  origin: string;
  port: number;
  /** Temp dir holding the generated config, document root and logs. */
  dir: string;
  pid: number;
  /** Product and version as the server reports it, e.g. "nginx 1.22.1 (Debian 12)". */
  version: string;
  /** Error-log lines written since the server started (empty where the server keeps none). */
  errorLog(): string[];
  /** The requests the server itself logged since it started, oldest first (where it keeps such a log). */
  requests?(): LoggedRequest[];
  stop(): Promise<void>;
}

/**
 * One request as the server's own log recorded it. `headers` holds the
 * WATCHED_HEADERS the request carried (lower-case names; a header absent from
 * the request is absent here), so a test can see what a probe added or removed
 * without trusting the client's account of it.
 */
export interface LoggedRequest {
  method: string;
  /** Path and query as received (for a forward proxy: the absolute URL). */
  target: string;
  status?: number;
  headers: Record<string, string>;
}

/**
 * Headers the probe tests watch on the server side: the credentials and
 * browser headers a probe may remove or swap, and the source-address headers
 * design.md section 4 forbids it to add.
 */
export const WATCHED_HEADERS = [
  'authorization',
  'cookie',
  'user-agent',
  'origin',
  'referer',
  'content-type',
  'csrf-token',
  'x-csrf-token',
  'x-xsrf-token',
  'access-control-request-method',
  'access-control-request-headers',
  'proxy-authorization',
  'x-forwarded-for',
  'x-real-ip',
  'forwarded',
  'x-client-ip',
  'true-client-ip',
  'client-ip',
  'x-originating-ip',
  'cf-connecting-ip',
  'via',
] as const;

/** Headers that would forge or claim a source address: a probe must never send one. */
export const SOURCE_ADDRESS_HEADERS = [
  'x-forwarded-for',
  'x-real-ip',
  'forwarded',
  'x-client-ip',
  'true-client-ip',
  'client-ip',
  'x-originating-ip',
  'cf-connecting-ip',
] as const;

/**
 * Reads a request log until it stops growing: servers such as nginx write the
 * line after the response has gone out, so the client can finish first.
 */
export async function settledRequests(
  read: () => LoggedRequest[],
  quietMs = 150,
  maxMs = 2000,
): Promise<LoggedRequest[]> {
  const deadline = Date.now() + maxMs;
  let last = read();
  let since = Date.now();
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 25));
    const now = read();
    if (now.length !== last.length) {
      last = now;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) break;
  }
  return last;
}

/** Parses a log of one JSON object per line into LoggedRequests, dropping empty header fields (nginx logs an absent header as ""). */
export function readJsonRequestLog(path: string): LoggedRequest[] {
  return readLines(path).flatMap((line) => {
    let o: { method?: string; target?: string; status?: number | string; headers?: Record<string, string> };
    try {
      o = JSON.parse(line);
    } catch {
      return [];
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(o.headers ?? {})) if (v !== '' && v !== '-') headers[k.toLowerCase()] = v;
    return [
      {
        method: o.method ?? '',
        target: o.target ?? '',
        ...(o.status !== undefined ? { status: Number(o.status) } : {}),
        headers,
      },
    ];
  });
}

/** Asks the kernel for a free port (port 0), then releases it for the server to bind. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, LOOPBACK, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => (port ? resolve(port) : reject(new Error('no free port'))));
    });
  });
}

/**
 * A temp dir under the system tmp, opened to 0755: mkdtemp makes it 0700,
 * which a worker dropped to www-data could not enter, and every denial would
 * then be a filesystem-permission one.
 */
export function makeTempDir(prefix: string, fixed?: string): string {
  let dir: string;
  if (fixed) {
    // A fixed dir keeps paths in captured error logs the same from one capture to the next.
    rmSync(fixed, { recursive: true, force: true });
    mkdirSync(fixed, { recursive: true });
    dir = fixed;
  } else dir = mkdtempSync(join(tmpdir(), `why403-${prefix}-`));
  chmodSync(dir, 0o755);
  liveDirs.add(dir);
  installExitHook();
  return dir;
}

/** Where a server listens and keeps its files; both chosen freely unless given. */
export interface StartOptions {
  /** A fixed port (the capture script uses fixed ports so fixtures stay the same between captures); 0 or absent picks a free one. */
  port?: number;
  /** A fixed directory, emptied first. */
  dir?: string;
}

export const isRoot = () => process.getuid?.() === 0;

/** Resolves once a TCP connection to the port succeeds; rejects after `timeoutMs` or when the child exits. */
export async function waitForPort(
  port: number,
  child: ChildProcess,
  timeoutMs = 15_000,
  describe = () => '',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited: string | undefined;
  const onExit = (code: number | null, signal: string | null) => (exited = `exited (code ${code}, signal ${signal})`);
  child.once('exit', onExit);
  try {
    for (;;) {
      if (exited) throw new Error(`server ${exited} before it answered on port ${port}${describe()}`);
      if (await canConnect(port)) return;
      if (Date.now() > deadline)
        throw new Error(`server did not answer on port ${port} within ${timeoutMs} ms${describe()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    child.off('exit', onExit);
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host: LOOPBACK, port });
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(500, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

const live = new Set<ChildProcess>();
const liveDirs = new Set<string>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // A test that throws before its `after` hook runs must not leave servers or their files behind.
  process.once('exit', () => {
    for (const c of live) killGroup(c.pid, 'SIGKILL');
    if (!process.env.WHY403_KEEP_SERVER_DIRS) for (const d of liveDirs) rmSync(d, { recursive: true, force: true });
  });
  // Servers run in their own process groups, so a Ctrl-C or the test runner's
  // SIGTERM does not reach them: stop them on the way out.
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)
    process.once(signal, () => process.exit(code));
}

/** Spawns a server in the foreground of its own process group, so stopping it takes its workers along. */
export function spawnServer(
  cmd: string,
  args: string[],
  opts: SpawnOptions = {},
): { child: ChildProcess; output: () => string } {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, ...opts });
  let out = '';
  const keep = (b: Buffer) => {
    out += b.toString();
    if (out.length > 64_000) out = out.slice(-32_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  live.add(child);
  child.once('exit', () => live.delete(child));
  installExitHook();
  return { child, output: () => out };
}

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (!pid) return;
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      /* already gone */
    }
  }
}

/** Stops the child by its PID (its process group), SIGKILL after `graceMs`. */
export async function stopChild(child: ChildProcess, graceMs = 3000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  killGroup(child.pid, 'SIGTERM');
  const timer = setTimeout(() => killGroup(child.pid, 'SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

export function readLines(path: string): string[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8').split('\n').filter(Boolean);
}

export function removeDir(dir: string): void {
  liveDirs.delete(dir);
  if (process.env.WHY403_KEEP_SERVER_DIRS) return;
  rmSync(dir, { recursive: true, force: true });
}

/** "user:{SHA}base64(sha1(password))": a format nginx and Apache both read, so no htpasswd binary is needed. */
export async function htpasswdLine(user: string, password: string): Promise<string> {
  const { createHash } = await import('node:crypto');
  return `${user}:{SHA}${createHash('sha1').update(password).digest('base64')}`;
}

/**
 * The document root both web servers serve: the same paths so the scenarios
 * line up, plus a root:root 0600 file. As root (workers as www-data) the
 * worker really cannot read it; without root the workers run as us, and a
 * file we may not read ourselves is the same denial.
 */
export function writeDocroot(www: string, extra: Record<string, string> = {}): void {
  for (const d of ['private', 'office', 'files', 'upload', 'admin']) mkdirSync(join(www, d), { recursive: true });
  chmodSync(www, 0o755);
  const files: Record<string, string> = {
    'index.html': '<p>why403 test root</p>\n',
    'private/a.txt': 'private\n',
    'office/report.txt': 'office report\n',
    'files/a.txt': 'a file in a directory without index\n',
    'upload/data.txt': 'upload target\n',
    'admin/index.html': '<p>admin</p>\n',
    ...extra,
  };
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(www, path)), { recursive: true });
    writeFileSync(join(www, path), text);
  }
  const secret = join(www, 'secret.txt');
  writeFileSync(secret, 'only root may read this\n');
  if (isRoot()) {
    chownSync(secret, 0, 0);
    chmodSync(secret, 0o600);
  } else {
    chmodSync(secret, 0o000);
  }
}
