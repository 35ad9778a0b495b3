// A Node app run as a real server: its own process (this very node), its own
// process group, stopped by PID, announcing its port with one JSON line. The
// Fastify and Express-middleware suites start their apps this way, and sign
// their tokens with the throwaway secret they hand the app.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { SignJWT } from 'jose';
import { spawnServer, stopChild, type RunningServer } from './common.ts';

const ROOT = join(import.meta.dirname, '..', '..');

export const pkgVersion = (name: string) =>
  (JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;

/**
 * Starts a Node app file as its own process group with this very node and
 * waits for the one JSON line it prints once listening. Shared with
 * test/servers/express-middleware.ts.
 */
export async function startNodeApp(
  file: string,
  env: NodeJS.ProcessEnv,
  version: string,
  name: string,
): Promise<RunningServer> {
  const { child, output } = spawnServer(process.execPath, [file], { cwd: ROOT, env });
  const ready = new Promise<{ port: number; origin: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start within 15 s\n${output()}`)), 15_000);
    createInterface({ input: child.stdout! }).once('line', (line) => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(line));
      } catch {
        reject(new Error(`${name} printed ${line}\n${output()}`));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (code ${code})\n${output()}`));
    });
  });
  let info: { port: number; origin: string };
  try {
    info = await ready;
  } catch (e) {
    await stopChild(child);
    throw e;
  }
  return {
    origin: info.origin,
    port: info.port,
    dir: ROOT,
    pid: child.pid!,
    version,
    errorLog: () => output().split('\n').filter(Boolean).slice(1),
    stop: () => stopChild(child),
  };
}

export interface TokenOptions {
  /** Seconds from now until exp; negative for an already expired token. */
  expiresIn?: number;
  /** Sign with a fresh secret the app does not know (a bad signature). */
  stranger?: boolean;
}

/** An HS256 JWT, as @fastify/jwt and express-jwt verify them with a shared secret. */
export async function signHs256(
  secret: string,
  claims: Record<string, unknown>,
  t: TokenOptions = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const expiresIn = t.expiresIn ?? 3600;
  const key = new TextEncoder().encode(t.stranger ? randomBytes(32).toString('hex') : secret);
  // An expired token was issued before it expired, as a real one would have been.
  const iat = Math.min(now, now + expiresIn - 3600);
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuedAt(iat)
    .setExpirationTime(now + expiresIn)
    .sign(key);
}
