// A real Express 5 application, run as its own process by test/servers/express.ts:
//   node test/servers/express-app.ts        (prints {"port":N,"origin":"…"} once listening)
// It protects a form with csurf and an API with express-oauth2-jwt-bearer,
// serves its own OpenID discovery document and JWKS on the same loopback
// server, and mints test tokens at POST /test/token for loopback clients only.
// Errors go to Express's default error handler: the statuses, headers and
// pages are exactly what these libraries produce.
import { createRequire } from 'node:module';
import type { IncomingMessage, ServerResponse, Server } from 'node:http';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { EXPRESS_AUDIENCE, EXPRESS_KID, EXPRESS_REQUIRED_SCOPE, type TokenRequest } from './express-shared.ts';

// express, csurf and cookie-parser ship no types and @types/* are not
// dependencies; require() keeps them untyped instead of failing the type check.
const require = createRequire(import.meta.url);
type Req = IncomingMessage & { body?: any; csrfToken?: () => string; socket: { remoteAddress?: string } };
type Res = ServerResponse & { json(v: unknown): void; send(v: string): void; type(t: string): Res };
type Next = (err?: unknown) => void;
type Handler = (req: Req, res: Res, next: Next) => void;
interface App {
  get(path: string, ...h: Handler[]): void;
  post(path: string, ...h: Handler[]): void;
  disable(name: string): void;
  listen(port: number, host: string, cb: () => void): Server;
}
const express = require('express') as { (): App; urlencoded(o: object): Handler; json(o?: object): Handler };
const cookieParser = require('cookie-parser') as () => Handler;
const csurf = require('csurf') as (o: object) => Handler;
const jwtBearer = require('express-oauth2-jwt-bearer') as {
  auth(o: { issuerBaseURL: string; audience: string }): Handler;
  requiredScopes(scopes: string | string[]): Handler;
};

const trusted = await generateKeyPair('RS256', { extractable: true });
const stranger = await generateKeyPair('RS256');
const publicJwk: JWK = { ...(await exportJWK(trusted.publicKey)), kid: EXPRESS_KID, alg: 'RS256', use: 'sig' };

const app = express();
const form = express.urlencoded({ extended: false });
const csrfProtection = csurf({ cookie: true });

app.get('/form', cookieParser(), csrfProtection, (req, res) => {
  res.type('html').send(`<!doctype html><form method="post" action="/form"><input type="hidden" name="_csrf" value="${req.csrfToken!()}"><input name="title"><button>Save</button></form>\n`);
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

  app.get('/api/reports', jwtBearer.auth({ issuerBaseURL: origin, audience: EXPRESS_AUDIENCE }), jwtBearer.requiredScopes(EXPRESS_REQUIRED_SCOPE), (_req, res) => {
    res.json({ reports: [] });
  });

  process.stdout.write(`${JSON.stringify({ port, origin, env: process.env.NODE_ENV ?? 'development' })}\n`);
});
