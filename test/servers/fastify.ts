// A real Fastify 5 app with @fastify/csrf-protection and @fastify/jwt, run as
// its own process with this very node:
//   node test/servers/fastify.ts     (prints {"port":N,"origin":"…"} once listening)
// It reads its port and its JWT secret from the environment; the parent makes
// a throwaway secret per start and signs the test tokens with it, so the app
// needs no token endpoint of its own. Errors go to Fastify's default error
// handler: the statuses and JSON bodies are exactly what these plugins send.
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { LOOPBACK, type RunningServer, type StartOptions } from './common.ts';
import { pkgVersion, signHs256, startNodeApp, type TokenOptions } from './node-app.ts';
import { send, setCookies } from './http.ts';
import { debianRelease } from './nginx.ts';
import type { PlannedRequest, Scenario, Suite } from './scenarios.ts';

const SECRET_ENV = 'WHY403_FASTIFY_JWT_SECRET';

export function fastifyVersions(): string {
  const v = (p: string) => `${p} ${pkgVersion(p)}`;
  return `${v('fastify')}, ${v('@fastify/csrf-protection')}, ${v('@fastify/cookie')}, ${v('@fastify/jwt')}, ${v('@fastify/formbody')} on Node ${process.versions.node} (${debianRelease()})`;
}

/** The app itself; only ever runs in the child process. */
async function serve(): Promise<void> {
  const { default: Fastify } = await import('fastify');
  const { default: fastifyCookie } = await import('@fastify/cookie');
  const { default: fastifyCsrf } = await import('@fastify/csrf-protection');
  const { default: fastifyFormbody } = await import('@fastify/formbody');
  const { default: fastifyJwt } = await import('@fastify/jwt');
  const secret = process.env[SECRET_ENV];
  if (!secret) throw new Error(`${SECRET_ENV} is not set`);
  const app = Fastify({ logger: false });
  app.register(fastifyCookie);
  app.register(fastifyFormbody);
  app.register(fastifyCsrf, { cookieOpts: { path: '/', sameSite: 'strict', httpOnly: true } });
  app.register(fastifyJwt, { secret });
  app.after(() => {
    app.get('/form', async (_req, reply) => {
      const token = reply.generateCsrf();
      return reply
        .type('text/html')
        .send(
          `<form method="post" action="/form"><input type="hidden" name="_csrf" value="${token}"><input name="title"></form>`,
        );
    });
    // preHandler, not onRequest: the token rides in the form body, parsed after onRequest.
    app.post('/form', { preHandler: app.csrfProtection }, async () => ({ saved: true }));
    app.register(async (api) => {
      api.addHook('onRequest', async (request) => {
        await request.jwtVerify();
      });
      api.get('/api/reports', async () => ({ reports: [] }));
      api.get('/api/admin/users', async (request, reply) => {
        const user = request.user as { sub: string; role?: string };
        if (user.role !== 'admin')
          return reply.code(403).send(new Error(`role "${user.role}" may not list users; admin required`));
        return { users: [] };
      });
    });
  });
  await app.listen({ host: LOOPBACK, port: Number(process.env.PORT ?? 0) });
  const port = (app.server.address() as { port: number }).port;
  process.stdout.write(`${JSON.stringify({ port, origin: `http://${LOOPBACK}:${port}` })}\n`);
  const close = () => void app.close().then(() => process.exit(0));
  process.once('SIGTERM', close);
  process.once('SIGINT', close);
}

/** The throwaway secrets of the running apps, by origin: only the test process that started an app can sign for it. */
const secrets = new Map<string, string>();

export async function startFastify(opts: StartOptions = {}): Promise<RunningServer> {
  const secret = randomBytes(32).toString('hex');
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(opts.port ?? 0), [SECRET_ENV]: secret };
  const server = await startNodeApp(fileURLToPath(import.meta.url), env, fastifyVersions(), 'fastify app');
  secrets.set(server.origin, secret);
  const stop = server.stop;
  return { ...server, stop: async () => (secrets.delete(server.origin), stop()) };
}

export function fastifyToken(origin: string, claims: Record<string, unknown>, t: TokenOptions = {}): Promise<string> {
  const secret = secrets.get(origin);
  if (!secret) throw new Error(`no Fastify app of this process runs at ${origin}`);
  return signHs256(secret, claims, t);
}

/** GETs the form page for the _csrf secret cookie and the token a browser would then hold. */
export async function fastifyCsrf(origin: string): Promise<{ cookie: string; token: string }> {
  const res = await send('GET', `${origin}/form`);
  const cookie = setCookies(res.response)
    .map((c) => c.split(';')[0])
    .find((c) => c.startsWith('_csrf='));
  const token = /name="_csrf" value="([^"]+)"/.exec(res.response.body)?.[1];
  if (!cookie || !token) throw new Error('Fastify form page gave no _csrf cookie or token');
  return { cookie, token };
}

const FORM = 'application/x-www-form-urlencoded';
const TOKEN_NOTE =
  'an HS256 JWT signed by the test process with the throwaway secret it handed the app at start (test/servers/fastify.ts); it is nobody’s secret and is gone with the app';
const CSRF_NOTE = 'the _csrf secret cookie and form token from GET /form on the throwaway app';
const JWT_HOOK =
  '@fastify/jwt `register(fastifyJwt, { secret })` with `await request.jwtVerify()` in an onRequest hook on /api';
export const FASTIFY_ADMIN = { sub: 'alice', role: 'admin' };
export const FASTIFY_VIEWER = { sub: 'bob', role: 'viewer' };

const fastifyScenario = (
  name: string,
  cause: Scenario['label']['cause'],
  status: number,
  config: string,
  plan: Scenario['plan'],
): Scenario => ({ name, label: { product: 'fastify', layer: 'application', cause }, config, status, plan });
const api = async (path: string, authorization: string | undefined, note?: string): Promise<PlannedRequest> => ({
  method: 'GET',
  path,
  ...(authorization ? { headers: { Authorization: authorization } } : {}),
  ...(note ? { note } : {}),
});

export const fastifySuite: Suite = {
  id: 'fastify',
  product: 'fastify',
  rule: 'fastify',
  capturePort: 18192,
  start: (o) => startFastify({ ...o }),
  missing: () => undefined,
  scenarios: [
    fastifyScenario(
      'csrf-missing-token',
      'csrf',
      403,
      '@fastify/csrf-protection (default getToken: body _csrf or csrf-token/x-csrf-token/xsrf-token headers) guarding POST /form as a preHandler hook; POST with the _csrf secret cookie from GET /form but no token',
      async (s) => {
        const c = await fastifyCsrf(s.origin);
        return {
          method: 'POST',
          path: '/form',
          headers: { 'Content-Type': FORM, Cookie: c.cookie },
          body: 'title=quarterly',
          note: CSRF_NOTE,
        };
      },
    ),
    fastifyScenario(
      'csrf-missing-secret',
      'csrf',
      403,
      '@fastify/csrf-protection guarding POST /form as a preHandler hook; POST with the form’s token but without the _csrf secret cookie GET /form set',
      async (s) => {
        const c = await fastifyCsrf(s.origin);
        return {
          method: 'POST',
          path: '/form',
          headers: { 'Content-Type': FORM },
          body: `title=quarterly&_csrf=${encodeURIComponent(c.token)}`,
          note: CSRF_NOTE,
        };
      },
    ),
    fastifyScenario(
      'jwt-missing',
      'credential-missing',
      401,
      `${JWT_HOOK}; GET /api/reports with no Authorization header`,
      () => api('/api/reports', undefined),
    ),
    fastifyScenario(
      'jwt-expired',
      'credential-expired',
      401,
      `${JWT_HOOK}; token signed with the app’s secret, exp one hour past`,
      async (s) =>
        api('/api/reports', `Bearer ${await fastifyToken(s.origin, FASTIFY_ADMIN, { expiresIn: -3600 })}`, TOKEN_NOTE),
    ),
    fastifyScenario(
      'jwt-bad-signature',
      'credential-invalid',
      401,
      `${JWT_HOOK}; unexpired token signed HS256 with another throwaway secret than the app’s`,
      async (s) =>
        api('/api/reports', `Bearer ${await fastifyToken(s.origin, FASTIFY_ADMIN, { stranger: true })}`, TOKEN_NOTE),
    ),
    fastifyScenario(
      'jwt-wrong-scheme',
      'credential-malformed',
      401,
      `${JWT_HOOK}; a valid token sent as "Authorization: Token …" instead of "Bearer …"`,
      async (s) => api('/api/reports', `Token ${await fastifyToken(s.origin, FASTIFY_ADMIN)}`, TOKEN_NOTE),
    ),
    fastifyScenario(
      'jwt-malformed',
      'credential-malformed',
      401,
      `${JWT_HOOK}; "Authorization: Bearer not-a-jwt" (not a JWS)`,
      () => api('/api/reports', 'Bearer not-a-jwt'),
    ),
    fastifyScenario(
      'role-forbidden',
      'insufficient-role',
      403,
      'route handler on GET /api/admin/users checks request.user.role === "admin" and answers `reply.code(403).send(new Error(...))` (Fastify’s default error serializer); valid token for role "viewer"',
      async (s) => api('/api/admin/users', `Bearer ${await fastifyToken(s.origin, FASTIFY_VIEWER)}`, TOKEN_NOTE),
    ),
  ],
};

/** Requests the same app must accept: what shows each denial above is the one thing changed. */
export async function checkFastifyControls(origin: string): Promise<void> {
  const expect = async (what: string, p: Promise<{ response: { status: number; body: string } }>) => {
    const r = (await p).response;
    if (r.status !== 200) throw new Error(`control ${what} got ${r.status}, expected 200: ${r.body}`);
  };
  const c = await fastifyCsrf(origin);
  await expect(
    'POST /form with cookie and token',
    send(
      'POST',
      `${origin}/form`,
      { 'Content-Type': FORM, Cookie: c.cookie },
      `title=quarterly&_csrf=${encodeURIComponent(c.token)}`,
    ),
  );
  await expect(
    'GET /api/reports with a valid token',
    send('GET', `${origin}/api/reports`, { Authorization: `Bearer ${await fastifyToken(origin, FASTIFY_ADMIN)}` }),
  );
  await expect(
    'GET /api/admin/users as admin',
    send('GET', `${origin}/api/admin/users`, { Authorization: `Bearer ${await fastifyToken(origin, FASTIFY_ADMIN)}` }),
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  serve().catch((e) => {
    console.error(e instanceof Error ? e.message : String(e));
    process.exit(1);
  });
}
