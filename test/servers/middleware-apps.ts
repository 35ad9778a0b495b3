// Real Express 5 and Fastify 5 apps using why403's middleware (issue 17)
// beside the libraries it adapts — express-oauth2-jwt-bearer, express-jwt,
// csrf-csrf, cors, CASL, Casbin on Express; @fastify/jwt,
// @fastify/csrf-protection, CASL, Casbin on Fastify — each listening on 127.0.0.1 in the test's own process, and
// what the two test files share: the tokens, an event collector, the
// expected problem document and challenge at each disclosure level, and the
// check that no token or cookie value leaks into a response or an event.
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import { SignJWT } from 'jose';
import { AbilityBuilder, ForbiddenError, createMongoAbility, subject } from '@casl/ability';
import type { FastifyInstance } from 'fastify';
import { CAUSE_MEANINGS, type CauseId } from '../../src/model/vocabulary.ts';
import type { Disclosure } from '../../src/middleware/denial.ts';
import { jsonLinesSink, type DenialEvent } from '../../src/middleware/events.ts';
import type { Caller } from '../../src/middleware/guards.ts';
import * as ex from '../../src/middleware/express.ts';
import * as fy from '../../src/middleware/fastify.ts';
import { diagnoseInProcess } from '../e2e/helpers.ts';

export const LOOPBACK = '127.0.0.1';
export const SECRET = 'why403-test-secret-0123456789abcdef';
export const OTHER_SECRET = 'a-secret-the-apps-do-not-know-0123';
export const ISSUER = 'https://issuer.example/';
export const AUDIENCE = 'https://api.example/orders';
/** 2100-01-01T00:00:00Z: tokens valid for the whole life of these tests, with dates the tests can write out. */
export const FAR_FUTURE = 4_102_444_800;
/** 2001-09-09T01:46:40Z. */
export const LONG_AGO = 1_000_000_000;
export const CORS_ALLOWED = 'https://app.example';
export const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

export async function sign(claims: Record<string, unknown>, secret = SECRET): Promise<string> {
  return new SignJWT({ iss: ISSUER, aud: AUDIENCE, iat: LONG_AGO - 60, exp: FAR_FUTURE, ...claims })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .sign(new TextEncoder().encode(secret));
}

/** The tokens every scenario uses; alice is a viewer holding read:profile, bob an admin holding read:orders. */
export async function tokens() {
  return {
    alice: await sign({ sub: 'alice', scope: 'read:profile', roles: ['viewer'] }),
    bob: await sign({ sub: 'bob', scope: 'read:orders', roles: ['admin'] }),
    expired: await sign({ sub: 'alice', scope: 'read:orders', iat: LONG_AGO - 3600, exp: LONG_AGO }),
    notYet: await sign({ sub: 'alice', scope: 'read:orders', nbf: FAR_FUTURE - 3600 }),
    otherAudience: await sign({ sub: 'alice', scope: 'read:orders', aud: 'https://api.example/billing' }),
    otherIssuer: await sign({ sub: 'alice', scope: 'read:orders', iss: 'https://elsewhere.example/' }),
    badSignature: await sign({ sub: 'alice', scope: 'read:orders' }, OTHER_SECRET),
  };
}
export type Tokens = Awaited<ReturnType<typeof tokens>>;

/** Every denial event an app emitted, through the real jsonLinesSink. */
export function collector() {
  const lines: string[] = [];
  const events: DenialEvent[] = [];
  const sink = jsonLinesSink({
    write(chunk: string) {
      lines.push(chunk);
      events.push(JSON.parse(chunk) as DenialEvent);
    },
  });
  return { sink, lines, events };
}
export type Collector = ReturnType<typeof collector>;

export interface AppOptions {
  disclosure: Disclosure;
  trustedProxies?: string[];
  collect: Collector;
}

export interface RunningApp {
  origin: string;
  close(): Promise<void>;
}

const listening = async (server: Server): Promise<string> => {
  if (!server.listening) await new Promise<void>((resolve) => server.listen(0, LOOPBACK, resolve));
  return `http://${LOOPBACK}:${(server.address() as AddressInfo).port}`;
};

/** CASL: what each role may do with reports; a viewer reads titles, and nobody deletes a report. */
function abilityFor(caller: Caller) {
  const { can, cannot, build } = new AbilityBuilder(createMongoAbility);
  if (caller.roles.includes('viewer')) can('read', 'Report', ['title']);
  if (caller.roles.includes('admin')) can('manage', 'Report');
  cannot('delete', 'Report').because('reports are kept for audit');
  return build();
}

/** Casbin: RBAC with deny (a viewer reads reports and may not delete them), alice a viewer. */
export async function casbinEnforcer() {
  const { newEnforcer, newModelFromString, StringAdapter } = await import('casbin');
  const model = newModelFromString(`
[request_definition]
r = sub, obj, act
[policy_definition]
p = sub, obj, act, eft
[role_definition]
g = _, _
[policy_effect]
e = some(where (p.eft == allow)) && !some(where (p.eft == deny))
[matchers]
m = g(r.sub, p.sub) && r.obj == p.obj && r.act == p.act
`);
  const policy = ['p, viewer, reports, read, allow', 'p, viewer, reports, delete, deny', 'g, alice, viewer'];
  return newEnforcer(model, new StringAdapter(policy.join('\n')));
}

/** What each document's owner is (requireOwner). */
const OWNERS: Record<string, string> = { d1: 'bob' };

/** Answered by the apps' own error handlers: an error no adapter knows must reach them unchanged. */
export const APP_ERROR = { error: 'the app’s own error handler', message: 'boom' };

// ---------------------------------------------------------------------------
// Express 5

export async function startExpress(o: AppOptions): Promise<RunningApp> {
  // Express and the libraries written for it ship no types here (@types/express is not installed).
  const require = createRequire(import.meta.url);
  const express = require('express');
  const { auth, requiredScopes } = require('express-oauth2-jwt-bearer');
  const { expressjwt } = require('express-jwt');
  const { doubleCsrf } = require('csrf-csrf');
  const cookieParser = require('cookie-parser');
  const cors = require('cors');

  const w = ex.why403({
    disclosure: o.disclosure,
    sinks: [o.collect.sink],
    ...(o.trustedProxies ? { trustedProxies: o.trustedProxies } : {}),
    adapters: [
      ex.oauth2JwtBearerAdapter({ audience: AUDIENCE, issuer: ISSUER }),
      ex.expressJwtAdapter(),
      ex.csrfAdapter(),
      ex.corsAdapter(),
      ex.caslAdapter(),
    ],
  });
  const oauth2 = auth({ secret: SECRET, tokenSigningAlg: 'HS256', issuer: ISSUER, audience: AUDIENCE });
  const { doubleCsrfProtection, generateCsrfToken } = doubleCsrf({
    getSecret: () => SECRET,
    getSessionIdentifier: () => 'test-session',
    cookieName: 'csrf',
    cookieOptions: { secure: false },
  });

  const app = express();
  app.get('/ok', (_req: any, res: any) => res.json({ ok: true }));

  // express-oauth2-jwt-bearer, its own scope check, and why403's guards after it.
  app.get('/oauth2/orders', oauth2, requiredScopes('read:orders'), (_req: any, res: any) => res.json({ orders: [] }));
  app.get('/oauth2/admin', oauth2, w.guard(ex.requireRole('admin')), (_req: any, res: any) => res.json({ ok: true }));
  app.get('/projects/:id', oauth2, w.guard(ex.requireRole('admin'), { hide: true }), (_req: any, res: any) =>
    res.json({ ok: true }),
  );
  app.get(
    '/docs/:id',
    oauth2,
    w.guard(ex.requireOwner((req: any) => OWNERS[req.params.id], { resource: (req: any) => req.params.id })),
    (_req: any, res: any) => res.json({ ok: true }),
  );
  app.get('/reports/:id/locked', oauth2, (req: any, res: any) =>
    w.deny(req, res, { cause: 'resource-state', rule: 'report locked', resource: req.params.id }),
  );

  // express-jwt, mounted under a router: the template is baseUrl + route path.
  const jwtRouter = express.Router();
  jwtRouter.use(expressjwt({ secret: SECRET, algorithms: ['HS256'], audience: AUDIENCE, issuer: ISSUER }));
  jwtRouter.get('/orders', w.guard(ex.requireScope('read:orders')), (_req: any, res: any) => res.json({ orders: [] }));
  app.use('/jwt', jwtRouter);

  // allowClients behind the proxies the app names.
  app.get('/internal', w.guard(ex.allowClients(['10.1.2.3'])), (_req: any, res: any) => res.json({ ok: true }));

  // csrf-csrf (double submit cookie).
  app.use('/csrf', cookieParser());
  app.get('/csrf/token', (req: any, res: any) => res.json({ token: generateCsrfToken(req, res) }));
  app.post('/csrf/submit', doubleCsrfProtection, (_req: any, res: any) => res.json({ ok: true }));

  // cors with an origin that refuses.
  app.get('/cors/data', cors({ origin: ex.corsOrigin([CORS_ALLOWED]) }), (_req: any, res: any) =>
    res.json({ ok: true }),
  );

  // CASL's ForbiddenError thrown from handlers (Express 5 passes a thrown error to the error middleware).
  const caller = (req: any): Caller => ex.callerFromClaims(req.auth?.payload);
  app.delete('/casl/reports/:id', oauth2, (req: any) => {
    ForbiddenError.from(abilityFor(caller(req))).throwUnlessCan('delete', subject('Report', { id: req.params.id }));
  });
  app.get('/casl/reports/:id/body', oauth2, (req: any, res: any) => {
    ForbiddenError.from(abilityFor(caller(req))).throwUnlessCan(
      'read',
      subject('Report', { id: req.params.id }),
      'body',
    );
    res.json({ body: '' });
  });
  app.post('/casl/reports', oauth2, (req: any) => {
    ForbiddenError.from(abilityFor(caller(req))).throwUnlessCan('create', 'Report');
  });

  // Casbin, through casbinGuard.
  const enforcer = await casbinEnforcer();
  const casbin = (act: string) =>
    w.guard(ex.casbinGuard(enforcer, (_req: unknown, c: Caller) => [c.principal ?? 'anonymous', 'reports', act]));
  app.get('/casbin/reports', oauth2, casbin('read'), (_req: any, res: any) => res.json({ ok: true }));
  app.delete('/casbin/reports', oauth2, casbin('delete'), (_req: any, res: any) => res.json({ ok: true }));
  app.put('/casbin/reports', oauth2, casbin('write'), (_req: any, res: any) => res.json({ ok: true }));

  app.get('/boom', () => {
    throw new Error('boom');
  });

  app.use(w.errors());
  app.use((err: Error, _req: any, res: any, _next: unknown) =>
    res.status(500).json({ ...APP_ERROR, message: err.message }),
  );

  const server: Server = app.listen(0, LOOPBACK);
  const origin = await listening(server);
  return { origin, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

// ---------------------------------------------------------------------------
// Fastify 5

export async function startFastify(o: AppOptions): Promise<RunningApp> {
  const { default: Fastify } = await import('fastify');
  const { default: fastifyJwt } = await import('@fastify/jwt');
  const { default: fastifyCookie } = await import('@fastify/cookie');
  const { default: fastifyCsrf } = await import('@fastify/csrf-protection');

  const app: FastifyInstance = Fastify();
  // The app's own error handler, set before why403 registers: why403 wraps it.
  app.setErrorHandler((err: Error, _request, reply) => reply.code(500).send({ ...APP_ERROR, message: err.message }));
  await app.register(fastifyJwt, {
    secret: SECRET,
    verify: { allowedAud: AUDIENCE, allowedIss: ISSUER },
  });
  await app.register(fastifyCookie);
  await app.register(fastifyCsrf, { cookieOpts: { signed: false, path: '/' } });
  await app.register(fy.why403Plugin, {
    disclosure: o.disclosure,
    sinks: [o.collect.sink],
    ...(o.trustedProxies ? { trustedProxies: o.trustedProxies } : {}),
    adapters: [fy.fastifyJwtAdapter({ audience: AUDIENCE, issuer: ISSUER }), fy.csrfAdapter(), fy.caslAdapter()],
  });

  const verify = async (request: any) => {
    await request.jwtVerify();
  };
  app.get('/ok', async () => ({ ok: true }));
  app.get('/orders', { onRequest: verify, preHandler: app.why403.guard(fy.requireScope('read:orders')) }, async () => ({
    orders: [],
  }));
  app.get(
    '/projects/:id',
    { onRequest: verify, preHandler: app.why403.guard(fy.requireRole('admin'), { hide: true }) },
    async () => ({ ok: true }),
  );
  app.get(
    '/docs/:id',
    {
      onRequest: verify,
      preHandler: app.why403.guard(
        fy.requireOwner((req: any) => OWNERS[req.params.id], { resource: (req: any) => req.params.id }),
      ),
    },
    async () => ({ ok: true }),
  );
  app.get('/reports/:id/locked', { onRequest: verify }, async (request: any, reply) =>
    reply.deny({ cause: 'resource-state', rule: 'report locked', resource: request.params.id }),
  );
  app.get('/internal', { preHandler: app.why403.guard(fy.allowClients(['10.1.2.3'])) }, async () => ({ ok: true }));

  app.get('/csrf/token', async (_request, reply) => ({ token: await reply.generateCsrf() }));
  app.post('/csrf/submit', { onRequest: app.csrfProtection }, async () => ({ ok: true }));

  const caller = (request: any): Caller => fy.callerFromClaims(request.user);
  app.delete('/casl/reports/:id', { onRequest: verify }, async (request: any) => {
    ForbiddenError.from(abilityFor(caller(request))).throwUnlessCan(
      'delete',
      subject('Report', { id: request.params.id }),
    );
  });
  app.get('/casl/reports/:id/body', { onRequest: verify }, async (request: any) => {
    ForbiddenError.from(abilityFor(caller(request))).throwUnlessCan(
      'read',
      subject('Report', { id: request.params.id }),
      'body',
    );
    return { body: '' };
  });
  app.post('/casl/reports', { onRequest: verify }, async (request: any) => {
    ForbiddenError.from(abilityFor(caller(request))).throwUnlessCan('create', 'Report');
  });

  const enforcer = await casbinEnforcer();
  const casbin = (act: string) => ({
    onRequest: verify,
    preHandler: app.why403.guard(
      fy.casbinGuard(enforcer, (_req: unknown, c: Caller) => [c.principal ?? 'anonymous', 'reports', act]),
    ),
  });
  app.get('/casbin/reports', casbin('read'), async () => ({ ok: true }));
  app.delete('/casbin/reports', casbin('delete'), async () => ({ ok: true }));
  app.put('/casbin/reports', casbin('write'), async () => ({ ok: true }));

  app.get('/boom', async () => {
    throw new Error('boom');
  });

  await app.listen({ port: 0, host: LOOPBACK });
  const origin = `http://${LOOPBACK}:${(app.server.address() as AddressInfo).port}`;
  return { origin, close: () => app.close() };
}

// ---------------------------------------------------------------------------
// What a denied request's response and event must be.

/**
 * The title each cause's problem document carries, written here rather than
 * read from the middleware, so that the tests check the middleware's own.
 */
const TITLES: Partial<Record<CauseId, string>> = {
  'credential-missing': 'Credential missing',
  'credential-malformed': 'Credential malformed',
  'credential-invalid': 'Credential invalid',
  'credential-expired': 'Credential expired',
  'credential-not-yet-valid': 'Credential not yet valid',
  'wrong-audience': 'Credential for another audience',
  'insufficient-scope': 'Insufficient scope',
  'insufficient-role': 'Insufficient role',
  'not-owner': 'Not the owner',
  'field-restricted': 'Field restricted',
  'explicit-deny': 'Denied by policy',
  'resource-state': 'Resource not available in its state',
  'ip-restricted': 'Client address not allowed',
  csrf: 'CSRF check failed',
  cors: 'Origin not allowed',
};

export interface Expected {
  status: 401 | 403;
  cause: CauseId;
  /** The problem's title, when it is not the cause's usual one (TITLES). */
  title?: string;
  /** The path the request named: the problem's instance. */
  instance: string;
  gap?: { required: string[]; held: string[] };
  /** RFC 6750: the challenge's error code (none for a request without a credential), and whether the route is bearer. */
  bearer?: { error?: 'invalid_request' | 'invalid_token' | 'insufficient_scope' };
  requestId?: string;
}

const titleOf = (e: Expected) => e.title ?? TITLES[e.cause] ?? 'Access denied';

/** The problem document a denial must be answered with at each disclosure level. */
export function expectedBody(level: Disclosure, e: Expected): Record<string, unknown> {
  const common = { instance: e.instance, ...(e.requestId ? { requestId: e.requestId } : {}) };
  if (level === 'status')
    return { type: 'about:blank', title: e.status === 401 ? 'Unauthorized' : 'Forbidden', status: e.status, ...common };
  const meaning = CAUSE_MEANINGS[e.cause];
  const detail =
    level === 'gap' && e.gap?.required.length
      ? `${meaning} Required: ${e.gap.required.join(', ')}; held: ${e.gap.held.join(', ') || 'none'}.`
      : meaning;
  return {
    type: `urn:why403:cause:${e.cause}`,
    title: titleOf(e),
    status: e.status,
    detail,
    ...common,
    cause: e.cause,
    ...(level === 'gap' && e.gap ? { required: e.gap.required, held: e.gap.held } : {}),
  };
}

/** The WWW-Authenticate a denial must carry at each level (undefined: none). */
export function expectedChallenge(level: Disclosure, e: Expected): string | undefined {
  if (!e.bearer) return undefined;
  const error = e.bearer.error;
  if (e.status === 403 && error !== 'insufficient_scope') return undefined;
  const params = ['realm="api"'];
  if (error) params.push(`error="${error}"`);
  if (level !== 'status') {
    if (level === 'gap' && error === 'insufficient_scope' && e.gap?.required.length)
      params.push(`scope="${e.gap.required.join(' ')}"`);
    if (error) params.push(`error_description="${titleOf(e)}"`);
  }
  return `Bearer ${params.join(', ')}`;
}

export interface Sent {
  status: number;
  headers: Headers;
  text: string;
}

export async function send(origin: string, path: string, init: RequestInit = {}): Promise<Sent> {
  const res = await fetch(origin + path, init);
  return { status: res.status, headers: res.headers, text: await res.text() };
}

/** The response to a denied request, exactly. */
export function assertExplained(sent: Sent, level: Disclosure, e: Expected): void {
  assert.equal(sent.status, e.status, sent.text);
  assert.equal(sent.headers.get('content-type'), 'application/problem+json');
  assert.equal(sent.headers.get('cache-control'), 'no-store');
  assert.equal(sent.headers.get('www-authenticate') ?? undefined, expectedChallenge(level, e));
  assert.deepEqual(JSON.parse(sent.text), expectedBody(level, e));
}

/** The one event a request emitted, every field but `time` (checked to be a recent epoch in milliseconds). */
export function assertOneEvent(collect: Collector, before: number, expected: Omit<DenialEvent, 'time'>): void {
  const events = collect.events.slice(before);
  assert.equal(events.length, 1, `one event, got ${JSON.stringify(events)}`);
  const { time, ...rest } = events[0]!;
  assert.ok(Number.isInteger(time) && time > 1.7e12, `time ${time}`);
  assert.deepEqual(rest, expected);
}

/** No secret — a token, a cookie value, a CSRF token, the signing key — in a response or any event line. */
export function assertNoSecrets(sent: Sent, collect: Collector, secrets: string[]): void {
  const everything = [sent.text, ...sent.headers.values(), ...collect.lines].join('\n');
  for (const secret of [SECRET, OTHER_SECRET, ...secrets]) {
    assert.ok(!everything.includes(secret), `a secret leaked: ${secret.slice(0, 12)}…`);
    // A JWT's signature alone is as telling as the token.
    const signature = secret.split('.')[2];
    if (signature) assert.ok(!everything.includes(signature), 'a token signature leaked');
  }
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

// ---------------------------------------------------------------------------
// One table of denials, run at each disclosure level against a fresh app.

export interface DenialScenario {
  name: string;
  method?: string;
  path: string;
  headers?: (t: Tokens) => Record<string, string>;
  /** What the denial must be; its instance is the path unless said. */
  expect: Omit<Expected, 'instance'> & { instance?: string };
  /** Answered 404 to hide the resource; the event says what it was. */
  hidden?: boolean;
  event: { principal?: string; route?: string; resource?: string; rule: string };
}

export const DISCLOSURES: Disclosure[] = ['status', 'cause', 'gap'];

/** why403's own guards and a handler's deny (`w.deny` in Express, `reply.deny` in Fastify): the same in both apps. */
export const guardScenarios = (handlerDeny: string): DenialScenario[] => [
  {
    name: 'requireRole on a hidden route: 404 to the caller, the event says why',
    path: '/projects/p1',
    headers: (t) => bearer(t.alice),
    hidden: true,
    expect: { status: 403, cause: 'insufficient-role', gap: { required: ['admin'], held: ['viewer'] } },
    event: { route: '/projects/:id', principal: 'alice', rule: 'role admin' },
  },
  {
    name: 'requireOwner',
    path: '/docs/d1',
    headers: (t) => bearer(t.alice),
    expect: { status: 403, cause: 'not-owner', gap: { required: ['owner bob'], held: ['principal alice'] } },
    event: { route: '/docs/:id', principal: 'alice', resource: 'd1', rule: 'owner only' },
  },
  {
    name: `${handlerDeny} from a handler, with a request id and a trace`,
    path: '/reports/r1/locked',
    headers: (t) => ({ ...bearer(t.alice), 'x-request-id': 'req-42', traceparent: TRACEPARENT }),
    expect: { status: 403, cause: 'resource-state', requestId: 'req-42' },
    event: { route: '/reports/:id/locked', principal: 'alice', resource: 'r1', rule: 'report locked' },
  },
  {
    name: 'allowClients: X-Forwarded-For from an untrusted peer is ignored',
    path: '/internal',
    headers: () => ({ 'x-forwarded-for': '10.1.2.3' }),
    expect: {
      status: 403,
      cause: 'ip-restricted',
      gap: { required: ['client address in 10.1.2.3'], held: [LOOPBACK] },
    },
    event: { route: '/internal', rule: 'client address 10.1.2.3' },
  },
];

/** The CASL and Casbin denials: the same routes, policies and answers in both apps. */
export const POLICY_SCENARIOS: DenialScenario[] = [
  {
    name: 'CASL: a cannot rule (explicit deny, with its reason in the event)',
    method: 'DELETE',
    path: '/casl/reports/r1',
    headers: (t) => bearer(t.alice),
    expect: { status: 403, cause: 'explicit-deny', gap: { required: ['delete Report'], held: ['viewer'] } },
    event: { route: '/casl/reports/:id', principal: 'alice', rule: 'casl delete Report (reports are kept for audit)' },
  },
  {
    name: 'CASL: a field not allowed',
    path: '/casl/reports/r1/body',
    headers: (t) => bearer(t.alice),
    expect: { status: 403, cause: 'field-restricted', gap: { required: ['read Report body'], held: ['viewer'] } },
    event: { route: '/casl/reports/:id/body', principal: 'alice', rule: 'casl read Report body' },
  },
  {
    name: 'CASL: no rule allows it',
    method: 'POST',
    path: '/casl/reports',
    headers: (t) => bearer(t.alice),
    expect: { status: 403, cause: 'insufficient-role', gap: { required: ['create Report'], held: ['viewer'] } },
    event: { route: '/casl/reports', principal: 'alice', rule: 'casl create Report' },
  },
  {
    name: 'Casbin: a deny policy (explicit deny, the policy line in the event)',
    method: 'DELETE',
    path: '/casbin/reports',
    headers: (t) => bearer(t.alice),
    expect: { status: 403, cause: 'explicit-deny', gap: { required: ['delete reports'], held: ['viewer'] } },
    event: {
      route: '/casbin/reports',
      principal: 'alice',
      rule: 'casbin alice reports delete (policy viewer, reports, delete, deny)',
    },
  },
  {
    name: 'Casbin: no policy allows it',
    method: 'PUT',
    path: '/casbin/reports',
    headers: (t) => bearer(t.alice),
    expect: { status: 403, cause: 'insufficient-role', gap: { required: ['write reports'], held: ['viewer'] } },
    event: { route: '/casbin/reports', principal: 'alice', rule: 'casbin alice reports write' },
  },
];

/** The hidden route's answer: a plain 404, whatever the level. */
export function assertHidden(sent: Sent, instance: string): void {
  assert.equal(sent.status, 404);
  assert.equal(sent.headers.get('content-type'), 'application/problem+json');
  assert.equal(sent.headers.get('www-authenticate'), null);
  assert.deepEqual(JSON.parse(sent.text), { type: 'about:blank', title: 'Not Found', status: 404, instance });
}

/** A scenario's expected denial, its instance the path it names unless said otherwise. */
export const expectedOf = (s: DenialScenario): Expected => ({ instance: s.path, ...s.expect });

export function expectedEvent(s: DenialScenario): Omit<DenialEvent, 'time'> {
  const e = s.expect;
  return {
    level: 40,
    msg: `access denied: ${e.cause}`,
    schema: 'why403/denial@1',
    ...(s.event.principal !== undefined ? { principal: s.event.principal } : {}),
    method: s.method ?? 'GET',
    ...(s.event.route !== undefined ? { route: s.event.route } : {}),
    ...(s.event.resource !== undefined ? { resource: s.event.resource } : {}),
    cause: e.cause,
    ...(e.gap ? { gap: e.gap } : {}),
    rule: s.event.rule,
    status: s.hidden ? 404 : e.status,
    ...(s.hidden ? { deniedAs: e.status, hidden: true } : {}),
    client: LOOPBACK,
    ...(e.requestId ? { requestId: e.requestId } : {}),
  };
}

/** Sends each scenario's request to an app started at `level`; checks its response, its one event, and no leak. */
export async function checkScenario(
  app: RunningApp,
  collect: Collector,
  level: Disclosure,
  t: Tokens,
  s: DenialScenario,
  extraEvent: Partial<DenialEvent> = {},
  extraHeaders: Record<string, string> = {},
): Promise<void> {
  const before = collect.events.length;
  const sent = await send(app.origin, s.path, {
    method: s.method ?? 'GET',
    headers: { ...(s.headers?.(t) ?? {}), ...extraHeaders },
  });
  if (s.hidden) assertHidden(sent, expectedOf(s).instance);
  else assertExplained(sent, level, expectedOf(s));
  assertOneEvent(collect, before, { ...expectedEvent(s), ...extraEvent });
  assertNoSecrets(sent, collect, Object.values(t));
  if (level !== 'status' && !s.hidden)
    await assertDiagnosed(app, level, s, { ...(s.headers?.(t) ?? {}), ...extraHeaders });
}

/**
 * why403's own diagnosis of the same request (what `why403 check` runs):
 * the app is the producer and the cause is the one the app stated; at "gap"
 * the gap too. Sent again, so it emits a second event, after the checks above.
 */
export async function assertDiagnosed(
  app: RunningApp,
  level: Disclosure,
  s: DenialScenario,
  headers: Record<string, string>,
): Promise<void> {
  const report = await diagnoseInProcess(app.origin, { method: s.method ?? 'GET', path: s.path, headers });
  assert.equal(report.deniedBy?.product, 'why403', JSON.stringify(report.deniedBy));
  assert.equal(report.causes[0]?.id, s.expect.cause, JSON.stringify(report.causes.map((c) => c.id)));
  if (level === 'gap' && s.expect.gap) assert.deepEqual(report.causes[0]?.gap, s.expect.gap);
}
