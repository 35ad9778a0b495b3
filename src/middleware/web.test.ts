// The core of the middleware through its Web-standard integration, served by
// node:http on 127.0.0.1 and called with fetch: the exact response at each
// disclosure level (status, WWW-Authenticate, problem document), the exact
// event, hiding with a 404, the trusted-proxy rule for the client address,
// and a sink that throws. The Express and Fastify integrations have their
// own suites (test/e2e/middleware-*.test.ts).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, jwtVerify } from 'jose';
import {
  allowClients,
  callerFromClaims,
  jsonLinesSink,
  requireOwner,
  requireRole,
  requireScope,
  why403,
  type DenialEvent,
} from './web.ts';
import type { Caller } from './guards.ts';
import { clientAddress, blockList } from './guards.ts';
import { explainDenial } from './denial.ts';

const secret = new TextEncoder().encode('a throwaway secret for these tests only!');
const token = (claims: Record<string, unknown>) =>
  new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setSubject('alice').setExpirationTime('5m').sign(secret);

const caller = async (req: Request): Promise<Caller> => {
  const t = /^Bearer (\S+)$/.exec(req.headers.get('authorization') ?? '')?.[1];
  return t ? callerFromClaims((await jwtVerify(t, secret)).payload) : { scopes: [], roles: [] };
};

describe('why403/web: explained denials and their events (node:http on 127.0.0.1)', () => {
  const events: DenialEvent[] = [];
  const sink = jsonLinesSink({ write: (line: string) => events.push(JSON.parse(line)) });
  const peer = { address: '127.0.0.1' };
  const mk = (disclosure: 'status' | 'cause' | 'gap') =>
    why403({
      disclosure,
      sinks: [sink],
      caller,
      client: () => peer.address,
      trustedProxies: ['10.0.0.0/8'],
    });
  const ok = () => Response.json({ ok: true });
  const routes: Record<string, (req: Request) => Promise<Response>> = {};
  for (const level of ['status', 'cause', 'gap'] as const) {
    const w = mk(level);
    routes[`/${level}/orders`] = w.guard([requireScope('read:orders')], ok, { route: '/:level/orders' });
    routes[`/${level}/admin`] = w.guard([requireRole('admin')], ok, { route: '/:level/admin' });
    routes[`/${level}/projects/p-7`] = w.guard([requireRole('admin')], ok, {
      route: '/:level/projects/:id',
      hide: true,
    });
    routes[`/${level}/internal`] = w.guard([allowClients(['192.0.2.0/24'])], ok, { route: '/:level/internal' });
    routes[`/${level}/notes/n-1`] = w.guard([requireOwner(() => 'bob', { resource: () => 'n-1' })], ok, {
      route: '/:level/notes/:id',
    });
    // No route template given.
    routes[`/${level}/reset/tok-0123456789secret`] = w.guard([requireRole('admin')], ok);
  }
  let server: http.Server;
  let base: string;
  before(async () => {
    server = http.createServer(async (req, res) => {
      const headers = new Headers();
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v);
      const route = routes[req.url ?? ''];
      const r = route
        ? await route(new Request(`http://127.0.0.1${req.url}`, { method: req.method, headers }))
        : new Response('', { status: 404 });
      res.writeHead(r.status, Object.fromEntries(r.headers));
      res.end(Buffer.from(await r.arrayBuffer()));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => server.close());

  const get = async (path: string, headers: Record<string, string> = {}) => {
    events.length = 0;
    const res = await fetch(base + path, { headers });
    return { status: res.status, headers: res.headers, body: await res.json(), events: [...events] };
  };
  const withoutTime = (e: DenialEvent) => {
    const { time, ...rest } = e;
    assert.ok(Math.abs(time - Date.now()) < 60_000, 'time is now, in epoch milliseconds');
    return rest;
  };

  it('insufficient scope at each disclosure level: RFC 6750 challenge and problem+json; the event has everything', async () => {
    const bearer = await token({ scope: 'read:invoices' });
    const auth = { authorization: `Bearer ${bearer}` };
    const status = await get('/status/orders', auth);
    assert.equal(status.status, 403);
    assert.equal(status.headers.get('content-type'), 'application/problem+json');
    assert.equal(status.headers.get('www-authenticate'), 'Bearer realm="api", error="insufficient_scope"');
    assert.deepEqual(status.body, { type: 'about:blank', title: 'Forbidden', status: 403, instance: '/status/orders' });
    const cause = await get('/cause/orders', auth);
    assert.equal(
      cause.headers.get('www-authenticate'),
      'Bearer realm="api", error="insufficient_scope", error_description="Insufficient scope"',
      'the required scope is the gap: not shown at "cause"',
    );
    assert.deepEqual(cause.body, {
      type: 'urn:why403:cause:insufficient-scope',
      title: 'Insufficient scope',
      status: 403,
      detail: 'The credential lacks an OAuth scope, an app permission or a token permission the operation needs.',
      instance: '/cause/orders',
      cause: 'insufficient-scope',
    });
    const gap = await get('/gap/orders', {
      ...auth,
      'x-request-id': 'req-42',
      traceparent: `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`,
    });
    assert.deepEqual(gap.body, {
      type: 'urn:why403:cause:insufficient-scope',
      title: 'Insufficient scope',
      status: 403,
      detail:
        'The credential lacks an OAuth scope, an app permission or a token permission the operation needs. Required: read:orders; held: read:invoices.',
      instance: '/gap/orders',
      requestId: 'req-42',
      cause: 'insufficient-scope',
      required: ['read:orders'],
      held: ['read:invoices'],
    });
    assert.deepEqual(gap.events.map(withoutTime), [
      {
        level: 40,
        msg: 'access denied: insufficient-scope',
        schema: 'why403/denial@1',
        principal: 'alice',
        method: 'GET',
        route: '/:level/orders',
        cause: 'insufficient-scope',
        gap: { required: ['read:orders'], held: ['read:invoices'] },
        rule: 'scope read:orders',
        status: 403,
        client: '127.0.0.1',
        requestId: 'req-42',
        traceId: 'a'.repeat(32),
        spanId: 'b'.repeat(16),
      },
    ]);
    // The token never reaches a response or an event.
    for (const r of [status, cause, gap]) assert.ok(!JSON.stringify(r).includes(bearer.split('.')[2]!));
  });

  it('no credential: 401 with a bare Bearer challenge (RFC 6750 §3.1: no error code)', async () => {
    const r = await get('/cause/orders');
    assert.equal(r.status, 401);
    assert.equal(r.headers.get('www-authenticate'), 'Bearer realm="api"');
    assert.equal(r.body.cause, 'credential-missing');
    assert.equal(r.events[0]!.principal, undefined);
  });

  it('a role, an owner: 403 with the gap; no challenge (not a bearer matter)', async () => {
    const auth = { authorization: `Bearer ${await token({ roles: ['user'] })}` };
    const role = await get('/gap/admin', auth);
    assert.equal(role.status, 403);
    assert.equal(role.headers.get('www-authenticate'), null);
    assert.deepEqual([role.body.cause, role.body.required, role.body.held], ['insufficient-role', ['admin'], ['user']]);
    const owner = await get('/gap/notes/n-1', auth);
    assert.deepEqual(
      [owner.body.cause, owner.body.required, owner.body.held],
      ['not-owner', ['owner bob'], ['principal alice']],
    );
    assert.equal(owner.events[0]!.resource, 'n-1');
  });

  it('hidden: the caller gets a bare 404; the event says what it really was', async () => {
    const r = await get('/gap/projects/p-7', { authorization: `Bearer ${await token({ roles: ['user'] })}` });
    assert.equal(r.status, 404);
    assert.deepEqual(r.body, { type: 'about:blank', title: 'Not Found', status: 404, instance: '/gap/projects/p-7' });
    assert.deepEqual(
      [r.events[0]!.status, r.events[0]!.deniedAs, r.events[0]!.hidden, r.events[0]!.cause],
      [404, 403, true, 'insufficient-role'],
    );
  });

  it('a guard given no route template leaves the event without a route: the path may hold ids or a token', async () => {
    const auth = { authorization: `Bearer ${await token({ roles: ['user'] })}` };
    const r = await get('/gap/reset/tok-0123456789secret', auth);
    assert.equal(r.status, 403);
    assert.equal(r.events.length, 1);
    assert.equal(r.events[0]!.route, undefined);
    assert.ok(!JSON.stringify(r.events).includes('tok-0123456789secret'));
  });

  it('client address: X-Forwarded-For is read only from a trusted proxy', async () => {
    peer.address = '198.51.100.7'; // not a trusted proxy: its X-Forwarded-For is the client's own claim
    const spoofed = await get('/gap/internal', { 'x-forwarded-for': '192.0.2.55' });
    assert.equal(spoofed.status, 403);
    assert.deepEqual(spoofed.body.held, ['198.51.100.7']);
    peer.address = '10.1.2.3'; // a trusted proxy: the hop before it is the client
    const proxied = await get('/gap/internal', { 'x-forwarded-for': '192.0.2.55' });
    assert.equal(proxied.status, 200);
    assert.equal(proxied.events.length, 0);
    peer.address = '127.0.0.1';
  });
});

describe('clientAddress and explainDenial', () => {
  const trusted = blockList(['10.0.0.0/8', '::1'], 'test');
  it('walks X-Forwarded-For from the right while the hops are trusted proxies', () => {
    assert.equal(clientAddress('10.0.0.1', '203.0.113.9, 10.0.0.2', trusted), '203.0.113.9');
    assert.equal(clientAddress('10.0.0.1', '6.6.6.6, 203.0.113.9, 10.0.0.2', trusted), '203.0.113.9');
    assert.equal(clientAddress('203.0.113.9', '10.0.0.5', trusted), '203.0.113.9');
    assert.equal(clientAddress('::ffff:10.0.0.1', ['198.51.100.1'], trusted), '198.51.100.1');
    assert.equal(clientAddress('10.0.0.1', 'not-an-ip, 10.0.0.3', trusted), '10.0.0.3');
    assert.equal(clientAddress('10.0.0.1', undefined, undefined), '10.0.0.1');
  });
  it('refuses a bad CIDR at start-up', () => {
    assert.throws(() => blockList(['10.0.0.0/33'], 'allowClients'), /no valid prefix length/);
    assert.throws(() => blockList(['example.com'], 'allowClients'), /not an IP address/);
  });
  it('a challenge parameter cannot be broken by what it quotes', () => {
    const r = explainDenial(
      { cause: 'insufficient-scope', scheme: 'Bearer', gap: { required: ['a"b\\c\r\nX-Evil: 1'], held: [] } },
      { disclosure: 'gap' },
    );
    assert.equal(
      r.headers['www-authenticate'],
      'Bearer realm="api", error="insufficient_scope", scope="a\\"b\\\\cX-Evil: 1", error_description="Insufficient scope"',
    );
  });
});

describe('a sink that throws', () => {
  it('does not fail the request; onSinkError hears it', async () => {
    const heard: unknown[] = [];
    const w = why403({
      sinks: [
        {
          emit: () => {
            throw new Error('disk full');
          },
        },
      ],
      onSinkError: (e) => heard.push(e),
    });
    const r = await w.deny(new Request('http://127.0.0.1/x'), { cause: 'csrf' });
    assert.equal(r.status, 403);
    assert.equal((heard[0] as Error).message, 'disk full');
  });
});
