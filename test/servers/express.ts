// Starts test/servers/express-app.ts as a child process with this very node
// (node 24, which runs .ts directly) and talks to its test-only token endpoint.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import {
  LOOPBACK,
  makeTempDir,
  readJsonRequestLog,
  removeDir,
  spawnServer,
  stopChild,
  type RunningServer,
  type StartOptions,
} from './common.ts';
import { debianRelease } from './nginx.ts';
import type { TokenRequest } from './express-shared.ts';

export {
  EXPRESS_ALLOWED_ORIGIN,
  EXPRESS_AUDIENCE,
  EXPRESS_EXPORTS_SCOPE,
  EXPRESS_REQUIRED_SCOPE,
} from './express-shared.ts';
export type { TokenRequest } from './express-shared.ts';

const ROOT = join(import.meta.dirname, '..', '..');

export interface ExpressOptions extends StartOptions {
  /** NODE_ENV for the app; Express's error page shows the stack unless "production". */
  nodeEnv?: 'development' | 'production';
  /** Keep a log of every request the app receives (RunningServer.requests). */
  requestLog?: boolean;
}

const pkgVersion = (name: string) =>
  (JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;

export function expressVersions(): string {
  return `Express ${pkgVersion('express')}, csurf ${pkgVersion('csurf')}, cookie-parser ${pkgVersion('cookie-parser')}, express-oauth2-jwt-bearer ${pkgVersion('express-oauth2-jwt-bearer')} on Node ${process.versions.node} (${debianRelease()})`;
}

export async function startExpress(opts: ExpressOptions = {}): Promise<RunningServer> {
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(opts.port ?? 0) };
  if (opts.nodeEnv) env.NODE_ENV = opts.nodeEnv;
  else delete env.NODE_ENV;
  const logDir = opts.requestLog ? makeTempDir('express') : undefined;
  const logPath = logDir ? join(logDir, 'requests.log') : undefined;
  if (logPath) env.WHY403_REQUEST_LOG = logPath;
  else delete env.WHY403_REQUEST_LOG;
  const { child, output } = spawnServer(process.execPath, [join(import.meta.dirname, 'express-app.ts')], {
    cwd: ROOT,
    env,
  });
  const ready = new Promise<{ port: number; origin: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`express-app did not start within 15 s\n${output()}`)), 15_000);
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (line) => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(line));
      } catch {
        reject(new Error(`express-app printed ${line}\n${output()}`));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`express-app exited (code ${code})\n${output()}`));
    });
  });
  let info: { port: number; origin: string };
  try {
    info = await ready;
  } catch (e) {
    await stopChild(child);
    if (logDir) removeDir(logDir);
    throw e;
  }
  return {
    origin: info.origin,
    port: info.port,
    dir: ROOT,
    pid: child.pid!,
    version: expressVersions(),
    errorLog: () => output().split('\n').filter(Boolean).slice(1),
    ...(logPath ? { requests: () => readJsonRequestLog(logPath) } : {}),
    async stop() {
      await stopChild(child);
      if (logDir) removeDir(logDir);
    },
  };
}

/** Mints a token from the app's test-only endpoint (loopback only). */
export async function mintToken(origin: string, t: TokenRequest): Promise<{ token: string; now: number }> {
  if (new URL(origin).hostname !== LOOPBACK) throw new Error('tokens are minted on 127.0.0.1 only');
  const res = await fetch(`${origin}/test/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(t),
  });
  if (res.status !== 200) throw new Error(`token endpoint answered ${res.status}`);
  return (await res.json()) as { token: string; now: number };
}

/** GETs the form page for the csurf secret cookie and the form token a browser would then hold. */
export async function expressCsrf(origin: string): Promise<{ cookie: string; token: string }> {
  const res = await fetch(`${origin}/form`);
  const html = await res.text();
  const cookie = res.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .find((c) => c.startsWith('_csrf='));
  const token = /name="_csrf" value="([^"]+)"/.exec(html)?.[1];
  if (!cookie || !token) throw new Error('Express form page gave no _csrf cookie or token');
  return { cookie, token };
}
