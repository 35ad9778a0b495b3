// why403/web in a real Hono app served by @hono/node-server on 127.0.0.1:
// the guarded handler takes Hono's raw Request and its Context, the client
// address comes from Hono's own getConnInfo, tokens are verified by Hono's
// jwt middleware (its verified payload read from the Context), and a denial
// decided in a handler goes through w.deny. Each response is diagnosed as
// why403's, with its cause and gap.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { Hono, type Context } from 'hono';
import { jwt, sign } from 'hono/jwt';
import { serve, type ServerType } from '@hono/node-server';
import { getConnInfo } from '@hono/node-server/conninfo';
import {
  allowClients,
  callerFromClaims,
  jsonLinesSink,
  requireRole,
  requireScope,
  why403,
  type DenialEvent,
} from '../../src/middleware/web.ts';
import { diagnose } from '../../src/diagnose.ts';
import type { Exchange } from '../../src/model/exchange.ts';

const secret = 'a throwaway secret for the Hono test, long enough';

describe('why403/web in a real Hono app (@hono/node-server on 127.0.0.1)', () => {
  const events: DenialEvent[] = [];
  const w = why403({
    disclosure: 'gap',
    sinks: [jsonLinesSink({ write: (line: string) => events.push(JSON.parse(line)) })],
    // Hono's jwt middleware leaves the verified payload on the Context.
    caller: (_req, c) => callerFromClaims((c as Context | undefined)?.get('jwtPayload')),
    client: (_req, c) => (c ? getConnInfo(c as Context).remote.address : undefined),
  });
  const app = new Hono();
  app.use('/api/*', jwt({ secret, alg: 'HS256' }));
  const listOrders = w.guard([requireScope('read:orders')], () => Response.json([{ id: 1001 }]), {
    route: '/api/orders',
  });
  const adminStats = w.guard([requireRole('admin')], () => Response.json({ users: 2 }), { route: '/api/admin' });
  const internal = w.guard([allowClients(['10.0.0.0/8'])], () => Response.json({ ok: true }), {
    route: '/api/internal',
  });
  app.get('/api/orders', (c) => listOrders(c.req.raw, c));
  app.get('/api/admin', (c) => adminStats(c.req.raw, c));
  app.get('/api/internal', (c) => internal(c.req.raw, c));
  app.get('/api/orders/:id', (c) =>
    c.req.param('id') === 'frozen'
      ? w.deny(
          c.req.raw,
          { cause: 'resource-state', resource: 'frozen', rule: 'order is frozen' },
          { route: '/api/orders/:id' },
          c,
        )
      : c.json({ id: c.req.param('id') }),
  );

  let server: ServerType;
  let base: string;
  before(async () => {
    server = await new Promise<ServerType>((resolve) => {
      const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  const now = () => Math.floor(Date.now() / 1000);
  const token = (claims: Record<string, unknown>) =>
    sign({ sub: 'alice', exp: now() + 300, ...claims }, secret, 'HS256');

  const call = async (path: string, bearer: string) => {
    events.length = 0;
    const headers = { authorization: `Bearer ${bearer}` };
    const res = await fetch(base + path, { headers });
    const text = await res.text();
    const exchange: Exchange = {
      request: { method: 'GET', url: base + path, headers: [{ name: 'Authorization', value: headers.authorization }] },
      response: {
        status: res.status,
        statusText: res.statusText,
        headers: [...res.headers].map(([name, value]) => ({ name, value })),
        content: { mimeType: res.headers.get('content-type') ?? '', text },
      },
      source: { kind: 'live', name: base + path },
    };
    return { status: res.status, body: JSON.parse(text), report: await diagnose(exchange), events: [...events] };
  };

  it('a scope the token lacks: explained, with the event, and diagnosed as why403 with the gap', async () => {
    const bearer = await token({ scope: 'read:invoices' });
    const r = await call('/api/orders', bearer);
    assert.equal(r.status, 403);
    assert.deepEqual(
      [r.body.cause, r.body.required, r.body.held],
      ['insufficient-scope', ['read:orders'], ['read:invoices']],
    );
    assert.deepEqual(
      [r.report.deniedBy?.product, r.report.causes[0]?.id, r.report.causes[0]?.gap],
      ['why403', 'insufficient-scope', { required: ['read:orders'], held: ['read:invoices'] }],
    );
    const { time: _time, ...event } = r.events[0]!;
    assert.deepEqual(event, {
      level: 40,
      msg: 'access denied: insufficient-scope',
      schema: 'why403/denial@1',
      principal: 'alice',
      method: 'GET',
      route: '/api/orders',
      cause: 'insufficient-scope',
      gap: { required: ['read:orders'], held: ['read:invoices'] },
      rule: 'scope read:orders',
      status: 403,
      client: '127.0.0.1',
    });
    assert.ok(!JSON.stringify(r.events).includes(bearer.split('.')[2]!), 'no token in the event');
  });

  it("a role, the client address from Hono's getConnInfo, and a handler's own denial", async () => {
    const bearer = await token({ scope: 'read:orders', roles: ['user'] });
    const role = await call('/api/admin', bearer);
    assert.deepEqual(
      [role.status, role.body.cause, role.report.causes[0]?.id],
      [403, 'insufficient-role', 'insufficient-role'],
    );
    const address = await call('/api/internal', bearer);
    assert.deepEqual([address.status, address.body.cause, address.body.held], [403, 'ip-restricted', ['127.0.0.1']]);
    const frozen = await call('/api/orders/frozen', bearer);
    assert.deepEqual(
      [frozen.status, frozen.body.cause, frozen.report.causes[0]?.id],
      [403, 'resource-state', 'resource-state'],
    );
    assert.deepEqual([frozen.events[0]!.resource, frozen.events[0]!.rule], ['frozen', 'order is frozen']);
    const allowed = await call('/api/orders/7', bearer);
    assert.deepEqual([allowed.status, allowed.body, allowed.events], [200, { id: '7' }, []]);
  });
});
