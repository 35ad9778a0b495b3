// A real Express 5 app protected by csrf-csrf and express-jwt (a different
// app from test/servers/express-app.ts, which uses csurf and
// express-oauth2-jwt-bearer), run as its own process with this very node:
//   node test/servers/express-middleware.ts   (prints {"port":N,"origin":"…"} once listening)
// It reads its port and its secrets from the environment; the parent makes
// throwaway secrets per start and signs the test tokens itself. Errors go to
// Express's default error handler (NODE_ENV unset, so the page carries
// "Name: message"), because that page is what these libraries produce unless
// the app adds its own.
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import type { IncomingMessage, ServerResponse, Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { LOOPBACK, type RunningServer, type StartOptions } from './common.ts';
import { send, setCookies } from './http.ts';
import { debianRelease } from './nginx.ts';
import { pkgVersion, signHs256, startNodeApp, type TokenOptions } from './node-app.ts';
import type { PlannedRequest, Scenario, Suite } from './scenarios.ts';

const JWT_SECRET_ENV = 'WHY403_EXPRESS_JWT_SECRET';
const CSRF_SECRET_ENV = 'WHY403_EXPRESS_CSRF_SECRET';
/** csrf-csrf binds its token to a session; this app has one fixed visitor. */
const SESSION_ID = 'test-session';
/** csrf-csrf's default cookie name. */
export const CSRF_CSRF_COOKIE = '__Host-psifi.x-csrf-token';

export function expressMiddlewareVersions(): string {
  const v = (p: string) => `${p} ${pkgVersion(p)}`;
  return `Express ${pkgVersion('express')}, ${v('express-jwt')}, ${v('csrf-csrf')}, ${v('cookie-parser')} on Node ${process.versions.node} (${debianRelease()})`;
}

/** The app itself; only ever runs in the child process. */
function serve(): void {
  // express and cookie-parser ship no types (@types/* are not dependencies),
  // and express-jwt's and csrf-csrf's types pull in @types/express: require()
  // keeps them untyped instead of failing the type check.
  const require = createRequire(import.meta.url);
  type Req = IncomingMessage & { cookies?: Record<string, string> };
  type Res = ServerResponse & { json(v: unknown): void };
  type Handler = (req: Req, res: Res, next: (err?: unknown) => void) => void;
  interface App {
    use(h: Handler): void;
    get(path: string, ...h: Handler[]): void;
    post(path: string, ...h: Handler[]): void;
    listen(port: number, host: string, cb: () => void): Server;
  }
  const express = require('express') as { (): App; json(): Handler };
  const cookieParser = require('cookie-parser') as () => Handler;
  const { expressjwt } = require('express-jwt') as { expressjwt(o: { secret: string; algorithms: string[] }): Handler };
  const { doubleCsrf } = require('csrf-csrf') as {
    doubleCsrf(o: { getSecret: () => string; getSessionIdentifier: (req: Req) => string }): {
      doubleCsrfProtection: Handler;
      generateCsrfToken: (req: Req, res: Res) => string;
    };
  };
  const jwtSecret = process.env[JWT_SECRET_ENV];
  const csrfSecret = process.env[CSRF_SECRET_ENV];
  if (!jwtSecret || !csrfSecret) throw new Error(`${JWT_SECRET_ENV} and ${CSRF_SECRET_ENV} must be set`);

  const app = express();
  app.use(cookieParser());
  app.use(express.json());
  const { doubleCsrfProtection, generateCsrfToken } = doubleCsrf({
    getSecret: () => csrfSecret,
    getSessionIdentifier: () => SESSION_ID,
  });
  app.get('/csrf-token', (req, res) => res.json({ token: generateCsrfToken(req, res) }));
  app.post('/transfer', doubleCsrfProtection, (_req, res) => res.json({ ok: true }));
  app.get('/api/reports', expressjwt({ secret: jwtSecret, algorithms: ['HS256'] }), (_req, res) =>
    res.json({ reports: [] }),
  );
  const server = app.listen(Number(process.env.PORT ?? 0), LOOPBACK, () => {
    const port = (server.address() as { port: number }).port;
    process.stdout.write(`${JSON.stringify({ port, origin: `http://${LOOPBACK}:${port}` })}\n`);
  });
  const close = () => server.close(() => process.exit(0));
  process.once('SIGTERM', close);
  process.once('SIGINT', close);
}

const secrets = new Map<string, string>();

export async function startExpressMiddleware(opts: StartOptions = {}): Promise<RunningServer> {
  const jwtSecret = randomBytes(32).toString('hex');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(opts.port ?? 0),
    [JWT_SECRET_ENV]: jwtSecret,
    [CSRF_SECRET_ENV]: randomBytes(32).toString('hex'),
  };
  // The default error page shows the error's name and message only outside production.
  delete env.NODE_ENV;
  const server = await startNodeApp(
    fileURLToPath(import.meta.url),
    env,
    expressMiddlewareVersions(),
    'express-middleware app',
  );
  secrets.set(server.origin, jwtSecret);
  const stop = server.stop;
  return { ...server, stop: async () => (secrets.delete(server.origin), stop()) };
}

/** An HS256 JWT for the app's express-jwt, signed with the secret this process handed it (or, with `stranger`, another). */
export function expressJwtToken(
  origin: string,
  claims: Record<string, unknown>,
  t: TokenOptions = {},
): Promise<string> {
  const secret = secrets.get(origin);
  if (!secret) throw new Error(`no express-middleware app of this process runs at ${origin}`);
  return signHs256(secret, claims, t);
}

/** GET /csrf-token: csrf-csrf's cookie and the token a client then sends in x-csrf-token. */
export async function csrfCsrfToken(origin: string): Promise<{ cookie: string; token: string }> {
  const res = await send('GET', `${origin}/csrf-token`);
  const cookie = setCookies(res.response)
    .map((c) => c.split(';')[0])
    .find((c) => c.startsWith(`${CSRF_CSRF_COOKIE}=`));
  const token = (JSON.parse(res.response.body || '{}') as { token?: string }).token;
  if (!cookie || !token) throw new Error('GET /csrf-token gave no csrf-csrf cookie or token');
  return { cookie, token };
}

const TOKEN_NOTE =
  'an HS256 JWT signed by the test process with the throwaway secret it handed the app at start (test/servers/express-middleware.ts); it is nobody’s secret and is gone with the app';
const HANDLER = 'Express’s default error handler, NODE_ENV unset';
const MW = `express-jwt \`expressjwt({ secret, algorithms: ['HS256'] })\` on GET /api/reports, ${HANDLER}`;
const TRANSFER_BODY = '{"amount":10}';
export const EXPRESS_MIDDLEWARE_USER = { sub: 'alice' };

const scenario = (
  name: string,
  cause: Scenario['label']['cause'],
  status: number,
  config: string,
  plan: Scenario['plan'],
): Scenario => ({ name, label: { product: 'express', layer: 'application', cause }, config, status, plan });
const reports = (authorization: string | undefined, note?: string): PlannedRequest => ({
  method: 'GET',
  path: '/api/reports',
  ...(authorization ? { headers: { Authorization: authorization } } : {}),
  ...(note ? { note } : {}),
});

export const expressMiddlewareSuite: Suite = {
  id: 'express-middleware',
  product: 'express',
  rule: 'express',
  capturePort: 18193,
  start: (o) => startExpressMiddleware({ ...o }),
  missing: () => undefined,
  scenarios: [
    scenario(
      'csrf-csrf-missing-token',
      'csrf',
      403,
      `csrf-csrf \`doubleCsrf({ getSecret, getSessionIdentifier })\` with default options (cookie ${CSRF_CSRF_COOKIE}, token read from the x-csrf-token header) guarding POST /transfer, ${HANDLER}; POST with the cookie from GET /csrf-token but no x-csrf-token header`,
      async (s) => {
        const c = await csrfCsrfToken(s.origin);
        return {
          method: 'POST',
          path: '/transfer',
          headers: { 'Content-Type': 'application/json', Cookie: c.cookie },
          body: TRANSFER_BODY,
          note: 'the csrf-csrf cookie from GET /csrf-token on the throwaway app',
        };
      },
    ),
    scenario(
      'csrf-csrf-wrong-token',
      'csrf',
      403,
      `csrf-csrf \`doubleCsrf({ getSecret, getSessionIdentifier })\` with default options guarding POST /transfer, ${HANDLER}; POST with the cookie from GET /csrf-token and an x-csrf-token header that is not the token issued with it`,
      async (s) => {
        const c = await csrfCsrfToken(s.origin);
        return {
          method: 'POST',
          path: '/transfer',
          headers: { 'Content-Type': 'application/json', Cookie: c.cookie, 'x-csrf-token': 'not-the-issued-token' },
          body: TRANSFER_BODY,
          note: 'the csrf-csrf cookie from GET /csrf-token on the throwaway app',
        };
      },
    ),
    scenario(
      'express-jwt-missing',
      'credential-missing',
      401,
      `${MW}; no Authorization header (UnauthorizedError code credentials_required)`,
      async () => reports(undefined),
    ),
    scenario(
      'express-jwt-expired',
      'credential-expired',
      401,
      `${MW}; token signed with the app’s secret, exp one hour past (UnauthorizedError code invalid_token)`,
      async (s) =>
        reports(`Bearer ${await expressJwtToken(s.origin, EXPRESS_MIDDLEWARE_USER, { expiresIn: -3600 })}`, TOKEN_NOTE),
    ),
    scenario(
      'express-jwt-bad-signature',
      'credential-invalid',
      401,
      `${MW}; unexpired token signed HS256 with another throwaway secret than the app’s (UnauthorizedError code invalid_token)`,
      async (s) =>
        reports(`Bearer ${await expressJwtToken(s.origin, EXPRESS_MIDDLEWARE_USER, { stranger: true })}`, TOKEN_NOTE),
    ),
    scenario(
      'express-jwt-wrong-scheme',
      'credential-malformed',
      401,
      `${MW}; a valid token sent as "Authorization: Token …" instead of "Bearer …" (UnauthorizedError code credentials_bad_scheme)`,
      async (s) => reports(`Token ${await expressJwtToken(s.origin, EXPRESS_MIDDLEWARE_USER)}`, TOKEN_NOTE),
    ),
    scenario(
      'express-jwt-malformed',
      'credential-malformed',
      401,
      `${MW}; "Authorization: Bearer not-a-jwt" (UnauthorizedError code invalid_token, "jwt malformed")`,
      async () => reports('Bearer not-a-jwt'),
    ),
  ],
};

/** Requests the same app must accept: what shows each denial above is the one thing changed. */
export async function checkExpressMiddlewareControls(origin: string): Promise<void> {
  const expect = async (what: string, p: Promise<{ response: { status: number; body: string } }>) => {
    const r = (await p).response;
    if (r.status !== 200) throw new Error(`control ${what} got ${r.status}, expected 200: ${r.body.slice(0, 300)}`);
  };
  const c = await csrfCsrfToken(origin);
  await expect(
    'POST /transfer with cookie and x-csrf-token',
    send(
      'POST',
      `${origin}/transfer`,
      { 'Content-Type': 'application/json', Cookie: c.cookie, 'x-csrf-token': c.token },
      TRANSFER_BODY,
    ),
  );
  await expect(
    'GET /api/reports with a valid token',
    send('GET', `${origin}/api/reports`, {
      Authorization: `Bearer ${await expressJwtToken(origin, EXPRESS_MIDDLEWARE_USER)}`,
    }),
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    serve();
  } catch (e) {
    console.error(e instanceof Error ? e.message : String(e));
    process.exit(1);
  }
}
