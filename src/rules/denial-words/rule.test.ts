import { test } from 'node:test';
import assert from 'node:assert/strict';
import rule from './rule.ts';
import { runRule, testRule, type ExtraCase } from '../_lib/tester.ts';
import { responseCase, unitCase } from '../_lib/unit-case.ts';
import { diagnoseWith } from '../../engine/diagnose.ts';
import { loadRules } from '../registry.ts';

/** The rule must claim these causes, strongest first; it never names a product. */
const says = (name: string, fixture: ExtraCase['fixture'], ...causes: string[]): ExtraCase => ({
  name,
  fixture,
  causes,
});
const json = (name: string, status: number, body: unknown, headers: Record<string, string> = {}) =>
  responseCase(name, status, { 'Content-Type': 'application/json', ...headers }, JSON.stringify(body));

testRule(rule, import.meta.dirname, [
  says(
    'plain text "… is not in the allow list" → ip-restricted',
    responseCase('allow', 403, { 'Content-Type': 'text/plain' }, 'Forbidden: 127.0.0.1 is not in the allow list'),
    'ip-restricted',
  ),
  says(
    '"IP … is not whitelisted" → ip-restricted',
    json('white', 403, { error: 'IP 203.0.113.9 is not whitelisted' }),
    'ip-restricted',
  ),
  says(
    '"You do not have permission to view this order" → insufficient-role',
    json('perm', 403, { message: 'You do not have permission to view this order' }),
    'insufficient-role',
  ),
  says(
    'a record that is locked → resource-state',
    json('locked', 403, { message: 'This record is locked by another user' }),
    'resource-state',
  ),
  says(
    'GraphQL errors[].extensions.code UNAUTHENTICATED → credential-missing',
    json('gql', 401, { errors: [{ message: 'Not signed in', extensions: { code: 'UNAUTHENTICATED' } }] }),
    'credential-missing',
  ),
  says(
    'a plan that does not include the feature → feature-disabled',
    json('plan', 403, { error: { type: 'plan_error', message: 'Your current plan does not include audit logs.' } }),
    'feature-disabled',
  ),
  says(
    'an HTML page: the words in its main text, not its navigation',
    responseCase(
      'html',
      403,
      { 'Content-Type': 'text/html' },
      '<html><head><title>Error</title><script>var csrf = 1;</script></head><body><nav>Home | Rate limits | Login</nav><main><h1>Access denied</h1><p>Your account has been suspended.</p></main></body></html>',
    ),
    'account-state',
    'insufficient-role',
  ),
  says(
    'a reason header: X-Denied-Reason',
    responseCase('hdr', 403, { 'X-Denied-Reason': 'token expired' }, ''),
    'credential-expired',
  ),
  says('a plain 403 with nothing in words claims nothing', responseCase('bare', 403, {}, 'Forbidden')),
  // RFC 9457 problem details are read like any error's words, their type URI's last segment included.
  says(
    'RFC 9457 §3 out-of-credit example, answered 403 → rate-limited (a quota)',
    json(
      'rfc9457',
      403,
      {
        type: 'https://example.com/probs/out-of-credit',
        title: 'You do not have enough credit.',
        detail: 'Your current balance is 30, but that costs 50.',
        instance: '/account/12345/msgs/abc',
        balance: 30,
      },
      { 'Content-Type': 'application/problem+json' },
    ),
    'rate-limited',
  ),
  says(
    'a problem type …/insufficient-scope → insufficient-scope',
    json('ptype', 403, { type: 'https://api.example.test/problems/insufficient-scope', status: 403 }),
    'insufficient-scope',
  ),
  says(
    'a problem detail "CSRF token missing or invalid" → csrf',
    json('pcsrf', 403, { title: 'Forbidden', status: 403, detail: 'CSRF token missing or invalid' }),
    'csrf',
  ),
]);

test('denial-words: a permission the words or a field name becomes the gap', () => {
  const named = runRule(rule, json('gap', 403, { message: 'The permission orders.view is required' }));
  assert.deepEqual(named?.causes?.[0].gap, { required: ['orders.view'], held: [] });
  const field = runRule(
    rule,
    json('field', 403, {
      error: 'forbidden',
      required_permission: 'invoices:write',
      granted_permissions: ['invoices:read'],
    }),
  );
  const role = field?.causes?.find((c) => c.id === 'insufficient-role');
  assert.deepEqual(role?.gap, { required: ['invoices:write'], held: ['invoices:read'] });
  const problemScopes = runRule(
    rule,
    json('pgap', 403, { title: 'Insufficient scope', status: 403, required_scopes: ['invoices:write'] }),
  );
  assert.deepEqual(problemScopes?.causes?.[0].gap, { required: ['invoices:write'], held: [] });
  const scopes = runRule(
    rule,
    json('scopes', 403, { message: 'token does not have at least one of required scope(s): [read:repository]' }),
  );
  assert.equal(scopes?.causes?.[0].id, 'insufficient-scope');
  assert.deepEqual(scopes?.causes?.[0].gap?.required, ['read:repository']);
  assert.ok(scopes?.causes?.[0].fixes?.[0].title.includes('read:repository'), 'the fix names the scope');
});

test('denial-words: the quoted words and where they were read are the evidence', () => {
  const out = runRule(rule, json('ev', 403, { errors: [{ detail: 'You do not have access to this project.' }] }));
  assert.equal(out?.causes?.[0].id, 'insufficient-role');
  assert.deepEqual(out?.causes?.[0].evidence, [
    { source: 'body:errors[0].detail', text: 'You do not have access to this project.' },
  ]);
  assert.match(out!.causes![0].summary, /“do not have access” \(body:errors\[0\]\.detail\)/);
});

test('denial-words: a request id or a link beside the message is not read as words', () => {
  const out = runRule(
    rule,
    json('ids', 403, {
      message: 'Forbidden',
      request_id: 'ABCDEF0123456789ABCD',
      documentation_url: 'https://example.com/cors',
    }),
  );
  assert.equal(out?.causes?.length ?? 0, 0);
});

test('denial-words stands aside when a product’s own rule explained the denial', async () => {
  const rules = await loadRules();
  // GitHub's own words for a missing scope: the github rule explains it; the fallback reading adds nothing.
  const exchange = unitCase('gh', {
    request: {
      method: 'GET',
      url: 'https://api.github.com/repos/o/r/hooks',
      headers: { Authorization: 'token ghp_REDACTED0123456789' },
    },
    response: {
      status: 403,
      headers: {
        'Content-Type': 'application/json',
        'X-GitHub-Request-Id': 'A:B:C',
        'X-Accepted-OAuth-Scopes': 'admin:repo_hook',
      },
      body: JSON.stringify({
        message: 'Must have admin rights to Repository.',
        documentation_url: 'https://docs.github.com/rest',
      }),
    },
  }).exchange;
  const report = diagnoseWith(rules, exchange);
  assert.equal(report.deniedBy?.product, 'github');
  assert.ok(
    report.causes.every((c) => !c.summary.startsWith('The response says so')),
    'no fallback claim is left',
  );
});

/** The cause a rule's output claims most strongly (claims come in the order the rule made them). */
const strongest = (out: ReturnType<typeof runRule>) =>
  [...(out?.causes ?? [])].sort((a, b) => b.weight - a.weight)[0]?.id;

test('denial-words: "not logged in" to a request that carried a credential says the server did not take it', () => {
  const withBasic = unitCase('notTaken', {
    request: {
      method: 'GET',
      url: 'https://api.example.test/users',
      headers: { Authorization: 'Basic dXNlcjp3cm9uZw==' },
    },
    response: { status: 401, headers: { 'Content-Type': 'text/plain' }, body: 'Current user is not logged in' },
  });
  const out = runRule(rule, withBasic);
  const weight = (id: string) => out?.causes?.find((c) => c.id === id)?.weight ?? 0;
  assert.ok(weight('credential-invalid') > weight('credential-missing'), JSON.stringify(out?.causes));
  const notTaken = out?.causes?.find((c) => c.id === 'credential-invalid');
  assert.match(notTaken!.summary, /carried one \(header:authorization\)/);
  // Nothing sent: the words stand as they are.
  const nothing = runRule(
    rule,
    responseCase('nothing', 401, { 'Content-Type': 'text/plain' }, 'Current user is not logged in'),
  );
  assert.deepEqual(
    nothing?.causes?.map((c) => c.id),
    ['credential-missing'],
  );
  // A line that says what was wrong with the key has said it: no second reading.
  const env = runRule(
    rule,
    unitCase('env', {
      request: { method: 'GET', url: 'https://api.example.test/x', headers: { 'Api-Key': 'k-0123456789abcdef0123' } },
      response: {
        status: 401,
        headers: { 'Content-Type': 'text/plain' },
        body: 'API key is missing or invalid for the environment "us-west1-gcp".',
      },
    }),
  );
  assert.equal(strongest(env), 'wrong-audience');
  assert.ok(!env?.causes?.some((c) => c.summary.includes('did not take it')));
});

test('denial-words: a narrower reading on the same line outranks a bare refusal of permission', () => {
  const out = runRule(
    rule,
    json('field', 403, {
      errors: [{ detail: 'The current user is not allowed to POST the selected field (status).' }],
    }),
  );
  assert.equal(strongest(out), 'field-restricted', JSON.stringify(out?.causes?.map((c) => [c.id, c.weight])));
  // Alone, the refusal keeps its weight.
  const alone = runRule(rule, json('alone', 403, { detail: 'The current user is not allowed to do this.' }));
  assert.equal(strongest(alone), 'insufficient-role');
  assert.equal(alone?.causes?.[0].weight, 0.6);
});

test('denial-words: a user not registered with the application lacks its membership', () => {
  const out = runRule(
    rule,
    responseCase('reg', 403, { 'Content-Type': 'text/plain' }, 'User not registered in the Developer Dashboard'),
  );
  assert.equal(strongest(out), 'insufficient-role');
});

test('denial-words: on a 401, a bare "not authorized" speaks of the credential more than of a grant', () => {
  const on401 = runRule(rule, json('401', 401, { message: 'You are not authorized to view this page' }));
  const on403 = runRule(rule, json('403', 403, { message: 'You are not authorized to view this page' }));
  const role = (out: ReturnType<typeof runRule>) => out?.causes?.find((c) => c.id === 'insufficient-role')?.weight;
  assert.equal(role(on403), 0.6);
  assert.equal(role(on401), 0.36);
  // A grant named is a grant, whatever the status.
  const named = runRule(rule, json('named', 401, { message: 'The permission orders.view is required' }));
  assert.equal(role(named), 0.6);
});

test('denial-words: words about a JWT, to a bearer token that is not one, say the server expected another credential', () => {
  const call = (token: string) =>
    runRule(
      rule,
      unitCase('jwt', {
        request: {
          method: 'GET',
          url: 'https://api.example.test/stacks',
          headers: { Authorization: `Bearer ${token}` },
        },
        response: {
          status: 401,
          headers: { 'Content-Type': 'application/json' },
          body: '{"message":"Invalid JWT token"}',
        },
      }),
    );
  const opaque = call('ptr_0123456789abcdef0123456789');
  assert.equal(opaque?.causes?.find((c) => c.id === 'credential-malformed')?.weight, 0.65);
  const jwt = call('eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1In0.c2lnbmF0dXJl');
  assert.ok(!jwt?.causes?.some((c) => c.id === 'credential-malformed'), 'a JWT sent is a JWT');
});

test('denial-words: "requires basic auth" asks for a credential', () => {
  const out = runRule(rule, json('basic', 401, { message: 'CORS requires basic auth' }));
  assert.ok(out?.causes?.some((c) => c.id === 'credential-missing' && c.weight === 0.6));
});

test('denial-words: "missing or invalid" is invalid when a credential came, missing when none did', async () => {
  const words = 'Provided credentials are missing or invalid';
  const sent = runRule(
    rule,
    unitCase('sent', {
      request: {
        method: 'GET',
        url: 'https://api.example.test/x',
        headers: { 'Service-Key': 'k-0123456789abcdef0123' },
      },
      response: { status: 401, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ msg: words }) },
    }),
  );
  assert.equal(strongest(sent), 'credential-invalid', JSON.stringify(sent?.causes?.map((c) => [c.id, c.weight])));
  // With nothing sent, both readings stand in the words; what the request carried (request-context) settles it.
  const none = diagnoseWith(
    await loadRules(),
    unitCase('none', {
      request: { method: 'GET', url: 'https://api.example.test/x', headers: {} },
      response: { status: 401, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ msg: words }) },
    }).exchange,
  );
  assert.equal(none.causes[0].id, 'credential-missing');
});

test('denial-words: a credential that "expired at" a time, however it is named, has expired', () => {
  const out = runRule(rule, json('at', 401, { msg: 'Token 3RiIwJRqEEsoS2dUrtX24f expired at 2019-05-01T09:00:00Z' }));
  assert.equal(strongest(out), 'credential-expired');
  assert.match(out!.causes!.find((c) => c.id === 'credential-expired')!.evidence[0].text, /expired at/);
});

test('denial-words: a request disallowed by a policy met an explicit deny', () => {
  const out = runRule(
    rule,
    json('policy', 403, {
      error: {
        code: 'RequestDisallowedByPolicy',
        message: "Resource 'web' was disallowed by policy. Policy identifiers: 'allowed-locations'.",
      },
    }),
  );
  assert.equal(strongest(out), 'explicit-deny');
});

test('denial-words: a status code that only names the refusal gives way to the message that says why', () => {
  const out = runRule(
    rule,
    json('genus', 403, {
      error: {
        code: 403,
        message: 'The service is disabled for this project; enable it first.',
        status: 'PERMISSION_DENIED',
      },
    }),
  );
  const weight = (id: string) => out?.causes?.find((c) => c.id === id)?.weight ?? 0;
  assert.equal(strongest(out), 'feature-disabled', JSON.stringify(out?.causes?.map((c) => [c.id, c.weight])));
  assert.ok(weight('insufficient-role') > 0 && weight('insufficient-role') < weight('feature-disabled'));
  // The code alone still speaks.
  assert.equal(strongest(runRule(rule, json('alone', 403, { status: 'PERMISSION_DENIED' }))), 'insufficient-role');
});

test('denial-words: a 403 that calls the credential wrong keeps "issued for another place" open below it', () => {
  const fx = (status: number) =>
    unitCase('wrong', {
      request: {
        method: 'PUT',
        url: 'https://s3.eu.example.test/b/k',
        headers: { 'X-Api-Key': 'k-0123456789abcdef0123' },
      },
      response: { status, headers: { 'Content-Type': 'application/json' }, body: '{"message":"Invalid API key"}' },
    });
  const out = runRule(rule, fx(403));
  const weight = (id: string) => out?.causes?.find((c) => c.id === id)?.weight ?? 0;
  assert.ok(weight('wrong-audience') > 0 && weight('wrong-audience') < weight('credential-invalid'));
  assert.match(out!.causes!.find((c) => c.id === 'wrong-audience')!.summary, /s3\.eu\.example\.test may not be/);
  // On a 401 the refusal is request-context's to weigh; the words rule does not say it twice.
  assert.ok(!runRule(rule, fx(401))?.causes?.some((c) => c.id === 'wrong-audience'));
});

test('denial-words: a bare refusal to an authenticated request keeps a wrong path open below it', () => {
  const fx = (body: unknown, headers: Record<string, string>, status = 403) =>
    unitCase('path', {
      request: { method: 'GET', url: 'https://api.example.test/v1/colections/7', headers },
      response: { status, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) },
    });
  const weight = (out: ReturnType<typeof runRule>, id: string) => out?.causes?.find((c) => c.id === id)?.weight ?? 0;
  const bare = runRule(rule, fx({ error: 'permission denied' }, { Authorization: 'Bearer opaque-0123456789abcdef' }));
  assert.ok(weight(bare, 'wrong-endpoint') > 0 && weight(bare, 'wrong-endpoint') < weight(bare, 'insufficient-role'));
  assert.match(bare!.causes!.find((c) => c.id === 'wrong-endpoint')!.summary, /api\.example\.test\/v1\/colections\/7/);
  // Not when the words say more, when nothing was sent, or on a 401.
  const narrower = runRule(
    rule,
    fx(
      { error: 'permission denied: your plan does not include exports' },
      { Authorization: 'Bearer opaque-0123456789abcdef' },
    ),
  );
  assert.equal(weight(narrower, 'wrong-endpoint'), 0);
  assert.equal(weight(runRule(rule, fx({ error: 'permission denied' }, {})), 'wrong-endpoint'), 0);
  const on401 = runRule(
    rule,
    fx({ error: 'permission denied' }, { Authorization: 'Bearer opaque-0123456789abcdef' }, 401),
  );
  assert.equal(weight(on401, 'wrong-endpoint'), 0);
});

test('denial-words: "no credential" to a request that carried one keeps the wrong form open beside the refusal', () => {
  const out = runRule(
    rule,
    unitCase('form', {
      request: {
        method: 'GET',
        url: 'https://api.example.test/x',
        headers: { Authorization: 'Bearer ptr_0123456789abcdef' },
      },
      response: {
        status: 401,
        headers: { 'Content-Type': 'application/json' },
        body: '{"message":"A valid authorisation token is missing"}',
      },
    }),
  );
  const form = out?.causes?.find((c) => c.id === 'credential-malformed');
  assert.equal(form?.message, 'notTakenForm');
  assert.ok(form!.weight < (out?.causes?.find((c) => c.id === 'credential-invalid')?.weight ?? 0));
});

test('denial-words: a stock 403 page’s sentence about permission is boilerplate, not a role', () => {
  const stock = runRule(
    rule,
    responseCase(
      'stock',
      403,
      { 'Content-Type': 'text/html' },
      '<html><head><title>403 Forbidden</title></head><body><h1>Forbidden</h1><p>You don’t have permission to access this resource.</p></body></html>',
    ),
  );
  assert.ok((stock?.causes?.find((c) => c.id === 'insufficient-role')?.weight ?? 0) <= 0.15);
  // The same sentence in an application's JSON keeps its weight.
  const app = runRule(rule, json('app', 403, { message: 'You don’t have permission to access this resource.' }));
  assert.equal(app?.causes?.find((c) => c.id === 'insufficient-role')?.weight, 0.6);
});

test('denial-words: the default words of common auth libraries (each from the library’s source)', () => {
  const cases: [string, ExtraCase['fixture'], string][] = [
    // koa-jwt lib/resolvers/auth-header.js
    [
      'credential-malformed',
      responseCase(
        'koa',
        401,
        { 'Content-Type': 'text/plain' },
        'Bad Authorization header format. Format is "Authorization: Bearer <token>"',
      ),
      'koa-jwt',
    ],
    // appleboy/gin-jwt auth_jwt.go ErrInvalidAuthHeader
    ['credential-malformed', json('gin', 401, { code: 401, message: 'auth header is invalid' }), 'gin-jwt'],
    // PostgREST src/PostgREST/Error.hs (JwtError)
    [
      'credential-malformed',
      json('pgrst', 401, { code: 'PGRST301', details: null, hint: null, message: 'Expected 3 parts in JWT; got 1' }),
      'PostgREST',
    ],
    ['clock-skew', json('iat', 401, { code: 'PGRST303', message: 'JWT issued at future' }), 'PostgREST'],
    // jsonwebtoken NotBeforeError, as express-jwt passes it on
    [
      'credential-not-yet-valid',
      responseCase('nbf', 401, { 'Content-Type': 'text/plain' }, 'jwt not active'),
      'jsonwebtoken',
    ],
    // flask-jwt-extended default_callbacks.py
    ['conditional-access', json('fresh', 401, { msg: 'Fresh token required' }), 'Flask-JWT-Extended'],
    // spring-security core messages.properties (AbstractUserDetailsAuthenticationProvider.expired)
    [
      'account-state',
      json('acct', 401, { status: 401, error: 'Unauthorized', message: 'User account has expired' }),
      'Spring Security',
    ],
    // symfony security.en.xlf (login throttling)
    [
      'rate-limited',
      responseCase(
        'throttle',
        401,
        { 'Content-Type': 'text/plain' },
        'Too many failed login attempts, please try again later.',
      ),
      'Symfony',
    ],
  ];
  for (const [cause, fixture, library] of cases)
    assert.equal(strongest(runRule(rule, fixture)), cause, `${library}: ${fixture.exchange.response.content.text}`);
});

test('denial-words: a kind of sign-in switched off, a product not activated, no credit left', () => {
  const cases: [string, string, number][] = [
    ['feature-disabled', 'Basic authentication has been disabled on this server.', 403],
    ['feature-disabled', 'Exports are not activated for this account.', 403],
    ['rate-limited', 'You do not have enough credit to send this message.', 403],
    ['credential-invalid', 'AuthenticationUnsuccessful', 401],
    ['ip-restricted', 'Source IP address: 203.0.113.7 is blocked by the access list of this workspace', 403],
  ];
  for (const [cause, message, status] of cases)
    assert.equal(strongest(runRule(rule, json('w', status, { message }))), cause, message);
});

test('denial-words: a header that "must be sent" asks for a credential; an invalid ticket is a refused one', () => {
  assert.equal(
    strongest(
      runRule(rule, json('sent', 401, { message: 'Forbidden - a valid `x-service-api-key` header must be sent.' })),
    ),
    'credential-missing',
  );
  assert.equal(
    strongest(
      runRule(rule, responseCase('ticket', 401, { 'Content-Type': 'text/plain' }, 'invalid authentication ticket')),
    ),
    'credential-invalid',
  );
});

test('denial-words: "Invalid API key" speaks of the key, not of a wrong API', () => {
  const key = runRule(rule, json('key', 401, { message: 'Invalid API key' }));
  assert.ok(!key?.causes?.some((c) => c.id === 'wrong-endpoint'), JSON.stringify(key?.causes?.map((c) => c.id)));
  const api = runRule(rule, json('api', 403, { message: 'Unknown API version: v9' }));
  assert.ok(api?.causes?.some((c) => c.id === 'wrong-endpoint'));
});

test('denial-words: a role the words name, what is only one’s own, and a CSRF token that is no credential', () => {
  const role = runRule(rule, json('role', 403, { message: 'User does not have the admin role' }));
  assert.equal(strongest(role), 'insufficient-role');
  assert.deepEqual(role?.causes?.find((c) => c.id === 'insufficient-role')?.gap?.required, ['admin']);
  assert.equal(
    strongest(runRule(rule, json('own', 403, { error: 'You can only delete your own account' }))),
    'not-owner',
  );
  const csrf = runRule(
    rule,
    responseCase(
      'csrf',
      403,
      { 'Content-Type': 'text/html' },
      '<html><head><title>Forbidden</title></head><body><h1>Forbidden</h1><p>CSRF token missing or incorrect.</p></body></html>',
    ),
  );
  assert.deepEqual(
    csrf?.causes?.map((c) => c.id),
    ['csrf'],
  );
});

test('denial-words: an owner of the organization, a read-only key, and what a line names beside a bare refusal', () => {
  const cases: [string, number, string][] = [
    ['insufficient-role', 403, 'You must be an organization owner to do this'],
    ['insufficient-scope', 403, 'This API key is read-only'],
    // Asked to sign in again because the session expired, or for a second factor: not because nothing came.
    ['credential-expired', 401, 'Your session has expired. Please log in again.'],
    ['conditional-access', 403, 'Multi-factor authentication is required'],
    // A method or an origin the words refuse is no grant: the narrower reading wins.
    ['method-not-allowed', 403, 'DELETE is not allowed on this resource'],
  ];
  for (const [cause, status, message] of cases)
    assert.equal(strongest(runRule(rule, json('w', status, { message }))), cause, message);
  const cors = runRule(
    rule,
    json('cors', 403, { message: 'Origin https://evil.example is not allowed by CORS policy' }),
  );
  assert.equal(strongest(cors), 'cors');
  assert.ok(!cors?.causes?.some((c) => c.gap));
});

test('denial-words: ordinary refusals the newer phrases must not misread', () => {
  const top = (message: string) => strongest(runRule(rule, json('w', 403, { message })));
  const misreads: [string, string][] = [
    ['Content-Type header must be set to application/json', 'credential-missing'],
    ['Origin header must contain a trusted origin', 'credential-malformed'],
    ['Bad header', 'credential-malformed'],
    ['This invitation expired on 2024-05-01', 'credential-expired'],
    ['Field key is read-only', 'insufficient-scope'],
    ['Forbidden by the rule set of your network administrator', 'explicit-deny'],
    ['Token is not active', 'credential-not-yet-valid'],
  ];
  for (const [message, not] of misreads) assert.notEqual(top(message), not, message);
  const inactive = runRule(rule, json('a', 403, { message: 'User is not active in this organization' }));
  assert.ok(!inactive?.causes?.some((c) => c.gap?.required.includes('active')), 'no grant named "active"');
  // A long code made of words is still read word by word.
  // (A client not authorized reads as the client's grant, its scope, as the same words spaced out do.)
  assert.equal(top('ClientIsNotAuthorizedToAccessResource'), top('Client is not authorized to access resource'));
  assert.equal(top('ClientIsNotAuthorizedToAccessResource'), 'insufficient-scope');
});
