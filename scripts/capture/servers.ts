// Captures rule fixtures from real servers on 127.0.0.1:
//   node scripts/capture/servers.ts [--only nginx,apache,…] [--free-ports] [--out DIR]
// Starts each server of test/servers/scenarios.ts with its generated config,
// sends every scenario's request once with undici, and writes
// src/rules/<rule>/fixtures/<scenario>.json in the fixture format of
// src/rules/_lib/fixtures.ts, plus the server's log lines under "log".
// Fixed ports and directories keep the output the same from one capture to
// the next, apart from Date headers, log timestamps, and the tokens, cookies
// and keys each run generates.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { send, type Captured } from '../../test/servers/http.ts';
import { SUITES, type Scenario, type Suite } from '../../test/servers/scenarios.ts';
import type { RunningServer } from '../../test/servers/common.ts';

const ROOT = join(import.meta.dirname, '..', '..');
/** Fixed, so the paths in captured error logs stay the same between captures. */
const CAPTURE_DIR = '/tmp/why403-capture';
const HARNESS: Record<string, string> = {
  nginx: 'test/servers/nginx.ts',
  'apache-httpd': 'test/servers/apache.ts',
  django: 'test/servers/django.ts',
  express: 'test/servers/express-app.ts',
};

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** The message part of a log line, without timestamp, pid and client: what the source line quotes. */
function logMessage(line: string): string {
  const apache = /\] (?:\(\d+\)[^:]*: )?\[client [^\]]+\] (AH\d+: .*)$/.exec(line);
  if (apache) return apache[1].replace(/\/tmp\/why403-capture\/[^/]+\/www/, '<docroot>');
  const nginx = /\[error\] \d+#\d+: \*\d+ (.*?), client: /.exec(line);
  if (nginx) return nginx[1].replace(/\/tmp\/why403-capture\/[^/]+\/www/, '<docroot>');
  return line.trim();
}

function fixtureJson(
  suite: Suite,
  sc: Scenario,
  server: RunningServer,
  cap: Captured,
  note: string | undefined,
  log: string[],
): object {
  const harness = HARNESS[suite.product] ?? 'test/servers/';
  const logNote = log.length ? `; log: "${logMessage(log[0])}"` : '';
  const isJwt = /^Bearer\s+ey/i.test(cap.request.headers.Authorization ?? '');
  const contentType = Object.entries(cap.request.headers).find(([k]) => k.toLowerCase() === 'content-type')?.[1];
  return {
    source: `captured: ${server.version} on 127.0.0.1 by scripts/capture/servers.ts (${harness}): ${sc.config}${note ? `; ${note}` : ''}${logNote}`,
    label: sc.label,
    ...(sc.ambiguous?.length ? { ambiguous: sc.ambiguous } : {}),
    // The token's exp/nbf are judged at the moment it was refused.
    ...(isJwt ? { now: cap.receivedAt.toISOString() } : {}),
    request: {
      method: cap.request.method,
      url: cap.request.url,
      headers: cap.request.headers,
      ...(cap.request.body !== undefined ? { postData: { mimeType: contentType ?? '', text: cap.request.body } } : {}),
    },
    response: {
      status: cap.response.status,
      statusText: cap.response.statusText,
      httpVersion: cap.response.httpVersion,
      headers: cap.response.headers,
      body: cap.response.body,
    },
    ...(log.length ? { log } : {}),
  };
}

async function captureSuite(suite: Suite, freePorts: boolean, outRoot: string): Promise<string[]> {
  const port = freePorts ? 0 : suite.capturePort;
  if (port && !(await portIsFree(port)))
    throw new Error(
      `port ${port} for ${suite.id} is taken; free it or pass --free-ports (fixtures will then name another port)`,
    );
  const server = await suite.start({ port, dir: join(CAPTURE_DIR, suite.id) });
  const written: string[] = [];
  try {
    for (const sc of suite.scenarios) {
      const planned = await sc.plan(server);
      const before = server.errorLog().length;
      const cap = await send(planned.method, server.origin + planned.path, planned.headers ?? {}, planned.body);
      if (cap.response.status !== sc.status)
        throw new Error(
          `${suite.id}/${sc.name}: expected ${sc.status}, the server answered ${cap.response.status} ${cap.response.statusText}; the scenario no longer reproduces`,
        );
      // Django writes its log through a pipe; give it a moment to arrive.
      await new Promise((r) => setTimeout(r, 150));
      const log = server.errorLog().slice(before);
      const dir = join(outRoot, suite.rule, 'fixtures');
      mkdirSync(dir, { recursive: true });
      const file = join(dir, `${sc.name}.json`);
      writeFileSync(file, JSON.stringify(fixtureJson(suite, sc, server, cap, planned.note, log), null, 2) + '\n');
      written.push(file);
    }
  } finally {
    await server.stop();
  }
  return written;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      only: { type: 'string' },
      'free-ports': { type: 'boolean' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(
      `usage: node scripts/capture/servers.ts [--only ${SUITES.map((s) => s.id).join(',')}] [--free-ports] [--out DIR]\n`,
    );
    return 0;
  }
  const only = values.only
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = only?.filter((id) => !SUITES.some((s) => s.id === id));
  if (unknown?.length) {
    process.stderr.write(
      `capture: unknown suite ${unknown.join(', ')} (known: ${SUITES.map((s) => s.id).join(', ')})\n`,
    );
    return 2;
  }
  const outRoot = values.out ?? join(ROOT, 'src', 'rules');
  for (const suite of SUITES.filter((s) => !only || only.includes(s.id))) {
    process.stdout.write(`${suite.id}: starting\n`);
    try {
      const files = await captureSuite(suite, Boolean(values['free-ports']), outRoot);
      for (const f of files) process.stdout.write(`  wrote ${f.startsWith(ROOT) ? f.slice(ROOT.length + 1) : f}\n`);
    } catch (e) {
      process.stderr.write(`capture: ${suite.id}: ${(e as Error).message}\n`);
      return 1;
    }
  }
  rmSync(CAPTURE_DIR, { recursive: true, force: true });
  return 0;
}

process.exitCode = await main();
