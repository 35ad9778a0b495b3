import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseOpenApi, planFromOpenApi, readSpecText, type OpenApiPlanOptions } from './openapi.ts';
import type { AuditIdentity, AuditPlan } from './model.ts';
import { InputError } from '../errors.ts';

const fixture = (name: string) => join(import.meta.dirname, 'fixtures', name);
const load = (name: string) => parseOpenApi(readFileSync(fixture(name), 'utf8'), name);

const reader: AuditIdentity = {
  name: 'reader',
  headers: [{ name: 'Authorization', value: 'Bearer reader-secret-token' }],
  scopes: ['read:orders'],
  roles: [],
  scopesFrom: 'token',
  rolesFrom: 'none',
  origin: '--identity',
};
const anonymous: AuditIdentity = {
  name: 'anonymous',
  headers: [],
  scopes: [],
  roles: [],
  scopesFrom: 'none',
  rolesFrom: 'none',
  origin: 'anonymous',
};

function plan(name: string, o: Partial<OpenApiPlanOptions> = {}): AuditPlan {
  return planFromOpenApi(load(name), { name, params: {}, identities: [reader, anonymous], ...o });
}

const inputError = (message: string) => (err: unknown) => {
  assert.ok(err instanceof InputError, String(err));
  assert.equal(err.message, message);
  return true;
};

// ── parseOpenApi ───────────────────────────────────────────────────────────

test('parseOpenApi: YAML 3.0 and JSON 3.1', () => {
  const yaml = load('orders.yaml');
  assert.deepEqual([yaml.openapi, yaml.version, yaml.title], ['3.0.3', '3.0', 'Orders API']);
  const json = load('library.json');
  assert.deepEqual([json.openapi, json.version, json.title], ['3.1.0', '3.1', 'Library']);
  const later = parseOpenApi('openapi: 3.2.0\npaths: {}\n', 'later.yaml');
  assert.equal(later.version, '3.1');
  assert.deepEqual(
    planFromOpenApi(later, { name: 'later.yaml', baseUrl: 'http://h', params: {}, identities: [] }).notes,
    ['openapi 3.2.0 is read as 3.1', 'the document has no operations under paths'],
  );
});

test('parseOpenApi: Swagger 2.0 and other documents refused', () => {
  assert.throws(
    () => load('swagger.yaml'),
    inputError(
      'swagger.yaml: swagger: 2.0 is not supported: convert it to OpenAPI 3 first (for example with swagger2openapi or https://converter.swagger.io)',
    ),
  );
  assert.throws(
    () => parseOpenApi('info: {}\n', 'a.yaml'),
    inputError('a.yaml: is not an OpenAPI document: it has no `openapi: 3.x` field'),
  );
  assert.throws(
    () => parseOpenApi('{"openapi": "4.0.0"}', 'a.json'),
    inputError('a.json: openapi: 4.0.0 is not supported: the audit reads OpenAPI 3.0 and 3.1'),
  );
  assert.throws(
    () => parseOpenApi('[1, 2]', 'a.json'),
    inputError('a.json: is not an OpenAPI document: its root is not an object'),
  );
  assert.throws(
    () => parseOpenApi('openapi: [unclosed', 'a.yaml'),
    (err: unknown) => err instanceof InputError && err.message.startsWith('a.yaml: is neither JSON nor YAML: '),
  );
});

test('parseOpenApi: a YAML alias bomb is refused, not expanded', () => {
  const levels = ['a: &a [x, x, x, x, x, x, x, x, x]'];
  for (let i = 1; i < 9; i++) {
    const prev = String.fromCharCode(96 + i);
    const cur = String.fromCharCode(97 + i);
    levels.push(`${cur}: &${cur} [${Array(9).fill(`*${prev}`).join(', ')}]`);
  }
  assert.throws(
    () => parseOpenApi(`openapi: 3.1.0\n${levels.join('\n')}\n`, 'bomb.yaml'),
    inputError('bomb.yaml: uses YAML aliases past 100, a way to exhaust memory: refused'),
  );
});

// ── planFromOpenApi ────────────────────────────────────────────────────────

test('planFromOpenApi: every operation in order, base URL from servers with variable defaults', () => {
  const p = plan('orders.yaml');
  assert.deepEqual(p.source, { kind: 'openapi', name: 'orders.yaml', title: 'Orders API' });
  assert.equal(p.baseUrl, 'https://eu.orders.test/v1');
  assert.deepEqual(
    p.operations.map((o) => [o.id, o.method, o.url]),
    [
      ['listOrders', 'GET', 'https://eu.orders.test/v1/orders?limit=20'],
      ['createOrder', 'POST', 'https://eu.orders.test/v1/orders'],
      ['getOrder', 'GET', 'https://eu.orders.test/v1/orders/A%201%2F2'],
      ['DELETE /orders/{orderId}', 'DELETE', 'https://eu.orders.test/v1/orders/A%201%2F2'],
      ['health', 'GET', 'https://eu.orders.test/v1/health'],
      ['admin', 'GET', 'https://eu.orders.test/v1/admin'],
    ],
  );
  assert.deepEqual(p.skipped, [
    {
      id: 'replaceOrder',
      method: 'PUT',
      path: '/orders/{orderId}',
      reason: 'needs a request body and the spec gives no example',
    },
    {
      id: 'getItem',
      method: 'GET',
      path: '/orders/{orderId}/items/{itemId}',
      reason: 'no value for path parameter {itemId}; give --param itemId=…',
    },
    {
      id: 'reports',
      method: 'GET',
      path: '/reports',
      reason: "needs cookie parameter tenant, which the audit does not send apart from an identity's cookies",
    },
  ]);
  assert.deepEqual(p.notes, [
    'security scheme "key" lists admin, which OpenAPI 3.0 allows only for oauth2 and openIdConnect: ignored',
  ]);
  assert.deepEqual(p.identities, [reader, anonymous]);
});

test('planFromOpenApi: headers, body example, expectations', () => {
  const p = plan('orders.yaml');
  const op = (id: string) => p.operations.find((o) => o.id === id)!;
  assert.deepEqual(op('createOrder'), {
    id: 'createOrder',
    method: 'POST',
    path: '/orders',
    url: 'https://eu.orders.test/v1/orders',
    headers: [
      { name: 'Accept', value: 'application/json' },
      { name: 'Content-Type', value: 'application/json' },
    ],
    body: { mimeType: 'application/json', text: '{"item":"pen","quantity":2}' },
    expect: {
      reader: {
        expected: 'deny',
        why: 'needs oauth2 "auth" with write:orders; reader holds read:orders (the closest of 2 alternative requirements, none met)',
        required: ['write:orders'],
      },
      anonymous: {
        expected: 'deny',
        why: 'needs the X-API-Key header ("key"); anonymous sends none (the closest of 2 alternative requirements, none met)',
      },
    },
    deniedWhen: [],
  });
  assert.deepEqual(
    op('getOrder').headers,
    [{ name: 'Accept', value: 'application/hal+json' }],
    'Accept via a $ref response',
  );
  assert.deepEqual(op('getOrder').expect.reader, {
    expected: 'allow',
    why: 'needs oauth2 "auth" with read:orders; reader holds read:orders',
    required: ['read:orders'],
  });
  assert.deepEqual(
    op('health').headers,
    [{ name: 'X-Request-Id', value: 'audit-1' }],
    'a required header parameter with an example; Accept as a parameter is ignored',
  );
  assert.deepEqual(op('health').expect.anonymous, { expected: 'allow', why: 'public: no security requirement' });
  assert.equal(op('DELETE /orders/{orderId}').body, undefined);
});

test('planFromOpenApi: a parameter that carries a credential is never filled from the spec', () => {
  const spec = JSON.stringify({
    openapi: '3.0.3',
    info: { title: 't', version: '1' },
    servers: [{ url: 'https://keys.test' }],
    components: { securitySchemes: { key: { type: 'apiKey', in: 'header', name: 'X-Service-Key' } } },
    paths: {
      '/things': {
        get: {
          operationId: 'things',
          security: [{ key: [] }],
          parameters: [
            { name: 'X-Service-Key', in: 'header', required: true, example: 'example-key-0123456789' },
            { name: 'X-Api-Token', in: 'header', required: true, example: 'example-token-0123456789' },
            { name: 'api_key', in: 'query', required: true, example: 'example-query-key-0123' },
            { name: 'X-Request-Id', in: 'header', required: true, example: 'audit-1' },
          ],
          responses: { '200': { description: 'ok' } },
        },
      },
    },
  });
  const p = planFromOpenApi(parseOpenApi(spec, 'keys.json'), {
    name: 'keys.json',
    params: {},
    identities: [anonymous],
  });
  const op = p.operations[0]!;
  // Sent for every identity, the anonymous one included: only what is no credential.
  assert.deepEqual(op.headers, [{ name: 'X-Request-Id', value: 'audit-1' }]);
  assert.equal(op.url, 'https://keys.test/things');
});

test('planFromOpenApi: --param wins over the spec, names optional query parameters, fills missing ones', () => {
  const p = plan('orders.yaml', { params: { itemId: 'i 9', limit: '5', status: 'closed', orderId: 'o/1' } });
  assert.deepEqual(
    p.operations.map((o) => o.url),
    [
      'https://eu.orders.test/v1/orders?limit=5&status=closed',
      'https://eu.orders.test/v1/orders',
      'https://eu.orders.test/v1/orders/o%2F1',
      'https://eu.orders.test/v1/orders/o%2F1',
      'https://eu.orders.test/v1/orders/o%2F1/items/i%209',
      'https://eu.orders.test/v1/health',
      'https://eu.orders.test/v1/admin',
    ],
  );
  assert.deepEqual(
    p.skipped.map((s) => s.id),
    ['replaceOrder', 'reports'],
  );
});

test('planFromOpenApi: values from example, examples, schema examples, enum; operation parameters win', () => {
  const p = plan('library.json', { name: 'https://docs.test/spec/library.json' });
  assert.equal(p.baseUrl, 'https://docs.test/api', 'a relative server resolved against the document URL');
  assert.deepEqual(
    p.operations.map((o) => [o.id, o.url, o.headers, o.body]),
    [
      [
        'getBook',
        'https://docs.test/api/books/978-0?lang=en&ids=1&ids=2',
        [{ name: 'Accept', value: 'application/json' }],
        undefined,
      ],
      [
        'addShelf',
        'https://docs.test/api/shelves',
        [{ name: 'Content-Type', value: 'application/x-www-form-urlencoded' }],
        { mimeType: 'application/x-www-form-urlencoded', text: 'name=poetry&floor=2' },
      ],
      ['vault', 'https://docs.test/api/vault', [], undefined],
    ],
  );
  assert.deepEqual(p.operations[1].expect.reader, {
    expected: 'deny',
    why: 'needs a bearer credential ("bearer") with role librarian; reader holds no roles',
    required: ['librarian'],
  });
  assert.deepEqual(p.operations[2].expect.reader, {
    expected: 'unknown',
    why: 'needs a client certificate ("cert"); a client certificate is not a header: whether reader holds one is unknown',
  });
  assert.deepEqual(p.notes, [
    'security scheme "cert" is mutualTLS: the audit cannot tell from headers who holds a client certificate',
  ]);
});

test('planFromOpenApi: local $refs resolved; a cycle, another document and a dangling ref skip their operation', () => {
  const p = plan('refs.yaml');
  assert.equal(p.baseUrl, 'http://127.0.0.1:8080');
  assert.deepEqual(p.operations.length, 1);
  const [resolved] = p.operations;
  assert.equal(resolved.url, 'http://127.0.0.1:8080/resolved?page=1', 'parameter and example through $ref chains');
  assert.deepEqual(
    resolved.body,
    { mimeType: 'application/json', text: '{"text":"hello"}' },
    'schema example via $ref',
  );
  assert.deepEqual(resolved.expect.reader, {
    expected: 'deny',
    why: 'needs the X-Key header ("key"); reader sends Authorization (Bearer)',
  });
  const cycle =
    '$ref cycle: #/components/parameters/Loop1 → #/components/parameters/Loop2 → #/components/parameters/Loop1';
  const external =
    '$ref "common.yaml#/components/parameters/Page" points to another document, which the audit does not fetch';
  const dangling = '$ref "#/components/parameters/Nope" points to nothing in the document';
  assert.deepEqual(p.skipped, [
    { id: 'cycle', method: 'GET', path: '/cycle', reason: cycle },
    { id: 'external', method: 'GET', path: '/external', reason: external },
    { id: 'dangling', method: 'GET', path: '/dangling', reason: dangling },
  ]);
  assert.deepEqual(p.notes, [
    `GET /cycle: ${cycle}`,
    '$ref "common.yaml#/components/parameters/Page" not followed: the audit reads only the one document',
    `GET /dangling: ${dangling}`,
  ]);
});

test('planFromOpenApi: a $ref chain longer than 32 steps is not followed', () => {
  const parameters: Record<string, unknown> = { p40: { name: 'q', in: 'query', required: true, example: 1 } };
  for (let i = 0; i < 40; i++) parameters[`p${i}`] = { $ref: `#/components/parameters/p${i + 1}` };
  const doc = parseOpenApi(
    JSON.stringify({
      openapi: '3.0.3',
      paths: { '/deep': { get: { parameters: [{ $ref: '#/components/parameters/p0' }] } } },
      components: { parameters },
    }),
    'deep.json',
  );
  const p = planFromOpenApi(doc, { name: 'deep.json', baseUrl: 'http://h.test', params: {}, identities: [] });
  assert.deepEqual(p.skipped, [
    {
      id: 'GET /deep',
      method: 'GET',
      path: '/deep',
      reason: '$ref chain longer than 32 steps at "#/components/parameters/p32"',
    },
  ]);
});

test('planFromOpenApi: --base-url wins and keeps its path; a base URL that cannot be used is refused', () => {
  assert.equal(
    plan('orders.yaml', { baseUrl: 'http://127.0.0.1:9/api/v2/' }).operations[0].url,
    'http://127.0.0.1:9/api/v2/orders?limit=20',
  );
  assert.throws(
    () => plan('library.json'),
    inputError('library.json: servers[0].url "/api" is relative: give the base URL with --base-url'),
  );
  assert.throws(
    () => plan('orders.yaml', { baseUrl: 'ftp://h/' }),
    inputError('--base-url: the base URL "ftp://h/" is not an http(s) URL'),
  );
  const noDefault = parseOpenApi(
    'openapi: 3.0.0\nservers: [{url: "https://{tenant}.test", variables: {tenant: {enum: [a]}}}]\npaths: {}',
    'v.yaml',
  );
  assert.throws(
    () => planFromOpenApi(noDefault, { name: 'v.yaml', params: {}, identities: [] }),
    inputError('v.yaml: servers[0].url uses {tenant}, which has no default: give --base-url'),
  );
  const noServers = parseOpenApi('openapi: 3.0.0\npaths: {}', 'n.yaml');
  assert.throws(
    () => planFromOpenApi(noServers, { name: 'n.yaml', params: {}, identities: [] }),
    inputError('n.yaml: names no server (servers[0].url): give the base URL with --base-url'),
  );
});

test('planFromOpenApi: a value that names another host stays a path segment on the base origin', () => {
  const doc = parseOpenApi(
    JSON.stringify({
      openapi: '3.1.0',
      paths: { '/{next}': { get: { parameters: [{ name: 'next', in: 'path', required: true, example: 'x' }] } } },
    }),
    'o.json',
  );
  const p = planFromOpenApi(doc, {
    name: 'o.json',
    baseUrl: 'http://h.test',
    params: { next: '@evil.test' },
    identities: [],
  });
  assert.deepEqual(
    p.operations.map((o) => o.url),
    ['http://h.test/%40evil.test'],
  );
});

// ── readSpecText ───────────────────────────────────────────────────────────

test('readSpecText: a file, a missing file, a file over the bound', async () => {
  assert.equal(await readSpecText(fixture('swagger.yaml')), readFileSync(fixture('swagger.yaml'), 'utf8'));
  const dir = mkdtempSync(join(tmpdir(), 'why403-openapi-'));
  await assert.rejects(readSpecText(join(dir, 'none.yaml')), inputError(`${join(dir, 'none.yaml')}: no such file`));
  const big = join(dir, 'big.yaml');
  writeFileSync(big, 'x'.repeat(101));
  await assert.rejects(
    readSpecText(big, { maxBytes: 100 }),
    inputError(`${big}: is larger than 100 bytes, the most an OpenAPI document may be`),
  );
  writeFileSync(big, Buffer.from([0x6f, 0xff, 0xfe]));
  await assert.rejects(readSpecText(big), inputError(`${big}: is not UTF-8 text, so not an OpenAPI document`));
  await assert.rejects(readSpecText(dir), inputError(`${dir}: is not a regular file`));
  await assert.rejects(
    readSpecText('ftp://h.test/spec.yaml'),
    inputError('ftp://h.test/spec.yaml: only a file path or an http(s) URL can be read'),
  );
});

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(address && typeof address === 'object');
  return `http://127.0.0.1:${address.port}`;
}

test('readSpecText: an http URL, its redirects, a refusal, and bodies over the bound', async (t) => {
  const spec = readFileSync(fixture('orders.yaml'), 'utf8');
  const server = createServer((req, res) => {
    const url = req.url ?? '/';
    if (url === '/spec.yaml') return res.writeHead(200, { 'content-type': 'application/yaml' }).end(spec);
    if (url.startsWith('/hop/')) {
      const n = Number(url.slice(5));
      return res.writeHead(302, { location: n === 0 ? '/spec.yaml' : `/hop/${n - 1}` }).end();
    }
    if (url === '/declared-big') return res.writeHead(200, { 'content-length': '5000' }).end('x'.repeat(5000));
    if (url === '/streamed-big') {
      res.writeHead(200);
      for (let i = 0; i < 50; i++) res.write('x'.repeat(100));
      return res.end();
    }
    res.writeHead(403).end('no');
  });
  const base = await listen(server);
  t.after(() => server.close());
  assert.equal(await readSpecText(`${base}/spec.yaml`), spec);
  assert.equal(await readSpecText(`${base}/hop/4`), spec, 'five redirects are followed');
  await assert.rejects(readSpecText(`${base}/hop/5`), inputError(`${base}/hop/5: redirected more than 5 times`));
  await assert.rejects(
    readSpecText(`${base}/private?token=abcdefghijklmnopqrstuvwxyz`),
    (err: unknown) =>
      err instanceof InputError &&
      err.message.endsWith(': answered 403, not the document') &&
      !err.message.includes('abcdefghijklmnopqrstuvwxyz'),
  );
  await assert.rejects(
    readSpecText(`${base}/declared-big`, { maxBytes: 1000 }),
    inputError(`${base}/declared-big: is larger than 1000 bytes, the most an OpenAPI document may be`),
  );
  await assert.rejects(
    readSpecText(`${base}/streamed-big`, { maxBytes: 1000 }),
    inputError(`${base}/streamed-big: is larger than 1000 bytes, the most an OpenAPI document may be`),
  );
});

test('readSpecText: a server that never answers is given up on at the timeout', async (t) => {
  const server = createServer(() => {
    /* never answers */
  });
  const base = await listen(server);
  t.after(() => server.closeAllConnections());
  t.after(() => server.close());
  await assert.rejects(
    readSpecText(`${base}/slow`, { timeoutMs: 50 }),
    inputError(`${base}/slow: no complete answer within 50 ms`),
  );
});
