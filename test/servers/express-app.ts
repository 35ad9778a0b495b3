// A real Express 5 application, run as its own process by test/servers/express.ts:
//   node test/servers/express-app.ts        (prints {"port":N,"origin":"…"} once listening)
// It protects a form with csurf and an API with express-oauth2-jwt-bearer,
// serves its own OpenID discovery document and JWKS on the same loopback
// server, and mints test tokens at POST /test/token for loopback clients only.
// Errors go to Express's default error handler: the statuses, headers and
// pages are exactly what these libraries produce — except on /api/exports and
// /api/widgets, which answer like many real APIs do, with a bare JSON error
// and no challenge, so the response alone cannot say why.
// With WHY403_REQUEST_LOG set, every request is appended to that file as one
// JSON line (method, target, status, the watched headers), the server-side
// record the probe tests compare with what why403 says it sent.
import { appendFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { IncomingMessage, ServerResponse, Server } from 'node:http';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import {
  EXPRESS_ALLOWED_ORIGIN,
  EXPRESS_AUDIENCE,
  EXPRESS_EXPORTS_SCOPE,
  EXPRESS_KID,
  EXPRESS_REQUIRED_SCOPE,
  type TokenRequest,
} from './express-shared.ts';
import { WATCHED_HEADERS } from './common.ts';

// express, csurf and cookie-parser ship no types and @types/* are not
// dependencies; require() keeps them untyped instead of failing the type check.
const require = createRequire(import.meta.url);
type Req = IncomingMessage & {
  originalUrl?: string;
  body?: any;
  csrfToken?: () => string;
  socket: { remoteAddress?: string };
};
type Res = ServerResponse & {
  json(v: unknown): void;
  send(v: string): void;
  type(t: string): Res;
  sendStatus(code: number): void;
};
type Next = (err?: unknown) => void;
type Handler = (req: Req, res: Res, next: Next) => void;
type ErrorHandler = (err: { status?: number }, req: Req, res: Res, next: Next) => void;
interface App {
  use(pathOrHandler: string | Handler, ...h: Handler[]): void;
  get(path: string, ...h: Handler[]): void;
  post(path: string, ...h: Handler[]): void;
  disable(name: string): void;
  listen(port: number, host: string, cb: () => void): Server;
}
const express = require('express') as { (): App; urlencoded(o: object): Handler; json(o?: object): Handler };
const cookieParser = require('cookie-parser') as () => Handler;
const csurf = require('csurf') as (o: object) => Handler;
const cors = require('cors') as (o: { origin: string[]; credentials?: boolean }) => Handler;
const jwtBearer = require('express-oauth2-jwt-bearer') as {
  auth(o: { issuerBaseURL: string; audience: string }): Handler;
  requiredScopes(scopes: string | string[]): Handler;
};

const trusted = await generateKeyPair('RS256', { extractable: true });
const stranger = await generateKeyPair('RS256');
const publicJwk: JWK = { ...(await exportJWK(trusted.publicKey)), kid: EXPRESS_KID, alg: 'RS256', use: 'sig' };

const app = express();

const requestLog = process.env.WHY403_REQUEST_LOG;
if (requestLog)
  app.use((req, res, next) => {
    res.on('finish', () => {
      const headers: Record<string, string> = {};
      for (const h of WATCHED_HEADERS) {
        const v = req.headers[h];
        if (v !== undefined) headers[h] = Array.isArray(v) ? v.join(', ') : v;
      }
      appendFileSync(
        requestLog,
        `${JSON.stringify({ method: req.method, target: req.originalUrl ?? req.url, status: res.statusCode, headers })}\n`,
      );
    });
    next();
  });

const form = express.urlencoded({ extended: false });
const csrfProtection = csurf({ cookie: true });

app.get('/form', cookieParser(), csrfProtection, (req, res) => {
  res
    .type('html')
    .send(
      `<!doctype html><form method="post" action="/form"><input type="hidden" name="_csrf" value="${req.csrfToken!()}"><input name="title"><button>Save</button></form>\n`,
    );
});
app.post('/form', cookieParser(), form, csrfProtection, (_req, res) => {
  res.type('text').send('saved\n');
});

const server = app.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  const origin = `http://127.0.0.1:${port}`;
  const issuer = `${origin}/`;

  app.get('/.well-known/openid-configuration', (_req, res) => {
    res.json({ issuer, jwks_uri: `${origin}/.well-known/jwks.json`, id_token_signing_alg_values_supported: ['RS256'] });
  });
  app.get('/.well-known/jwks.json', (_req, res) => {
    res.json({ keys: [publicJwk] });
  });

  app.post('/test/token', express.json(), (req, res, next) => {
    // Minting is for the tests on this machine only.
    const from = req.socket.remoteAddress ?? '';
    if (!['127.0.0.1', '::1', '::ffff:127.0.0.1'].includes(from)) {
      res.statusCode = 404;
      res.send('Not Found');
      return;
    }
    const t = (req.body ?? {}) as TokenRequest;
    const now = Math.floor(Date.now() / 1000);
    const jwt = new SignJWT({ ...(t.scope !== undefined ? { scope: t.scope } : {}) })
      .setProtectedHeader({ alg: 'RS256', kid: EXPRESS_KID, typ: 'at+jwt' })
      .setIssuer(issuer)
      .setSubject(t.sub ?? 'auth0|why403-test-user')
      .setAudience(t.aud ?? EXPRESS_AUDIENCE)
      .setIssuedAt(now + Math.min(0, t.expiresIn ?? 0) - 60)
      .setExpirationTime(now + (t.expiresIn ?? 600));
    if (t.notBefore !== undefined) jwt.setNotBefore(now + t.notBefore);
    jwt
      .sign(t.key === 'stranger' ? stranger.privateKey : trusted.privateKey)
      .then((token) => res.json({ token, now }))
      .catch(next);
  });

  app.get(
    '/api/reports',
    jwtBearer.auth({ issuerBaseURL: origin, audience: EXPRESS_AUDIENCE }),
    jwtBearer.requiredScopes(EXPRESS_REQUIRED_SCOPE),
    (_req, res) => {
      res.json({ reports: [] });
    },
  );

  // A bare JSON error, no WWW-Authenticate: what an app's own error handler
  // often makes of express-oauth2-jwt-bearer's errors.
  const bareJsonError: ErrorHandler = (err, _req, res, _next) => {
    const status = err.status ?? 500;
    res.statusCode = status;
    res.json({ error: status === 401 ? 'unauthorized' : status === 403 ? 'forbidden' : 'error' });
  };
  app.get(
    '/api/exports',
    jwtBearer.auth({ issuerBaseURL: origin, audience: EXPRESS_AUDIENCE }),
    jwtBearer.requiredScopes(EXPRESS_EXPORTS_SCOPE),
    (_req, res) => {
      res.json({ exports: [] });
    },
    bareJsonError as unknown as Handler,
  ); // Express tells an error handler by its four parameters

  // The cors package answers the preflight (without Access-Control-Allow-Origin
  // for an origin off its list); the app's own check then refuses the request.
  app.use('/api/widgets', cors({ origin: [EXPRESS_ALLOWED_ORIGIN], credentials: true }), (req, res, next) => {
    const o = req.headers.origin;
    if (o !== undefined && o !== EXPRESS_ALLOWED_ORIGIN) {
      res.statusCode = 403;
      res.json({ error: 'forbidden' });
      return;
    }
    next();
  });
  app.get('/api/widgets', (_req, res) => {
    res.json({ widgets: [] });
  });

  // A CSRF defence by origin, as OWASP's cheat sheet describes it ("Verifying
  // Origin with standard headers"): a state-changing request whose Origin (or,
  // without one, Referer) is another site is refused with a bare 403; one with
  // neither header is taken for a non-browser client and let through.
  app.post('/account/email', express.urlencoded({ extended: false }), (req, res) => {
    const source =
      req.headers.origin ?? (req.headers.referer ? new URL(String(req.headers.referer)).origin : undefined);
    if (source !== undefined && source !== origin) {
      res.sendStatus(403);
      return;
    }
    res.json({ ok: true });
  });

  process.stdout.write(`${JSON.stringify({ port, origin, env: process.env.NODE_ENV ?? 'development' })}\n`);
});
