// The audit's parts without a network: reading answers (classify), judging an
// operation's cells, the audit file and its schema, identities, and the
// baseline comparison. The whole command runs against a real Express API in
// test/e2e/audit.test.ts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SignJWT } from 'jose';
import { classify, type Answer } from './classify.ts';
import { judgeOperation, type Outcome } from './judge.ts';
import { parseAuditFile, identitySpecs, planFromFile, readAuditFile } from './file.ts';
import { grantsFromHeaders, parseGrantsArg, parseIdentityArg, resolveIdentities, shownIdentity } from './identities.ts';
import { compareWithBaseline, readBaseline } from './baseline.ts';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { auditBudget } from './run.ts';
import type { AuditCell, AuditIdentity, AuditOperation } from './model.ts';
import { InputError, UsageError } from '../errors.ts';

const json = (status: number, body: unknown, headers: Answer['headers'] = []): Answer => ({
  status,
  headers: [{ name: 'content-type', value: 'application/json' }, ...headers],
  body: { text: typeof body === 'string' ? body : JSON.stringify(body), mimeType: 'application/json' },
});
const html = (status: number, text: string): Answer => ({
  status,
  headers: [],
  body: { text, mimeType: 'text/html; charset=utf-8' },
});
const redirect = (status: number, location: string): Answer => ({
  status,
  headers: [{ name: 'location', value: location }],
});

describe('classify: what an answer was, for authorization', () => {
  const cases: [string, Answer, ReturnType<typeof classify>][] = [
    ['403', json(403, { error: 'x' }), { verdict: 'denied' }],
    ['401', { status: 401, headers: [] }, { verdict: 'denied' }],
    ['407', { status: 407, headers: [] }, { verdict: 'denied' }],
    ['404', json(404, {}), { verdict: 'not-found' }],
    ['410', json(410, {}), { verdict: 'not-found' }],
    ['429', json(429, {}), { verdict: 'rate-limited' }],
    ['500', json(500, {}), { verdict: 'error' }],
    ['405', json(405, {}), { verdict: 'error' }],
    ['a record', json(200, { id: 1, name: 'pen' }), { verdict: 'allowed' }],
    [
      '{"error":"forbidden"} in a 200',
      json(200, { error: 'forbidden' }),
      { verdict: 'denied-by-body', why: 'JSON error = "forbidden"' },
    ],
    [
      'success false with a message',
      json(200, { success: false, message: 'You are not authorized to view this page' }),
      { verdict: 'denied-by-body', why: 'JSON message = "You are not authorized to view this page"' },
    ],
    [
      'GraphQL errors[0].extensions is one level too deep; errors[0].message is read',
      json(200, { data: null, errors: [{ message: 'Access denied for field orders' }] }),
      { verdict: 'denied-by-body', why: 'JSON errors[0].message = "Access denied for field orders"' },
    ],
    [
      'a record that merely mentions forbidden in a nested field',
      json(200, { id: 7, audit: [{ message: 'forbidden' }] }),
      { verdict: 'allowed' },
    ],
    [
      'an error-shaped field that does not refuse',
      json(200, { error: null, message: 'Saved' }),
      { verdict: 'allowed' },
    ],
    [
      'a login form',
      html(200, '<html><form><input name="u"><input type="password" name="p"></form></html>'),
      { verdict: 'denied-by-body', why: 'a login form (a password field)' },
    ],
    [
      'a page titled Access Denied',
      html(200, '<html><head><title>Access Denied</title></head></html>'),
      { verdict: 'denied-by-body', why: 'the page title "Access Denied"' },
    ],
    ['an ordinary page', html(200, '<html><head><title>Orders</title></head></html>'), { verdict: 'allowed' }],
    [
      'a redirect to the login page',
      redirect(302, '/login?next=/admin'),
      { verdict: 'denied-by-body', why: 'redirect to /login' },
    ],
    [
      'a redirect to an identity provider',
      redirect(302, 'https://idp.example.com/oauth2/authorize?client_id=x'),
      { verdict: 'denied-by-body', why: 'redirect to /oauth2/authorize' },
    ],
    ['a redirect elsewhere', redirect(301, '/orders/'), { verdict: 'allowed' }],
    [
      'plain text refusal',
      { status: 200, headers: [], body: { text: 'Permission denied', mimeType: 'text/plain' } },
      { verdict: 'denied-by-body', why: 'the body says "Permission denied"' },
    ],
  ];
  for (const [name, answer, want] of cases) it(name, () => assert.deepEqual(classify(answer, []), want));

  it("the audit file's deniedWhen rules come first, each kind", () => {
    assert.deepEqual(classify(json(200, { status: 'ERR_ACL' }), [{ json: { path: 'status', equals: 'ERR_ACL' } }]), {
      verdict: 'denied-by-body',
      why: 'JSON status = "ERR_ACL"',
    });
    assert.deepEqual(classify(json(200, { a: { b: [0, false] } }), [{ json: { path: 'a.b.1', equals: false } }]), {
      verdict: 'denied-by-body',
      why: 'JSON a.b.1 = false',
    });
    assert.deepEqual(classify(html(200, '<p>Nope, NOT FOR YOU</p>'), [{ bodyContains: 'not for you' }]), {
      verdict: 'denied-by-body',
      why: 'the body contains "not for you"',
    });
    assert.deepEqual(classify(redirect(303, '/portal/welcome'), [{ redirectTo: '/portal' }]), {
      verdict: 'denied-by-body',
      why: 'redirect to /portal/welcome',
    });
    // A rule that does not match leaves the built-in reading.
    assert.deepEqual(classify(json(200, { ok: true }), [{ bodyContains: 'denied' }]), { verdict: 'allowed' });
  });

  it('a large body is a resource, not an error document', () => {
    const big = json(200, { error: 'forbidden', padding: 'x'.repeat(10_000) });
    assert.deepEqual(classify(big, []), { verdict: 'allowed' });
  });
});

const identity = (name: string, o: Partial<AuditIdentity> = {}): AuditIdentity => ({
  name,
  headers: name === 'anonymous' ? [] : [{ name: 'Authorization', value: `Bearer token-of-${name}` }],
  scopes: [],
  roles: [],
  scopesFrom: 'declared',
  rolesFrom: 'declared',
  origin: 'given',
  ...o,
});

const op = (expect: Record<string, 'allow' | 'deny' | 'unknown'>, required?: string[]): AuditOperation => ({
  id: 'getThing',
  method: 'GET',
  path: '/things/{id}',
  url: 'http://127.0.0.1:1/things/7',
  headers: [],
  expect: Object.fromEntries(
    Object.entries(expect).map(([k, v]) => [k, { expected: v, why: `${k} ${v}`, ...(required ? { required } : {}) }]),
  ),
  deniedWhen: [],
});

const answer = (a: Answer): Outcome => ({ kind: 'answer', answer: { ...a, statusText: '' }, ms: 3 });

describe('judgeOperation: each cell against its expectation', () => {
  const ids = [identity('anonymous'), identity('reader', { scopes: ['read'] }), identity('admin')];

  it('every cell holds: no finding', () => {
    const judged = judgeOperation(op({ anonymous: 'deny', reader: 'allow', admin: 'allow' }), ids, [
      answer({ status: 401, headers: [] }),
      answer(json(200, { id: 7 })),
      answer(json(200, { id: 7 })),
    ]);
    assert.deepEqual(
      judged.map((j) => [j.cell.verdict, j.cell.holds, j.finding?.kind]),
      [
        ['denied', true, undefined],
        ['allowed', true, undefined],
        ['allowed', true, undefined],
      ],
    );
  });

  it('allowed where a deny was expected is open; denied where allowed is a regression, with the gap', () => {
    const judged = judgeOperation(op({ anonymous: 'deny', reader: 'deny', admin: 'allow' }, ['admin:read']), ids, [
      answer({ status: 401, headers: [] }),
      answer(json(200, { id: 7 })),
      answer(json(403, { error: 'insufficient_scope' })),
    ]);
    const [, reader, admin] = judged;
    assert.equal(reader.finding?.kind, 'open');
    assert.equal(reader.finding?.severity, 'fail');
    assert.equal(reader.cell.holds, false);
    assert.equal(
      reader.finding?.summary,
      'reader was allowed (200) to GET /things/{id}, which it should not reach: broken access control',
    );
    assert.deepEqual(reader.finding?.gap, { required: ['admin:read'], held: ['read'] });
    assert.equal(reader.finding?.diagnose, undefined);
    assert.equal(admin.finding?.kind, 'regression');
    assert.equal(admin.finding?.diagnose?.readAs, undefined);
    assert.equal(admin.finding?.diagnose?.answer.kind, 'answer');
  });

  it('a 404 where another identity read the resource is hiding: a warning when a deny was expected', () => {
    const judged = judgeOperation(op({ anonymous: 'deny', reader: 'deny', admin: 'allow' }), ids, [
      answer({ status: 401, headers: [] }),
      answer(json(404, { error: 'not_found' })),
      answer(json(200, { id: 7 })),
    ]);
    const reader = judged[1];
    assert.equal(reader.cell.verdict, 'hidden');
    assert.equal(reader.cell.holds, true);
    assert.equal(reader.finding?.kind, 'hidden');
    assert.equal(reader.finding?.severity, 'warn');
    assert.equal(reader.finding?.diagnose?.readAs, 'answered 404 while admin read the same URL');
  });

  it('a 404 for everyone is not found: failing where an allow was expected, holding where a deny was', () => {
    const judged = judgeOperation(op({ anonymous: 'deny', reader: 'allow', admin: 'allow' }), ids, [
      answer(json(404, {})),
      answer(json(404, {})),
      answer(json(404, {})),
    ]);
    assert.deepEqual(
      judged.map((j) => [j.cell.verdict, j.cell.holds, j.finding?.kind]),
      [
        ['not-found', true, undefined],
        ['not-found', false, 'not-found'],
        ['not-found', false, 'not-found'],
      ],
    );
  });

  it('a refusal in a 200 is a denial: a warning when expected, a regression when not, never open', () => {
    const judged = judgeOperation(op({ anonymous: 'deny', reader: 'deny', admin: 'allow' }), ids, [
      answer(json(200, { error: 'forbidden' })),
      answer(json(200, { error: 'forbidden' })),
      answer(json(200, { error: 'forbidden' })),
    ]);
    assert.deepEqual(
      judged.map((j) => [j.cell.verdict, j.cell.holds, j.finding?.kind]),
      [
        ['denied-by-body', true, 'denied-with-success'],
        ['denied-by-body', true, 'denied-with-success'],
        ['denied-by-body', false, 'regression'],
      ],
    );
    assert.equal(judged[2].finding?.diagnose?.readAs, 'answered 200 but refused: JSON error = "forbidden"');
  });

  it('no answer, a 5xx, and unknown expectations', () => {
    const judged = judgeOperation(op({ anonymous: 'unknown', reader: 'allow', admin: 'deny' }), ids, [
      answer(json(200, {})),
      { kind: 'failure', error: 'connection refused', ms: 1 },
      answer(json(500, {})),
    ]);
    assert.deepEqual(
      judged.map((j) => [j.cell.verdict, j.cell.holds, j.finding?.kind, j.cell.status]),
      [
        ['allowed', null, undefined, 200],
        ['error', false, 'error', null],
        ['error', false, 'error', 500],
      ],
    );
    assert.equal(judged[1].finding?.error, 'connection refused');
  });
});

describe('the audit file', () => {
  const good = `
baseUrl: http://127.0.0.1:9/v1
identities:
  - name: anonymous
  - name: reader
    headers:
      Authorization: { env: READER, prefix: "Bearer " }
      Accept: application/json
    scopes: [read]
requests:
  - path: /orders
    expect: { allow: [reader] }
  - name: purge
    method: delete
    path: /orders
    expect: { deny: "*" }
    deniedWhen: [{ json: { path: error, equals: forbidden } }]
`;

  it('becomes a plan: URLs under the base URL, expectations for everyone, ids stable', async () => {
    const file = parseAuditFile(good, 'a.yaml');
    const identities = await resolveIdentities(
      identitySpecs(file),
      { scopes: new Map(), roles: new Map() },
      { READER: 'opaque-reader-token' },
    );
    assert.deepEqual(identities[1].headers, [
      { name: 'Authorization', value: 'Bearer opaque-reader-token' },
      { name: 'Accept', value: 'application/json' },
    ]);
    assert.deepEqual([identities[1].scopes, identities[1].scopesFrom], [['read'], 'declared']);
    const plan = planFromFile(file, { name: 'a.yaml', identities });
    assert.deepEqual(
      plan.operations.map((o) => [o.id, o.method, o.url, o.expect.anonymous.expected, o.expect.reader.expected]),
      [
        ['GET /orders', 'GET', 'http://127.0.0.1:9/v1/orders', 'deny', 'allow'],
        ['purge', 'DELETE', 'http://127.0.0.1:9/v1/orders', 'deny', 'deny'],
      ],
    );
    assert.deepEqual(plan.operations[1].deniedWhen, [{ json: { path: 'error', equals: 'forbidden' } }]);
    assert.deepEqual(auditBudget(plan, false), { cells: 4, requests: 2, unsafe: 0, skippedUnsafe: 2 });
    assert.deepEqual(auditBudget(plan, true), { cells: 4, requests: 4, unsafe: 2, skippedUnsafe: 0 });
  });

  const bad: [string, string, string][] = [
    ['not YAML', 'identities: [', 'a.yaml: is not valid YAML'],
    ['a list', '- 1', 'a.yaml: expected a mapping with identities and requests'],
    [
      'unknown field',
      'identities: [{name: a}]\nrequests: [{path: /, expect: {allow: "*"}}]\ncolour: red',
      'a.yaml: the file: unknown field "colour"',
    ],
    ['missing expect', 'identities: [{name: a}]\nrequests: [{path: /}]', 'a.yaml: requests[0]: missing "expect"'],
    [
      'both allow and deny',
      'identities: [{name: a}]\nrequests: [{path: /, expect: {allow: "*", deny: [a]}}]',
      'a.yaml: requests[0].expect: expected exactly one of its fields',
    ],
    [
      'a credential written in the file',
      'identities: [{name: a, headers: {Authorization: "Bearer abc"}}]\nrequests: [{path: /, expect: {allow: "*"}}]',
      'a.yaml: identities[0].headers.Authorization: a credential is not written in the audit file; give it as { env: VARIABLE } or { command: "…" }',
    ],
    [
      'a credential in a request, sent for every identity',
      'identities: [{name: a}]\nrequests: [{path: /, headers: {Authorization: "Bearer abc"}, expect: {allow: "*"}}]',
      'a.yaml: requests[0].headers.Authorization: a credential is sent by identities, not by a request; move it to an identity',
    ],
    [
      'an unknown identity in expect',
      'identities: [{name: a}]\nrequests: [{path: /, expect: {allow: [b]}}]',
      'a.yaml: requests[0].expect: no identity is named b',
    ],
    [
      'a name used twice',
      'identities: [{name: a}, {name: a}]\nrequests: [{path: /, expect: {allow: "*"}}]',
      'a.yaml: identities[1]: the name a is used twice',
    ],
    [
      'an alias bomb',
      'a: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]',
      'a.yaml: is not valid YAML',
    ],
  ];
  for (const [name, text, message] of bad)
    it(`refused with one line: ${name}`, () => {
      assert.throws(
        () => parseAuditFile(text, 'a.yaml'),
        (e: Error) => e instanceof InputError && e.message.startsWith(message) && !e.message.includes('\n'),
      );
    });

  it('a request outside the base URL origin is refused', () => {
    const file = parseAuditFile(
      'identities: [{name: a}]\nrequests: [{path: "https://elsewhere.example/x", expect: {allow: "*"}}]',
      'a.yaml',
    );
    assert.throws(
      () => planFromFile(file, { name: 'a.yaml', baseUrl: 'http://127.0.0.1:9', identities: [identity('a')] }),
      /every request goes to the base URL's origin/,
    );
  });

  it('a base URL that is not one, or has a query or fragment, is refused in one line; so are files that are not', async () => {
    const file = parseAuditFile('identities: [{name: a}]\nrequests: [{path: /x, expect: {allow: "*"}}]', 'a.yaml');
    const plan = (baseUrl: string) => () =>
      planFromFile(file, { name: 'a.yaml', baseUrl, identities: [identity('a')] });
    assert.throws(plan('http://[::1'), {
      name: 'InputError',
      message: '--base-url: the base URL "http://[::1" is not a valid absolute URL',
    });
    assert.throws(plan('http://h/?q=1#x'), /has a query or fragment/);
    await assert.rejects(readAuditFile('/dev/zero'), {
      name: 'InputError',
      message: '/dev/zero: is not a regular file',
    });
    await assert.rejects(readBaseline('/dev/zero'), {
      name: 'InputError',
      message: '/dev/zero: is not a regular file',
    });
    const dir = mkdtempSync(join(tmpdir(), 'why403-baseline-'));
    const bad = join(dir, 'b.json');
    writeFileSync(bad, JSON.stringify({ schema: 'why403/audit@1', cells: [null] }));
    await assert.rejects(readBaseline(bad), {
      name: 'InputError',
      message: `${bad}: cells[0]: expected an object with operation, identity and verdict (why403 audit --json)`,
    });
  });
});

describe('identities', () => {
  it('shown with every header value masked, whatever its name', () => {
    const shown = shownIdentity({
      name: 'svc',
      headers: [
        { name: 'X-Service-Pass', value: 'topsecretvalue99-0123456789' },
        { name: 'Authorization', value: 'Bearer abcdefghijklmnopqrstuvwxyz' },
      ],
      scopes: [],
      roles: [],
      scopesFrom: 'none',
      rolesFrom: 'none',
      origin: '--identity',
    });
    assert.equal(shown.credential, 'X-Service-Pass: topsec…(27 chars); Authorization: Bearer abcdef…(26 chars)');
  });

  it('--identity in its four forms', () => {
    assert.deepEqual(parseIdentityArg('reader=Authorization: Bearer abc'), {
      name: 'reader',
      headers: [{ name: 'Authorization', source: { kind: 'literal', value: 'Bearer abc' } }],
      from: '--identity reader',
    });
    assert.deepEqual(parseIdentityArg('ci=env:CI_TOKEN').headers, [{ source: { kind: 'env', variable: 'CI_TOKEN' } }]);
    assert.deepEqual(parseIdentityArg('bot=cmd:printf x').headers, [
      { source: { kind: 'command', command: 'printf x' } },
    ]);
    assert.deepEqual(parseIdentityArg('anonymous=').headers, []);
    assert.throws(() => parseIdentityArg('reader'), UsageError);
    assert.throws(() => parseIdentityArg('reader=just-a-token'), /expected 'Header-Name: value'/);
    assert.throws(() => parseIdentityArg('no space=env:X'), /is not an identity name/);
    assert.deepEqual(parseGrantsArg('reader=a,b c', '--scopes'), { name: 'reader', grants: ['a', 'b', 'c'] });
  });

  it('a bare token from env or a command is a bearer token; its JWT claims say what it holds', async () => {
    const secret = new TextEncoder().encode('k'.repeat(32));
    const jwt = await new SignJWT({ scope: 'read:orders write:orders', roles: ['user'] })
      .setProtectedHeader({ alg: 'HS256' })
      .sign(secret);
    const [fromEnv, fromCmd, anonymous] = await resolveIdentities(
      [
        parseIdentityArg('a=env:TOKEN_A'),
        parseIdentityArg("b=cmd:printf 'X-Api-Key: k-123456'"),
        parseIdentityArg('c='),
      ],
      { scopes: new Map([['b', ['keys:read']]]), roles: new Map() },
      { TOKEN_A: jwt, PATH: process.env.PATH },
    );
    assert.deepEqual(fromEnv.headers, [{ name: 'Authorization', value: `Bearer ${jwt}` }]);
    assert.deepEqual(
      [fromEnv.scopes, fromEnv.roles, fromEnv.scopesFrom],
      [['read:orders', 'write:orders'], ['user'], 'token'],
    );
    assert.deepEqual(fromCmd.headers, [{ name: 'X-Api-Key', value: 'k-123456' }]);
    assert.deepEqual([fromCmd.scopes, fromCmd.scopesFrom, fromCmd.rolesFrom], [['keys:read'], 'declared', 'unknown']);
    assert.deepEqual([anonymous.scopesFrom, anonymous.origin], ['none', 'no credential']);
    // What reports show: never the value.
    const shown = JSON.stringify([fromEnv, fromCmd].map(shownIdentity));
    assert.ok(!shown.includes(jwt.split('.')[2]) && !shown.includes('k-123456'), shown);
  });

  it('errors name the identity and what was expected', async () => {
    await assert.rejects(
      resolveIdentities([parseIdentityArg('a=env:NOPE')], { scopes: new Map(), roles: new Map() }, {}),
      { message: '--identity a: the environment variable NOPE is not set or empty' },
    );
    await assert.rejects(
      resolveIdentities([parseIdentityArg('a=')], { scopes: new Map([['b', ['x']]]), roles: new Map() }, {}),
      { message: '--scopes b=…: no identity is named b' },
    );
    await assert.rejects(
      resolveIdentities([parseIdentityArg('a='), parseIdentityArg('a=')], { scopes: new Map(), roles: new Map() }, {}),
      { message: '--identity a: the identity a is given twice' },
    );
  });

  it('grants: an opaque token is unknown, a JWT is read', () => {
    assert.equal(grantsFromHeaders([{ name: 'Authorization', value: 'Bearer opaque' }]).from, 'unknown');
    assert.equal(grantsFromHeaders([]).from, 'none');
  });
});

describe('baseline', () => {
  const cell = (operation: string, identity: string, verdict: AuditCell['verdict']): AuditCell => ({
    operation,
    identity,
    expected: 'allow',
    status: null,
    verdict,
    holds: null,
  });
  it('reports only what changed, by kind', () => {
    const before = {
      cells: [
        cell('a', 'x', 'denied'),
        cell('b', 'x', 'allowed'),
        cell('c', 'x', 'allowed'),
        cell('d', 'x', 'error'),
        cell('e', 'x', 'hidden'),
        cell('f', 'x', 'skipped'),
      ],
    };
    const after = {
      cells: [
        cell('a', 'x', 'allowed'),
        cell('b', 'x', 'denied-by-body'),
        cell('c', 'x', 'allowed'),
        cell('d', 'x', 'allowed'),
        cell('e', 'x', 'denied'),
        cell('f', 'x', 'allowed'),
        cell('new', 'x', 'allowed'),
      ],
    };
    assert.deepEqual(compareWithBaseline(before, after), [
      { operation: 'a', identity: 'x', before: 'denied', after: 'allowed', change: 'newly-open' },
      { operation: 'b', identity: 'x', before: 'allowed', after: 'denied-by-body', change: 'newly-denied' },
      { operation: 'd', identity: 'x', before: 'error', after: 'allowed', change: 'other' },
      { operation: 'e', identity: 'x', before: 'hidden', after: 'denied', change: 'other' },
    ]);
  });
});
