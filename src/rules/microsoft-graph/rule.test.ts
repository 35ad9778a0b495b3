import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import rule from './rule.ts';
import { testRule, runRule } from '../_lib/tester.ts';
import { loadFixture, type Fixture } from '../_lib/fixtures.ts';

const fixtures = join(import.meta.dirname, 'fixtures');
const load = (name: string) => loadFixture(join(fixtures, name));

/** The same response without the request: what a user pasting only the body gives us. */
function responseOnly(fx: Fixture): Fixture {
  const { request: _request, ...rest } = fx.exchange;
  return { ...fx, exchange: rest };
}

testRule(rule, import.meta.dirname, [
  {
    name: 'recognises Graph from the OData envelope alone when the URL is unknown',
    fixture: responseOnly(load('authorization-request-denied-add-owner.json')),
    product: 'microsoft-graph',
    causes: ['insufficient-scope', 'insufficient-role'],
  },
  {
    name: 'the expired-token fixture labelled microsoft-graph elsewhere is Graph saying credential-expired',
    fixture: loadFixture(
      join(import.meta.dirname, '..', 'credential-validity', 'fixtures', 'microsoft-graph-expired-token.json'),
    ),
    product: 'microsoft-graph',
    causes: ['credential-expired'],
  },
]);

test('microsoft-graph: a permission named in the message becomes the gap against the roles the app-only token held', () => {
  const out = runRule(rule, load('permission-missing-auditlog.json'));
  const c = out?.causes?.find((x) => x.id === 'insufficient-scope');
  assert.deepEqual(c?.gap, { required: ['AuditLog.Read.All'], held: ['Directory.Read.All'] });
  const cmds = c?.fixes?.flatMap((f) => f.commands ?? []) ?? [];
  assert.ok(
    cmds.includes(
      `PERM_ID=$(az ad sp show --id 00000003-0000-0000-c000-000000000000 --query "appRoles[?value=='AuditLog.Read.All'].id" -o tsv)`,
    ),
    cmds.join('\n'),
  );
  assert.ok(
    cmds.includes(
      'az ad app permission add --id 99999999-8888-7777-6666-555555555555 --api 00000003-0000-0000-c000-000000000000 --api-permissions $PERM_ID=Role',
    ),
  );
  assert.ok(cmds.includes('az ad app permission admin-consent --id 99999999-8888-7777-6666-555555555555'));
  // An application permission is not added with Connect-MgGraph -Scopes, which asks for delegated ones.
  assert.ok(!cmds.some((cmd) => cmd.startsWith('Connect-MgGraph')));
});

test('microsoft-graph: without a named permission there is no gap, but the delegated scopes held are shown', () => {
  const out = runRule(rule, load('error-access-denied-mail.json'));
  const c = out?.causes?.find((x) => x.id === 'insufficient-scope');
  assert.equal(c?.gap, undefined);
  const scp = c?.evidence.find((e) => e.source === 'claim:scp');
  assert.equal(
    scp?.text,
    'delegated permissions held: User.Read User.ReadBasic.All People.Read MailboxSettings.Read Calendars.ReadWrite openid profile email',
  );
  const cmds = c?.fixes?.flatMap((f) => f.commands ?? []) ?? [];
  assert.ok(
    cmds.some((cmd) => cmd.includes("oauth2PermissionScopes[?value=='PERMISSION']")),
    'looks the delegated permission up among the scopes',
  );
  assert.ok(cmds.includes('Connect-MgGraph -Scopes "PERMISSION"'));
});

test('microsoft-graph: Authorization_RequestDenied without a token keeps the user-role reading beside the missing permission', () => {
  const out = runRule(rule, load('authorization-request-denied-add-owner.json'));
  const byId = new Map(out?.causes?.map((c) => [c.id, c.weight]));
  assert.ok((byId.get('insufficient-scope') ?? 0) > (byId.get('insufficient-role') ?? 1));
  assert.ok((byId.get('insufficient-role') ?? 0) > 0);
  const cmds = out?.causes?.[0]?.fixes?.flatMap((f) => f.commands ?? []) ?? [];
  assert.ok(cmds.some((cmd) => cmd.includes('App registrations') && cmd.includes('Grant admin consent')));
});

test('microsoft-graph: the CAE challenge is decoded and reads as a revoked session, not a missing permission', () => {
  const out = runRule(rule, load('cae-insufficient-claims.json'));
  assert.deepEqual(
    out?.causes?.map((c) => c.id),
    ['conditional-access'],
  );
  const c = out!.causes![0];
  assert.ok(
    c.evidence.some(
      (e) =>
        e.source === 'header:www-authenticate.claims' &&
        e.text === '{"access_token":{"nbf":{"essential":true, "value":"1657834417"}}}',
    ),
  );
  assert.ok(c.evidence.some((e) => e.text.endsWith('code: TokenIssuedBeforeRevocationTimestamp')));
  assert.match(c.summary, /revoked/);
  assert.deepEqual(
    out?.producer?.evidence.find((e) => e.source === 'header:x-ms-ags-diagnostic')?.text,
    'Graph front end in West Central US (CY4PEPF00005255)',
  );
});

test('microsoft-graph: the token’s own aud decides wrong-audience even when Graph only says validation failed', () => {
  const base = load('invalid-audience.json');
  // A token minted for Azure AD Graph: aud https://graph.windows.net (the header and claims are base64url JSON; no signature is needed to decode).
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const token = `${b64({ typ: 'JWT', alg: 'RS256' })}.${b64({ aud: 'https://graph.windows.net', iss: 'https://sts.windows.net/11111111-2222-3333-4444-555555555555/', exp: 4102444800, scp: 'User.Read' })}.c2ln`;
  const fx: Fixture = {
    ...base,
    exchange: {
      ...base.exchange,
      request: {
        method: 'GET',
        url: 'https://graph.microsoft.com/v1.0/me',
        headers: [{ name: 'Authorization', value: `Bearer ${token}` }],
      },
      response: {
        ...base.exchange.response,
        content: {
          mimeType: 'application/json',
          text: '{"error":{"code":"InvalidAuthenticationToken","message":"Access token validation failure."}}',
        },
      },
    },
  };
  const out = runRule(rule, fx);
  const c = out?.causes?.find((x) => x.id === 'wrong-audience');
  assert.equal(c?.weight, 0.9);
  assert.deepEqual(c?.gap, {
    required: ['aud https://graph.microsoft.com (or 00000003-0000-0000-c000-000000000000)'],
    held: ['aud https://graph.windows.net'],
  });
});

test('microsoft-graph: an unparsable token is credential-malformed and the fix says which token to send', () => {
  const out = runRule(rule, load('jwt-not-well-formed.json'));
  assert.equal(out?.causes?.[0]?.id, 'credential-malformed');
  assert.match(out!.causes![0].fixes![0].title, /not the id_token, refresh token or authorization code/);
});
