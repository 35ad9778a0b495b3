// Captures the fastify rule's fixtures from a real Fastify app on 127.0.0.1:
//   node scripts/capture/fastify.ts [--out DIR]
// The app is test/servers/fastify.ts's, run as its own process on a fixed
// port. Each denial is sent once with why403's own sendRequest, beside a
// request the same app allows, so every label rests on what the app was
// configured to refuse. Tokens are signed with the throwaway secret the app
// was started with, gone when it stops.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Exchange } from '../../src/model/exchange.ts';
import { sendRequest } from '../../src/live/send.ts';
import { LOOPBACK } from '../../test/servers/common.ts';
import { CAPTURE_USER_AGENT } from '../../test/servers/http.ts';
import {
  FASTIFY_ADMIN,
  FASTIFY_VIEWER,
  fastifySuite,
  fastifyToken,
  fastifyVersions,
  startFastify,
} from '../../test/servers/fastify.ts';
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
  const set = ex.response.headers.filter((h) => h.name.toLowerCase() === 'set-cookie').map((h) => h.value);
  const c = set.find((v) => v.startsWith(`${name}=`));
  if (!c) throw new Error(`the app set no ${name} cookie`);
  return c.split(';')[0];
}

function expectStatus(ex: Exchange, want: number, what: string): void {
  if (ex.response.status !== want)
    throw new Error(`${what}: expected ${want}, got ${ex.response.status}: ${ex.response.content.text}`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { out: { type: 'string' } } });
  const out = join(values.out ?? join(ROOT, 'src', 'rules', 'fastify'), 'fixtures');
  mkdirSync(out, { recursive: true });
  const versions = fastifyVersions();
  const server = await startFastify({ port: fastifySuite.capturePort });
  const base = server.origin;
  const where = `on ${LOOPBACK} by scripts/capture/fastify.ts (test/servers/fastify.ts as its own process, throwaway secret)`;
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');

  const write = (
    file: string,
    label: { cause: string },
    note: string,
    ex: Exchange,
    extra: Record<string, unknown> = {},
  ) => {
    const fx = {
      source: `captured: ${versions} ${where}: ${note}`,
      label: { product: 'fastify', layer: 'application', cause: label.cause },
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
    console.log(`wrote ${join(out, file)}: ${ex.response.status} ${ex.response.content.text}`);
  };

  try {
    // CSRF: the form's GET hands out the secret cookie and a token; the same
    // POST with that token is accepted, so the refusals below are the token's.
    const form = await send(base, { method: 'GET', path: '/form' });
    expectStatus(form, 200, 'GET /form');
    const csrfCookie = cookiePair(form, '_csrf');
    const token = /name="_csrf" value="([^"]+)"/.exec(form.response.content.text ?? '')?.[1];
    if (!token) throw new Error('GET /form rendered no token');
    const post = (headers: Record<string, string>, text: string) =>
      send(base, {
        method: 'POST',
        path: '/form',
        headers,
        body: { mimeType: 'application/x-www-form-urlencoded', text },
      });
    expectStatus(
      await post({ Cookie: csrfCookie }, `title=quarterly&_csrf=${encodeURIComponent(token)}`),
      200,
      'POST /form with the token',
    );
    const noToken = await post({ Cookie: csrfCookie }, 'title=quarterly');
    expectStatus(noToken, 403, 'POST /form without a token');
    write(
      'csrf-missing-token.json',
      { cause: 'csrf' },
      `@fastify/csrf-protection (default getToken: body _csrf or csrf-token/x-csrf-token/xsrf-token headers) guarding POST /form as a preHandler hook; POST with the _csrf secret cookie from GET /form but no token; the same POST with the form's token answered 200`,
      noToken,
    );
    const noCookie = await post({}, `title=quarterly&_csrf=${encodeURIComponent(token)}`);
    expectStatus(noCookie, 403, 'POST /form without the cookie');
    write(
      'csrf-missing-secret.json',
      { cause: 'csrf' },
      `@fastify/csrf-protection guarding POST /form; POST with the form's token but without the _csrf secret cookie GET /form set; with the cookie it answered 200`,
      noCookie,
    );

    // JWT: a token signed with the app's secret is accepted, so each refusal
    // below is the one thing changed.
    const good = await fastifyToken(base, FASTIFY_ADMIN);
    expectStatus(
      await send(base, { method: 'GET', path: '/api/reports', headers: { Authorization: `Bearer ${good}` } }),
      200,
      'valid token',
    );
    const hook = '@fastify/jwt with `await request.jwtVerify()` in an onRequest hook on /api';
    const missing = await send(base, { method: 'GET', path: '/api/reports' });
    expectStatus(missing, 401, 'no token');
    write(
      'jwt-missing.json',
      { cause: 'credential-missing' },
      `${hook}; GET /api/reports with no Authorization header; a valid token answered 200`,
      missing,
    );

    const expired = await fastifyToken(base, FASTIFY_ADMIN, { expiresIn: -3600 });
    const exp = await send(base, {
      method: 'GET',
      path: '/api/reports',
      headers: { Authorization: `Bearer ${expired}` },
    });
    expectStatus(exp, 401, 'expired token');
    write(
      'jwt-expired.json',
      { cause: 'credential-expired' },
      `${hook}; token signed with the app's secret, exp one hour before the capture; a fresh token answered 200`,
      exp,
      { now },
    );

    const forged = await fastifyToken(base, FASTIFY_ADMIN, { stranger: true });
    const bad = await send(base, {
      method: 'GET',
      path: '/api/reports',
      headers: { Authorization: `Bearer ${forged}` },
    });
    expectStatus(bad, 401, 'bad signature');
    write(
      'jwt-bad-signature.json',
      { cause: 'credential-invalid' },
      `${hook}; unexpired token signed HS256 with another throwaway secret than the app's; the same claims signed with the app's secret answered 200`,
      bad,
      { now },
    );

    const scheme = await send(base, {
      method: 'GET',
      path: '/api/reports',
      headers: { Authorization: `Token ${good}` },
    });
    write(
      'jwt-wrong-scheme.json',
      { cause: 'credential-malformed' },
      `${hook}; a valid token sent as "Authorization: Token …" instead of "Bearer …"; with Bearer it answered 200`,
      scheme,
      { now },
    );

    const notJwt = await send(base, {
      method: 'GET',
      path: '/api/reports',
      headers: { Authorization: 'Bearer not-a-jwt' },
    });
    write(
      'jwt-malformed.json',
      { cause: 'credential-malformed' },
      `${hook}; "Authorization: Bearer not-a-jwt" (not a JWS)`,
      notJwt,
    );

    // Role check in the route: reply.code(403).send(new Error(...)).
    const viewer = await fastifyToken(base, FASTIFY_VIEWER);
    expectStatus(
      await send(base, { method: 'GET', path: '/api/admin/users', headers: { Authorization: `Bearer ${good}` } }),
      200,
      'admin token',
    );
    const role = await send(base, {
      method: 'GET',
      path: '/api/admin/users',
      headers: { Authorization: `Bearer ${viewer}` },
    });
    expectStatus(role, 403, 'viewer token');
    write(
      'role-forbidden.json',
      { cause: 'insufficient-role' },
      'route handler checks request.user.role === "admin" and answers `reply.code(403).send(new Error(...))` (Fastify\'s default error serializer); valid token for role "viewer"; the same route answered 200 to a role "admin" token',
      role,
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
