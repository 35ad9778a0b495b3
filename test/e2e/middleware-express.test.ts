// why403/express on a real Express 5 app (test/servers/middleware-apps.ts)
// with express-oauth2-jwt-bearer, express-jwt, csrf-csrf, cors, CASL and Casbin used
// for real: each library's refusal and each guard's denial answered exactly —
// status, WWW-Authenticate, problem document — at each disclosure level, with
// exactly one event; a hidden route; X-Forwarded-For read only from a trusted
// proxy; allowed requests and unrelated errors left to the app; no token or
// cookie value in any response or event.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  APP_ERROR,
  bearer,
  checkScenario,
  collector,
  CORS_ALLOWED,
  DISCLOSURES,
  LOOPBACK,
  send,
  startExpress,
  tokens,
  assertExplained,
  assertNoSecrets,
  assertOneEvent,
  expectedEvent,
  type DenialScenario,
  expectedOf,
  guardScenarios,
  type RunningApp,
  type Tokens,
  POLICY_SCENARIOS,
} from '../servers/middleware-apps.ts';

const OAUTH2 = '/oauth2/orders';
const bearerRoute = { route: OAUTH2 };

const EXPIRED_GAP = { required: ['a credential not yet expired'], held: ['expired at 2001-09-09T01:46:40.000Z'] };
const NOT_YET_GAP = { required: ['a credential already valid'], held: ['valid from 2099-12-31T23:00:00.000Z'] };
const AUDIENCE_GAP = {
  required: ['audience https://api.example/orders'],
  held: ['audience https://api.example/billing'],
};

const SCENARIOS: DenialScenario[] = [
  // express-oauth2-jwt-bearer: auth() and requiredScopes().
  {
    name: 'express-oauth2-jwt-bearer: no token',
    path: OAUTH2,
    expect: { status: 401, cause: 'credential-missing', bearer: {} },
    event: { ...bearerRoute, rule: 'express-oauth2-jwt-bearer: no token' },
  },
  {
    name: 'express-oauth2-jwt-bearer: another scheme',
    path: OAUTH2,
    headers: () => ({ authorization: 'Basic YWxpY2U6c2VjcmV0' }),
    expect: { status: 401, cause: 'credential-malformed', bearer: { error: 'invalid_request' } },
    event: { ...bearerRoute, rule: 'express-oauth2-jwt-bearer: malformed Authorization' },
  },
  {
    name: 'express-oauth2-jwt-bearer: a token without its scheme',
    path: OAUTH2,
    headers: (t) => ({ authorization: t.alice }),
    expect: { status: 401, cause: 'credential-malformed', bearer: { error: 'invalid_request' } },
    event: { ...bearerRoute, rule: 'express-oauth2-jwt-bearer: malformed Authorization' },
  },
  {
    name: 'express-oauth2-jwt-bearer: not a JWT',
    path: OAUTH2,
    headers: () => bearer('not-a-jwt'),
    expect: { status: 401, cause: 'credential-malformed', bearer: { error: 'invalid_request' } },
    event: { ...bearerRoute, rule: 'express-oauth2-jwt-bearer: Invalid Compact JWS' },
  },
  {
    name: 'express-oauth2-jwt-bearer: expired (the library says only invalid_token)',
    path: OAUTH2,
    headers: (t) => bearer(t.expired),
    expect: { status: 401, cause: 'credential-expired', gap: EXPIRED_GAP, bearer: { error: 'invalid_token' } },
    event: { ...bearerRoute, rule: 'express-oauth2-jwt-bearer: "exp" claim timestamp check failed' },
  },
  {
    name: 'express-oauth2-jwt-bearer: not yet valid',
    path: OAUTH2,
    headers: (t) => bearer(t.notYet),
    expect: { status: 401, cause: 'credential-not-yet-valid', gap: NOT_YET_GAP, bearer: { error: 'invalid_token' } },
    event: { ...bearerRoute, rule: 'express-oauth2-jwt-bearer: "nbf" claim timestamp check failed' },
  },
  {
    name: 'express-oauth2-jwt-bearer: another audience',
    path: OAUTH2,
    headers: (t) => bearer(t.otherAudience),
    expect: { status: 401, cause: 'wrong-audience', gap: AUDIENCE_GAP, bearer: { error: 'invalid_token' } },
    event: { ...bearerRoute, rule: "express-oauth2-jwt-bearer: Unexpected 'aud' value" },
  },
  {
    name: 'express-oauth2-jwt-bearer: another issuer',
    path: OAUTH2,
    headers: (t) => bearer(t.otherIssuer),
    expect: {
      status: 401,
      cause: 'wrong-audience',
      gap: { required: ['issuer https://issuer.example/'], held: ['issuer https://elsewhere.example/'] },
      bearer: { error: 'invalid_token' },
    },
    event: { ...bearerRoute, rule: "express-oauth2-jwt-bearer: Unexpected 'iss' value" },
  },
  {
    name: 'express-oauth2-jwt-bearer: bad signature',
    path: OAUTH2,
    headers: (t) => bearer(t.badSignature),
    expect: { status: 401, cause: 'credential-invalid', bearer: { error: 'invalid_token' } },
    event: { ...bearerRoute, rule: 'express-oauth2-jwt-bearer: signature verification failed' },
  },
  {
    name: 'express-oauth2-jwt-bearer: requiredScopes without the scope',
    path: OAUTH2,
    headers: (t) => bearer(t.alice),
    expect: {
      status: 403,
      cause: 'insufficient-scope',
      gap: { required: ['read:orders'], held: ['read:profile'] },
      bearer: { error: 'insufficient_scope' },
    },
    event: { ...bearerRoute, principal: 'alice', rule: 'express-oauth2-jwt-bearer: scope read:orders' },
  },

  // why403's guards after auth().
  {
    name: 'requireRole',
    path: '/oauth2/admin',
    headers: (t) => bearer(t.alice),
    expect: { status: 403, cause: 'insufficient-role', gap: { required: ['admin'], held: ['viewer'] } },
    event: { route: '/oauth2/admin', principal: 'alice', rule: 'role admin' },
  },

  // express-jwt, under a router (the error comes from router-level middleware: no route matched yet).
  {
    name: 'express-jwt: no token',
    path: '/jwt/orders',
    expect: { status: 401, cause: 'credential-missing', bearer: {} },
    event: { rule: 'express-jwt: credentials_required' },
  },
  {
    name: 'express-jwt: another scheme',
    path: '/jwt/orders',
    headers: () => ({ authorization: 'Token abc' }),
    expect: { status: 401, cause: 'credential-malformed', bearer: { error: 'invalid_request' } },
    event: { rule: 'express-jwt: credentials_bad_scheme' },
  },
  {
    name: 'express-jwt: expired',
    path: '/jwt/orders',
    headers: (t) => bearer(t.expired),
    expect: { status: 401, cause: 'credential-expired', gap: EXPIRED_GAP, bearer: { error: 'invalid_token' } },
    event: { rule: 'express-jwt: invalid_token (jwt expired)' },
  },
  {
    name: 'express-jwt: not yet valid',
    path: '/jwt/orders',
    headers: (t) => bearer(t.notYet),
    expect: { status: 401, cause: 'credential-not-yet-valid', gap: NOT_YET_GAP, bearer: { error: 'invalid_token' } },
    event: { rule: 'express-jwt: invalid_token (jwt not active)' },
  },
  {
    name: 'express-jwt: another audience (the expected one read from jsonwebtoken)',
    path: '/jwt/orders',
    headers: (t) => bearer(t.otherAudience),
    expect: { status: 401, cause: 'wrong-audience', gap: AUDIENCE_GAP, bearer: { error: 'invalid_token' } },
    event: { rule: 'express-jwt: invalid_token (jwt audience invalid. expected: https://api.example/orders)' },
  },
  {
    name: 'express-jwt: bad signature',
    path: '/jwt/orders',
    headers: (t) => bearer(t.badSignature),
    expect: { status: 401, cause: 'credential-invalid', bearer: { error: 'invalid_token' } },
    event: { rule: 'express-jwt: invalid_token (invalid signature)' },
  },
  {
    name: 'express-jwt, then requireScope',
    path: '/jwt/orders',
    headers: (t) => bearer(t.alice),
    expect: {
      status: 403,
      cause: 'insufficient-scope',
      gap: { required: ['read:orders'], held: ['read:profile'] },
      bearer: { error: 'insufficient_scope' },
    },
    event: { route: '/jwt/orders', principal: 'alice', rule: 'scope read:orders' },
  },

  // csrf-csrf, cors, CASL.
  {
    name: 'csrf-csrf: no token',
    method: 'POST',
    path: '/csrf/submit',
    expect: { status: 403, cause: 'csrf', instance: '/csrf/submit' },
    event: { route: '/csrf/submit', rule: 'csrf-csrf: invalid csrf token' },
  },
  {
    name: 'cors: an origin not allowed',
    path: '/cors/data',
    headers: () => ({ origin: 'https://evil.example' }),
    expect: {
      status: 403,
      cause: 'cors',
      gap: { required: [`origin ${CORS_ALLOWED}`], held: ['origin https://evil.example'] },
    },
    event: { route: '/cors/data', rule: `cors origin ${CORS_ALLOWED}` },
  },
  ...guardScenarios('w.deny'),
  ...POLICY_SCENARIOS,
];

let t: Tokens;
before(async () => {
  t = await tokens();
});

for (const level of DISCLOSURES) {
  describe(`why403/express at disclosure "${level}"`, () => {
    const collect = collector();
    let app: RunningApp;
    before(async () => {
      app = await startExpress({ disclosure: level, collect });
    });
    after(() => app.close());

    for (const s of SCENARIOS)
      it(s.name, async () => {
        const trace = s.headers?.(t).traceparent
          ? { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331' }
          : {};
        await checkScenario(app, collect, level, t, s, trace);
      });

    it('csrf-csrf: a token that does not match its cookie; neither value reaches the response or the event', async () => {
      const issued = await send(app.origin, '/csrf/token');
      const cookie = issued.headers.getSetCookie()[0]!.split(';')[0]!;
      const token = (JSON.parse(issued.text) as { token: string }).token;
      const before = collect.events.length;
      const sent = await send(app.origin, '/csrf/submit', {
        method: 'POST',
        headers: { cookie, 'x-csrf-token': `${token.slice(0, -4)}0000` },
      });
      const s = SCENARIOS.find((x) => x.name === 'csrf-csrf: no token')!;
      assertExplained(sent, level, expectedOf(s));
      assertOneEvent(collect, before, expectedEvent(s));
      assertNoSecrets(sent, collect, [token, cookie.split('=')[1]!, ...Object.values(t)]);
      // The right token passes.
      const ok = await send(app.origin, '/csrf/submit', { method: 'POST', headers: { cookie, 'x-csrf-token': token } });
      assert.equal(ok.status, 200);
      assert.equal(collect.events.length, before + 1);
    });

    it('allowed requests pass untouched and emit nothing', async () => {
      const before = collect.events.length;
      const orders = await send(app.origin, OAUTH2, { headers: bearer(t.bob) });
      assert.equal(orders.status, 200);
      assert.deepEqual(JSON.parse(orders.text), { orders: [] });
      assert.equal(orders.headers.get('content-type'), 'application/json; charset=utf-8');
      const jwt = await send(app.origin, '/jwt/orders', { headers: bearer(t.bob) });
      assert.deepEqual([jwt.status, JSON.parse(jwt.text)], [200, { orders: [] }]);
      const cors = await send(app.origin, '/cors/data', { headers: { origin: CORS_ALLOWED } });
      assert.equal(cors.status, 200);
      assert.equal(cors.headers.get('access-control-allow-origin'), CORS_ALLOWED);
      const admin = await send(app.origin, '/projects/p1', { headers: bearer(t.bob) });
      assert.deepEqual([admin.status, JSON.parse(admin.text)], [200, { ok: true }]);
      const read = await send(app.origin, '/casbin/reports', { headers: bearer(t.alice) });
      assert.deepEqual([read.status, JSON.parse(read.text)], [200, { ok: true }]);
      assert.equal(collect.events.length, before);
    });

    it('an error no adapter knows reaches the app’s own error handler', async () => {
      const before = collect.events.length;
      const sent = await send(app.origin, '/boom');
      assert.equal(sent.status, 500);
      assert.deepEqual(JSON.parse(sent.text), APP_ERROR);
      assert.equal(collect.events.length, before);
    });
  });
}

describe('why403/express behind a trusted proxy', () => {
  const collect = collector();
  let app: RunningApp;
  before(async () => {
    app = await startExpress({ disclosure: 'gap', collect, trustedProxies: [LOOPBACK] });
  });
  after(() => app.close());

  it('X-Forwarded-For from the trusted peer names the client: an allowed one passes', async () => {
    const sent = await send(app.origin, '/internal', { headers: { 'x-forwarded-for': '10.1.2.3' } });
    assert.deepEqual([sent.status, JSON.parse(sent.text)], [200, { ok: true }]);
    assert.equal(collect.events.length, 0);
  });

  it('and a client not allowed is denied under its own address, not the proxy’s', async () => {
    const sent = await send(app.origin, '/internal', { headers: { 'x-forwarded-for': '203.0.113.9, 10.1.2.3' } });
    // The rightmost address not a trusted proxy is the client: 10.1.2.3 (the proxy at 127.0.0.1 is trusted, 10.1.2.3 is not).
    assert.deepEqual([sent.status, JSON.parse(sent.text)], [200, { ok: true }]);
    const before = collect.events.length;
    const denied = await send(app.origin, '/internal', { headers: { 'x-forwarded-for': '198.51.100.7' } });
    const expect = {
      status: 403 as const,
      cause: 'ip-restricted' as const,
      title: 'Client address not allowed',
      instance: '/internal',
      gap: { required: ['client address in 10.1.2.3'], held: ['198.51.100.7'] },
    };
    assertExplained(denied, 'gap', expect);
    assertOneEvent(collect, before, {
      ...expectedEvent({
        name: '',
        path: '/internal',
        expect,
        event: { route: '/internal', rule: 'client address 10.1.2.3' },
      }),
      client: '198.51.100.7',
    });
  });
});
