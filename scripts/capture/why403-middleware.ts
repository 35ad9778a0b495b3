// Captures the why403 rule's fixtures: denials explained by why403's own
// middleware (src/middleware/web.ts), served by node:http on 127.0.0.1 with
// tokens verified by jose, each sent once with why403's own sendRequest.
//   node scripts/capture/why403-middleware.ts [--out DIR]
// Each route refuses for one cause, at the disclosure level its name says;
// the secret and the tokens are made for this run and thrown away.
import http from 'node:http';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SignJWT, jwtVerify } from 'jose';
import { sendRequest } from '../../src/live/send.ts';
import type { Exchange } from '../../src/model/exchange.ts';
import { allowClients, callerFromClaims, requireRole, requireScope, why403 } from '../../src/middleware/web.ts';
import type { Caller } from '../../src/middleware/guards.ts';
import { CAPTURE_USER_AGENT } from '../../test/servers/http.ts';
import { fixtureRequest, fixtureResponse, fixtureWriter } from './fixture-json.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const { values } = parseArgs({ options: { out: { type: 'string' } } });
const write = fixtureWriter(values.out ?? join(ROOT, 'src', 'rules'));

const secret = new TextEncoder().encode(crypto.randomUUID() + crypto.randomUUID());
const ISSUER = 'https://auth.capture.why403.test/';

/** The verified claims' caller, or why the token was refused. */
async function verify(req: Request): Promise<Caller | { refused: 'credential-expired' | 'credential-invalid' }> {
  const token = /^Bearer\s+(\S+)$/i.exec(req.headers.get('authorization') ?? '')?.[1];
  if (!token) return { scopes: [], roles: [] };
  try {
    return callerFromClaims((await jwtVerify(token, secret, { issuer: ISSUER })).payload);
  } catch (e) {
    return {
      refused: (e as { code?: string }).code === 'ERR_JWT_EXPIRED' ? 'credential-expired' : 'credential-invalid',
    };
  }
}

const caller = async (req: Request): Promise<Caller> => {
  const c = await verify(req);
  return 'refused' in c ? { scopes: [], roles: [] } : c;
};
const byLevel = {
  status: why403({ disclosure: 'status', caller }),
  cause: why403({ disclosure: 'cause', caller }),
  gap: why403({ disclosure: 'gap', caller, client: () => '192.0.2.10' }),
};
const ok = () => Response.json({ ok: true });

const routes: Record<string, (req: Request) => Promise<Response>> = {
  '/gap/orders': byLevel.gap.guard([requireScope('read:orders')], ok, { route: '/gap/orders' }),
  '/cause/admin': byLevel.cause.guard([requireRole('admin')], ok, { route: '/cause/admin' }),
  '/gap/internal': byLevel.gap.guard([allowClients(['10.0.0.0/8'])], ok, { route: '/gap/internal' }),
  '/cause/reports': async (req) => {
    const c = await verify(req);
    if ('refused' in c)
      return byLevel.cause.deny(req, { cause: c.refused, scheme: 'Bearer' }, { route: '/cause/reports' });
    return ok();
  },
  '/status/orders': byLevel.status.guard([requireScope('read:orders')], ok, { route: '/status/orders' }),
};

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const route = routes[url.pathname];
  const headers = new Headers();
  for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v);
  const response = route
    ? await route(new Request(`http://127.0.0.1${url.pathname}${url.search}`, { method: req.method, headers }))
    : new Response('not found', { status: 404 });
  res.writeHead(response.status, Object.fromEntries(response.headers));
  res.end(Buffer.from(await response.arrayBuffer()));
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;

const token = (claims: Record<string, unknown>, exp = '10m') =>
  new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer(ISSUER)
    .setSubject('alice')
    .setIssuedAt()
    .setExpirationTime(exp)
    .sign(secret);

async function send(path: string, bearer?: string): Promise<Exchange> {
  const headers = [
    { name: 'User-Agent', value: CAPTURE_USER_AGENT },
    { name: 'Accept', value: 'application/json' },
    ...(bearer ? [{ name: 'Authorization', value: `Bearer ${bearer}` }] : []),
  ];
  return sendRequest(
    { method: 'GET', url: `${base}${path}`, httpVersion: 'HTTP/1.1', headers },
    { env: {}, followRedirects: false, timeoutMs: 10_000 },
  );
}

const versions = `why403 middleware (src/middleware/web.ts) served by node:http, jose ${
  (await import('jose/package.json', { with: { type: 'json' } }).catch(() => ({ default: { version: '?' } }))).default
    .version
} on Node ${process.versions.node}`;

const cases: { name: string; cause: string; path: string; bearer?: string; note: string }[] = [
  {
    name: 'insufficient-scope-gap.json',
    cause: 'insufficient-scope',
    path: '/gap/orders',
    bearer: await token({ scope: 'read:invoices' }),
    note: "requireScope('read:orders') at disclosure gap; the token holds read:invoices",
  },
  {
    name: 'insufficient-role-cause.json',
    cause: 'insufficient-role',
    path: '/cause/admin',
    bearer: await token({ scope: 'read:orders', roles: ['user'] }),
    note: "requireRole('admin') at disclosure cause; the token's roles: user",
  },
  {
    name: 'credential-missing-gap.json',
    cause: 'credential-missing',
    path: '/gap/orders',
    note: "requireScope('read:orders') at disclosure gap; no Authorization header",
  },
  {
    name: 'credential-expired-cause.json',
    cause: 'credential-expired',
    path: '/cause/reports',
    bearer: await token({ scope: 'read:reports' }, '-5m'),
    note: 'the handler verifies with jose (ERR_JWT_EXPIRED) and denies credential-expired with the Bearer scheme, disclosure cause',
  },
  {
    name: 'ip-restricted-gap.json',
    cause: 'ip-restricted',
    path: '/gap/internal',
    bearer: await token({ scope: 'read:orders' }),
    note: "allowClients(['10.0.0.0/8']) at disclosure gap; the runtime gives the peer 192.0.2.10",
  },
];

for (const c of cases) {
  const ex = await send(c.path, c.bearer);
  write('why403', join('fixtures', c.name), {
    source: `captured: ${versions} on 127.0.0.1 by scripts/capture/why403-middleware.ts: ${c.note}`,
    label: { product: 'why403', layer: 'application', cause: c.cause },
    now: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    request: fixtureRequest(ex),
    response: fixtureResponse(ex),
  });
}
// The "status" disclosure says nothing: kept for the rule's test, as the document it must not claim.
const bare = await send('/status/orders', await token({ scope: 'read:invoices' }));
write(join('why403', 'not-claimed'), 'status-disclosure.json', {
  source: `captured: ${versions} on 127.0.0.1 by scripts/capture/why403-middleware.ts: requireScope('read:orders') at disclosure status; the token holds read:invoices`,
  label: { product: 'unknown', layer: 'application', cause: 'insufficient-scope' },
  now: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
  request: fixtureRequest(bare),
  response: fixtureResponse(bare),
});
server.close();
