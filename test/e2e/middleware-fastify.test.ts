// why403/fastify on a real Fastify 5 app (test/servers/middleware-apps.ts)
// with @fastify/jwt, @fastify/csrf-protection (+ @fastify/cookie), CASL and Casbin
// used for real: each library's refusal and each guard's denial answered
// exactly — status, WWW-Authenticate, problem document — at each disclosure
// level, with exactly one event; a hidden route; X-Forwarded-For read only
// from a trusted proxy; allowed requests and unrelated errors left to the app
// (its own error handler, which the plugin wraps); no token or cookie value
// in any response or event.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  APP_ERROR,
  bearer,
  checkScenario,
  collector,
  DISCLOSURES,
  LOOPBACK,
  send,
  startFastify,
  tokens,
  assertExplained,
  assertNoSecrets,
  assertOneEvent,
  expectedEvent,
  type DenialScenario,
  guardScenarios,
  type RunningApp,
  type Tokens,
  POLICY_SCENARIOS,
} from '../servers/middleware-apps.ts';

const ORDERS = '/orders';
const route = { route: ORDERS };

const SCENARIOS: DenialScenario[] = [
  // @fastify/jwt (request.jwtVerify() in onRequest), then requireScope.
  {
    name: '@fastify/jwt: no token',
    path: ORDERS,
    expect: { status: 401, cause: 'credential-missing', bearer: {} },
    event: { ...route, rule: '@fastify/jwt: FST_JWT_NO_AUTHORIZATION_IN_HEADER' },
  },
  {
    name: '@fastify/jwt: another scheme',
    path: ORDERS,
    headers: () => ({ authorization: 'Basic YWxpY2U6c2VjcmV0' }),
    expect: { status: 401, cause: 'credential-malformed', bearer: { error: 'invalid_request' } },
    event: { ...route, rule: '@fastify/jwt: FST_JWT_NO_AUTHORIZATION_IN_HEADER' },
  },
  {
    name: '@fastify/jwt: a token without its scheme',
    path: ORDERS,
    headers: (t) => ({ authorization: t.alice }),
    expect: { status: 401, cause: 'credential-malformed', bearer: { error: 'invalid_request' } },
    event: { ...route, rule: '@fastify/jwt: FST_JWT_NO_AUTHORIZATION_IN_HEADER' },
  },
  {
    name: '@fastify/jwt: not a JWT',
    path: ORDERS,
    headers: () => bearer('not-a-jwt'),
    expect: { status: 401, cause: 'credential-malformed', bearer: { error: 'invalid_request' } },
    event: { ...route, rule: '@fastify/jwt: FST_JWT_AUTHORIZATION_TOKEN_INVALID' },
  },
  {
    name: '@fastify/jwt: expired',
    path: ORDERS,
    headers: (t) => bearer(t.expired),
    expect: {
      status: 401,
      cause: 'credential-expired',
      gap: { required: ['a credential not yet expired'], held: ['expired at 2001-09-09T01:46:40.000Z'] },
      bearer: { error: 'invalid_token' },
    },
    event: { ...route, rule: '@fastify/jwt: FST_JWT_AUTHORIZATION_TOKEN_EXPIRED' },
  },
  {
    name: '@fastify/jwt: not yet valid',
    path: ORDERS,
    headers: (t) => bearer(t.notYet),
    expect: {
      status: 401,
      cause: 'credential-not-yet-valid',
      gap: { required: ['a credential already valid'], held: ['valid from 2099-12-31T23:00:00.000Z'] },
      bearer: { error: 'invalid_token' },
    },
    event: { ...route, rule: '@fastify/jwt: FAST_JWT_INACTIVE' },
  },
  {
    name: '@fastify/jwt: another audience',
    path: ORDERS,
    headers: (t) => bearer(t.otherAudience),
    expect: {
      status: 401,
      cause: 'wrong-audience',
      gap: { required: ['audience https://api.example/orders'], held: ['audience https://api.example/billing'] },
      bearer: { error: 'invalid_token' },
    },
    event: { ...route, rule: '@fastify/jwt: FST_JWT_AUTHORIZATION_TOKEN_INVALID' },
  },
  {
    name: '@fastify/jwt: another issuer',
    path: ORDERS,
    headers: (t) => bearer(t.otherIssuer),
    expect: {
      status: 401,
      cause: 'wrong-audience',
      gap: { required: ['issuer https://issuer.example/'], held: ['issuer https://elsewhere.example/'] },
      bearer: { error: 'invalid_token' },
    },
    event: { ...route, rule: '@fastify/jwt: FST_JWT_AUTHORIZATION_TOKEN_INVALID' },
  },
  {
    name: '@fastify/jwt: bad signature',
    path: ORDERS,
    headers: (t) => bearer(t.badSignature),
    expect: { status: 401, cause: 'credential-invalid', bearer: { error: 'invalid_token' } },
    event: { ...route, rule: '@fastify/jwt: FST_JWT_AUTHORIZATION_TOKEN_INVALID' },
  },
  {
    name: 'requireScope',
    path: ORDERS,
    headers: (t) => bearer(t.alice),
    expect: {
      status: 403,
      cause: 'insufficient-scope',
      gap: { required: ['read:orders'], held: ['read:profile'] },
      bearer: { error: 'insufficient_scope' },
    },
    event: { ...route, principal: 'alice', rule: 'scope read:orders' },
  },
  {
    name: '@fastify/csrf-protection: no CSRF cookie',
    method: 'POST',
    path: '/csrf/submit',
    expect: { status: 403, cause: 'csrf', instance: '/csrf/submit' },
    event: { route: '/csrf/submit', rule: '@fastify/csrf-protection: missing csrf secret (no CSRF cookie or session)' },
  },
  ...guardScenarios('reply.deny'),
  ...POLICY_SCENARIOS,
];

let t: Tokens;
before(async () => {
  t = await tokens();
});

const TRACE = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331' };

for (const level of DISCLOSURES) {
  describe(`why403/fastify at disclosure "${level}"`, () => {
    const collect = collector();
    let app: RunningApp;
    before(async () => {
      app = await startFastify({ disclosure: level, collect });
    });
    after(() => app.close());

    for (const s of SCENARIOS)
      it(s.name, async () => {
        await checkScenario(app, collect, level, t, s, s.headers?.(t).traceparent ? TRACE : {});
      });

    it('@fastify/csrf-protection: a token that does not match; neither it nor the cookie reaches the response or the event', async () => {
      const issued = await send(app.origin, '/csrf/token');
      const cookie = issued.headers.getSetCookie()[0]!.split(';')[0]!;
      const token = (JSON.parse(issued.text) as { token: string }).token;
      const before = collect.events.length;
      const sent = await send(app.origin, '/csrf/submit', {
        method: 'POST',
        headers: { cookie, 'x-csrf-token': `${token.slice(0, -4)}0000` },
      });
      const expect = {
        status: 403 as const,
        cause: 'csrf' as const,
        title: 'CSRF check failed',
        instance: '/csrf/submit',
      };
      assertExplained(sent, level, expect);
      assertOneEvent(collect, before, {
        ...expectedEvent({
          name: '',
          method: 'POST',
          path: '/csrf/submit',
          expect,
          event: { route: '/csrf/submit', rule: '@fastify/csrf-protection: invalid csrf token' },
        }),
      });
      assertNoSecrets(sent, collect, [token, cookie.split('=')[1]!, ...Object.values(t)]);
      const ok = await send(app.origin, '/csrf/submit', { method: 'POST', headers: { cookie, 'x-csrf-token': token } });
      assert.deepEqual([ok.status, JSON.parse(ok.text)], [200, { ok: true }]);
      assert.equal(collect.events.length, before + 1);
    });

    it('allowed requests pass untouched and emit nothing', async () => {
      const before = collect.events.length;
      const orders = await send(app.origin, ORDERS, { headers: bearer(t.bob) });
      assert.deepEqual([orders.status, JSON.parse(orders.text)], [200, { orders: [] }]);
      assert.equal(orders.headers.get('content-type'), 'application/json; charset=utf-8');
      const admin = await send(app.origin, '/projects/p1', { headers: bearer(t.bob) });
      assert.deepEqual([admin.status, JSON.parse(admin.text)], [200, { ok: true }]);
      const read = await send(app.origin, '/casbin/reports', { headers: bearer(t.alice) });
      assert.deepEqual([read.status, JSON.parse(read.text)], [200, { ok: true }]);
      const own = await send(app.origin, '/docs/d1', { headers: bearer(t.bob) });
      assert.deepEqual([own.status, JSON.parse(own.text)], [200, { ok: true }]);
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

describe('why403/fastify behind a trusted proxy', () => {
  const collect = collector();
  let app: RunningApp;
  before(async () => {
    app = await startFastify({ disclosure: 'gap', collect, trustedProxies: [LOOPBACK] });
  });
  after(() => app.close());

  it('X-Forwarded-For from the trusted peer names the client: an allowed one passes', async () => {
    const sent = await send(app.origin, '/internal', { headers: { 'x-forwarded-for': '10.1.2.3' } });
    assert.deepEqual([sent.status, JSON.parse(sent.text)], [200, { ok: true }]);
    assert.equal(collect.events.length, 0);
  });

  it('and a client not allowed is denied under its own address, not the proxy’s', async () => {
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
