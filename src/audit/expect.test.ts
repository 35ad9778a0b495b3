import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expectFor, requirementNotes, type SecurityRequirement, type SecurityScheme } from './expect.ts';
import type { AuditIdentity, ExpectationReason } from './model.ts';

const schemes: Record<string, SecurityScheme> = {
  auth: { type: 'oauth2' },
  oidc: { type: 'openIdConnect', openIdConnectUrl: 'https://id.test/.well-known/openid-configuration' },
  bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
  basic: { type: 'http', scheme: 'basic' },
  digest: { type: 'http', scheme: 'Digest' },
  key: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
  session: { type: 'apiKey', in: 'cookie', name: 'sid' },
  queryKey: { type: 'apiKey', in: 'query', name: 'api_key' },
  mtls: { type: 'mutualTLS' },
};

function identity(name: string, headers: [string, string][], more: Partial<AuditIdentity> = {}): AuditIdentity {
  return {
    name,
    headers: headers.map(([n, value]) => ({ name: n, value })),
    scopes: [],
    roles: [],
    scopesFrom: 'none',
    rolesFrom: 'none',
    origin: '--identity',
    ...more,
  };
}

const anonymous = identity('anonymous', []);
const reader = identity('reader', [['Authorization', 'Bearer eyJreader.secret.sig']], {
  scopes: ['read:orders', 'read:invoices'],
  scopesFrom: 'token',
});
const opaque = identity('opaque', [['Authorization', 'Bearer opaque-secret-value']], { scopesFrom: 'unknown' });
const admin = identity('admin', [['authorization', 'bearer admin-secret-token']], {
  roles: ['admin', 'billing'],
  rolesFrom: 'declared',
});
const roleless = identity('guest', [['Authorization', 'Bearer guest-secret-token']], { rolesFrom: 'unknown' });
const basicUser = identity('basicUser', [['Authorization', 'Basic dXNlcjpwYXNzd29yZA==']]);
const digestUser = identity('digestUser', [['Authorization', 'digest username="u", response="r"']]);
const keyUser = identity('keyUser', [['X-Api-Key', 'k-secret-1234567890']]);
const cookieUser = identity('cookieUser', [['Cookie', 'theme=dark; sid=session-secret']]);
const wrongCookie = identity('wrongCookie', [['Cookie', 'xsid=session-secret']]);

type Case = [
  label: string,
  requirements: SecurityRequirement[] | undefined,
  who: AuditIdentity,
  version: '3.0' | '3.1',
  want: ExpectationReason,
];

const PUBLIC: ExpectationReason = { expected: 'allow', why: 'public: no security requirement' };

const cases: Case[] = [
  ['no requirement declared', undefined, anonymous, '3.0', PUBLIC],
  ['security: []', [], reader, '3.0', PUBLIC],
  ['an empty requirement object among others', [{ bearer: [] }, {}], anonymous, '3.0', PUBLIC],
  [
    'bearer held',
    [{ bearer: [] }],
    reader,
    '3.0',
    { expected: 'allow', why: 'needs a bearer credential ("bearer"); reader sends one' },
  ],
  [
    'bearer missing, nothing sent',
    [{ bearer: [] }],
    anonymous,
    '3.0',
    { expected: 'deny', why: 'needs a bearer credential ("bearer"); anonymous sends none' },
  ],
  [
    'basic is not bearer',
    [{ bearer: [] }],
    basicUser,
    '3.0',
    { expected: 'deny', why: 'needs a bearer credential ("bearer"); basicUser sends Authorization (Basic)' },
  ],
  [
    'basic held',
    [{ basic: [] }],
    basicUser,
    '3.0',
    { expected: 'allow', why: 'needs a Basic credential ("basic"); basicUser sends one' },
  ],
  [
    'bearer is not basic',
    [{ basic: [] }],
    reader,
    '3.0',
    { expected: 'deny', why: 'needs a Basic credential ("basic"); reader sends Authorization (Bearer)' },
  ],
  [
    'another http scheme, case-insensitive',
    [{ digest: [] }],
    digestUser,
    '3.0',
    { expected: 'allow', why: 'needs an Authorization Digest credential ("digest"); digestUser sends one' },
  ],
  [
    'oauth2 scopes held',
    [{ auth: ['read:orders'] }],
    reader,
    '3.0',
    {
      expected: 'allow',
      why: 'needs oauth2 "auth" with read:orders; reader holds read:orders, read:invoices',
      required: ['read:orders'],
    },
  ],
  [
    'oauth2 scope missing',
    [{ auth: ['write:orders'] }],
    reader,
    '3.0',
    {
      expected: 'deny',
      why: 'needs oauth2 "auth" with write:orders; reader holds read:orders, read:invoices',
      required: ['write:orders'],
    },
  ],
  [
    'oauth2 scopes unknown (opaque token)',
    [{ auth: ['read:orders'] }],
    opaque,
    '3.0',
    {
      expected: 'unknown',
      why: 'needs oauth2 "auth" with read:orders; opaque\'s scopes are unknown (the token is not a JWT): declare them with --scopes opaque=a,b',
      required: ['read:orders'],
    },
  ],
  [
    'oauth2 without scopes needs only the bearer token, even opaque',
    [{ auth: [] }],
    opaque,
    '3.0',
    { expected: 'allow', why: 'needs oauth2 "auth"; opaque sends one' },
  ],
  [
    'openIdConnect without a token',
    [{ oidc: ['openid'] }],
    anonymous,
    '3.1',
    { expected: 'deny', why: 'needs openIdConnect "oidc" with openid; anonymous sends none', required: ['openid'] },
  ],
  [
    'AND: both schemes needed, one missing',
    [{ bearer: [], key: [] }],
    reader,
    '3.0',
    {
      expected: 'deny',
      why: 'needs a bearer credential ("bearer") and the X-API-Key header ("key"); reader sends Authorization (Bearer)',
    },
  ],
  [
    'OR: the second requirement is met',
    [{ auth: ['write:orders'] }, { key: [] }],
    keyUser,
    '3.0',
    { expected: 'allow', why: 'needs the X-API-Key header ("key"); keyUser sends one' },
  ],
  [
    'OR: none met, the closest named',
    [{ auth: ['write:orders', 'admin'] }, { auth: ['write:orders'] }],
    reader,
    '3.0',
    {
      expected: 'deny',
      why: 'needs oauth2 "auth" with write:orders; reader holds read:orders, read:invoices (the closest of 2 alternative requirements, none met)',
      required: ['write:orders'],
    },
  ],
  [
    'OR: unknown beats deny',
    [{ key: [] }, { queryKey: [] }],
    reader,
    '3.0',
    {
      expected: 'unknown',
      why: 'needs the api_key query parameter ("queryKey"); a query parameter is not a header: whether reader holds it is unknown (the closest of 2 alternative requirements)',
    },
  ],
  [
    'a scheme not defined',
    [{ nope: [] }],
    reader,
    '3.0',
    {
      expected: 'unknown',
      why: 'needs "nope" (not defined in components.securitySchemes); the scheme is not defined, so what it needs is unknown',
    },
  ],
  [
    '3.1 roles held',
    [{ bearer: ['admin'] }],
    admin,
    '3.1',
    {
      expected: 'allow',
      why: 'needs a bearer credential ("bearer") with role admin; admin holds roles admin, billing',
      required: ['admin'],
    },
  ],
  [
    '3.1 role missing',
    [{ bearer: ['auditor', 'admin'] }],
    admin,
    '3.1',
    {
      expected: 'deny',
      why: 'needs a bearer credential ("bearer") with roles auditor, admin; admin holds roles admin, billing',
      required: ['auditor', 'admin'],
    },
  ],
  [
    '3.1 roles unknown',
    [{ bearer: ['admin'] }],
    roleless,
    '3.1',
    {
      expected: 'unknown',
      why: 'needs a bearer credential ("bearer") with role admin; guest\'s roles are unknown: declare them with --roles guest=a,b',
      required: ['admin'],
    },
  ],
  [
    '3.0 ignores roles beside a bearer scheme',
    [{ bearer: ['admin'] }],
    roleless,
    '3.0',
    { expected: 'allow', why: 'needs a bearer credential ("bearer"); guest sends one' },
  ],
  [
    'apiKey header held (name case-insensitive)',
    [{ key: [] }],
    keyUser,
    '3.0',
    { expected: 'allow', why: 'needs the X-API-Key header ("key"); keyUser sends one' },
  ],
  [
    'apiKey header missing',
    [{ key: [] }],
    cookieUser,
    '3.0',
    { expected: 'deny', why: 'needs the X-API-Key header ("key"); cookieUser sends Cookie' },
  ],
  [
    'apiKey cookie held',
    [{ session: [] }],
    cookieUser,
    '3.0',
    { expected: 'allow', why: 'needs the sid cookie ("session"); cookieUser sends one' },
  ],
  [
    'apiKey cookie: another cookie whose name ends the same',
    [{ session: [] }],
    wrongCookie,
    '3.0',
    { expected: 'deny', why: 'needs the sid cookie ("session"); wrongCookie sends Cookie' },
  ],
  [
    'apiKey query: unknown with a credential',
    [{ queryKey: [] }],
    keyUser,
    '3.0',
    {
      expected: 'unknown',
      why: 'needs the api_key query parameter ("queryKey"); a query parameter is not a header: whether keyUser holds it is unknown',
    },
  ],
  [
    'apiKey query: denied with no credential at all',
    [{ queryKey: [] }],
    anonymous,
    '3.0',
    { expected: 'deny', why: 'needs the api_key query parameter ("queryKey"); anonymous sends none' },
  ],
  [
    'mutualTLS is unknown',
    [{ mtls: [] }],
    reader,
    '3.1',
    {
      expected: 'unknown',
      why: 'needs a client certificate ("mtls"); a client certificate is not a header: whether reader holds one is unknown',
    },
  ],
];

for (const [label, requirements, who, version, want] of cases)
  test(`expectFor: ${label}`, () => {
    const got = expectFor(requirements, schemes, who, version);
    assert.deepEqual(got, want);
    for (const h of who.headers) assert.ok(!got.why.includes(h.value.split(' ').pop()!), 'no credential in why');
  });

test('requirementNotes: what the audit cannot judge, and 3.0 roles ignored', () => {
  assert.deepEqual(
    requirementNotes(
      [{ queryKey: [], mtls: [] }, { nope: [] }, { bearer: ['admin'] }, { auth: ['read'] }],
      schemes,
      '3.0',
    ),
    [
      'security scheme "queryKey" is an API key in the query: the audit cannot tell from headers who holds it',
      'security scheme "mtls" is mutualTLS: the audit cannot tell from headers who holds a client certificate',
      'security scheme "nope" is not defined in components.securitySchemes: its expectations are unknown',
      'security scheme "bearer" lists admin, which OpenAPI 3.0 allows only for oauth2 and openIdConnect: ignored',
    ],
  );
  assert.deepEqual(requirementNotes([{ bearer: ['admin'] }], schemes, '3.1'), []);
  assert.deepEqual(requirementNotes(undefined, schemes, '3.1'), []);
});
