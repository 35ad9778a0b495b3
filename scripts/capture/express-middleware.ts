// Captures the express rule's express-jwt and csrf-csrf fixtures from a real
// Express 5 app on 127.0.0.1:
//   node scripts/capture/express-middleware.ts [--out DIR]
// The app is test/servers/express-middleware.ts's, run as its own process on
// a fixed port with Express's default error handler (NODE_ENV unset, so the
// page carries "Name: message"), because that page is what these libraries
// produce unless the app adds its own. Each denial is sent once with why403's
// own sendRequest, beside a request the same app accepts, so every label
// rests on one change. Secrets are made for this run and thrown away after it.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Exchange } from '../../src/model/exchange.ts';
import { sendRequest } from '../../src/live/send.ts';
import { LOOPBACK } from '../../test/servers/common.ts';
import { CAPTURE_USER_AGENT } from '../../test/servers/http.ts';
import {
  CSRF_CSRF_COOKIE,
  EXPRESS_MIDDLEWARE_USER,
  expressJwtToken,
  expressMiddlewareSuite,
  expressMiddlewareVersions,
  startExpressMiddleware,
} from '../../test/servers/express-middleware.ts';
import { fixtureResponse } from './fixture-json.ts';

const ROOT = join(import.meta.dirname, '..', '..');

interface Sent {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: { mimeType: string; text: string };
}

async function send(base: string, s: Sent): Promise<Exchange> {
  const h: Record<string, string> = {
    'User-Agent': CAPTURE_USER_AGENT,
    Accept: '*/*',
    ...(s.body ? { 'Content-Type': s.body.mimeType } : {}),
    ...s.headers,
  };
  return sendRequest(
    {
      method: s.method,
      url: `${base}${s.path}`,
      httpVersion: 'HTTP/1.1',
      headers: Object.entries(h).map(([name, value]) => ({ name, value })),
      ...(s.body ? { postData: s.body } : {}),
    },
    { env: {}, followRedirects: false, timeoutMs: 10_000 },
  );
}

function cookiePair(ex: Exchange, name: string): string {
  const c = ex.response.headers
    .filter((h) => h.name.toLowerCase() === 'set-cookie')
    .map((h) => h.value)
    .find((v) => v.startsWith(`${name}=`));
  if (!c) throw new Error(`the app set no ${name} cookie`);
  return c.split(';')[0];
}

function expectStatus(ex: Exchange, want: number, what: string): void {
  if (ex.response.status !== want)
    throw new Error(`${what}: expected ${want}, got ${ex.response.status}: ${ex.response.content.text}`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { out: { type: 'string' } } });
  const out = join(values.out ?? join(ROOT, 'src', 'rules', 'express'), 'fixtures');
  mkdirSync(out, { recursive: true });
  const versions = expressMiddlewareVersions();
  const server = await startExpressMiddleware({ port: expressMiddlewareSuite.capturePort });
  const base = server.origin;
  const where = `on ${LOOPBACK} by scripts/capture/express-middleware.ts (test/servers/express-middleware.ts as its own process, Express's default error handler, NODE_ENV unset, throwaway secrets)`;
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');

  const write = (file: string, cause: string, note: string, ex: Exchange, extra: Record<string, unknown> = {}) => {
    const fx = {
      source: `captured: ${versions} ${where}: ${note}`,
      label: { product: 'express', layer: 'application', cause },
      ...extra,
      request: {
        method: ex.request!.method,
        url: ex.request!.url,
        headers: Object.fromEntries(ex.request!.headers.map((h) => [h.name, h.value])),
        ...(ex.request!.postData ? { postData: ex.request!.postData } : {}),
      },
      response: fixtureResponse(ex),
      trace: ex.trace,
    };
    writeFileSync(join(out, file), `${JSON.stringify(fx, null, 2)}\n`);
    console.log(
      `wrote ${join(out, file)}: ${ex.response.status} ${
        (ex.response.content.text ?? '')
          .split('\n')
          .find((l) => l.includes('<pre>'))
          ?.trim() ?? ''
      }`,
    );
  };

  try {
    // csrf-csrf: GET /csrf-token sets the cookie and returns the token; the
    // POST with both is accepted, so the refusal below is the missing header.
    const issued = await send(base, { method: 'GET', path: '/csrf-token' });
    expectStatus(issued, 200, 'GET /csrf-token');
    const csrfCookie = cookiePair(issued, CSRF_CSRF_COOKIE);
    const token = (JSON.parse(issued.response.content.text ?? '{}') as { token?: string }).token;
    if (!token) throw new Error('GET /csrf-token returned no token');
    const body = { mimeType: 'application/json', text: '{"amount":10}' };
    expectStatus(
      await send(base, {
        method: 'POST',
        path: '/transfer',
        headers: { Cookie: csrfCookie, 'x-csrf-token': token },
        body,
      }),
      200,
      'POST /transfer with the token',
    );
    const noToken = await send(base, { method: 'POST', path: '/transfer', headers: { Cookie: csrfCookie }, body });
    expectStatus(noToken, 403, 'POST /transfer without the token');
    write(
      'csrf-csrf-missing-token.json',
      'csrf',
      'csrf-csrf doubleCsrf({ getSecret, getSessionIdentifier }) with default options (cookie __Host-psifi.x-csrf-token, token read from the x-csrf-token header) guarding POST /transfer; POST with the cookie from GET /csrf-token but no x-csrf-token header; the same POST with the header answered 200',
      noToken,
    );

    // express-jwt: a token signed with the app's secret is accepted, so each
    // refusal below is the one thing changed.
    const good = await expressJwtToken(base, EXPRESS_MIDDLEWARE_USER);
    expectStatus(
      await send(base, { method: 'GET', path: '/api/reports', headers: { Authorization: `Bearer ${good}` } }),
      200,
      'valid token',
    );
    const mw = "express-jwt expressjwt({ secret, algorithms: ['HS256'] }) on GET /api/reports";

    const missing = await send(base, { method: 'GET', path: '/api/reports' });
    expectStatus(missing, 401, 'no token');
    write(
      'express-jwt-missing.json',
      'credential-missing',
      `${mw}; no Authorization header (UnauthorizedError code credentials_required); a valid Bearer token answered 200`,
      missing,
      { now },
    );

    const expired = await expressJwtToken(base, EXPRESS_MIDDLEWARE_USER, { expiresIn: -3600 });
    const exp = await send(base, {
      method: 'GET',
      path: '/api/reports',
      headers: { Authorization: `Bearer ${expired}` },
    });
    expectStatus(exp, 401, 'expired token');
    write(
      'express-jwt-expired.json',
      'credential-expired',
      `${mw}; token signed with the app's secret, exp one hour before the capture (UnauthorizedError code invalid_token); a fresh token answered 200`,
      exp,
      { now },
    );

    const forged = await expressJwtToken(base, EXPRESS_MIDDLEWARE_USER, { stranger: true });
    const bad = await send(base, {
      method: 'GET',
      path: '/api/reports',
      headers: { Authorization: `Bearer ${forged}` },
    });
    expectStatus(bad, 401, 'bad signature');
    write(
      'express-jwt-bad-signature.json',
      'credential-invalid',
      `${mw}; unexpired token signed HS256 with another throwaway secret than the app's (UnauthorizedError code invalid_token); the same claims signed with the app's secret answered 200`,
      bad,
      { now },
    );

    const scheme = await send(base, {
      method: 'GET',
      path: '/api/reports',
      headers: { Authorization: `Token ${good}` },
    });
    expectStatus(scheme, 401, 'wrong scheme');
    write(
      'express-jwt-wrong-scheme.json',
      'credential-malformed',
      `${mw}; a valid token sent as "Authorization: Token …" instead of "Bearer …" (UnauthorizedError code credentials_bad_scheme); with Bearer it answered 200`,
      scheme,
      { now },
    );
  } finally {
    await server.stop();
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
