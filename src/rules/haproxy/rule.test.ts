import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import haproxy from './rule.ts';
import { runRule, testRule } from '../_lib/tester.ts';
import { loadFixture, type Fixture } from '../_lib/fixtures.ts';

// extra/ holds the 429 of `deny_status 429`: HAProxy's, but not a denial to
// the engine (401/403/407 are), so it is checked here, not by testRule.
const fixture = (name: string) => loadFixture(join(import.meta.dirname, 'fixtures', `${name}.json`));
const extra = (name: string) => loadFixture(join(import.meta.dirname, 'extra', `${name}.json`));

testRule(haproxy, import.meta.dirname);

/** The fixture with one response header added or the body replaced, everything else as captured. */
function altered(fx: Fixture, change: { addHeader?: [string, string]; body?: string }): Fixture {
  const response = { ...fx.exchange.response };
  if (change.addHeader)
    response.headers = [...response.headers, { name: change.addHeader[0], value: change.addHeader[1] }];
  if (change.body !== undefined) response.content = { ...response.content, text: change.body };
  return { ...fx, exchange: { ...fx.exchange, response } };
}

test('haproxy: the 403 page offers the config check, the deny/acl grep and the PR-- log line', () => {
  const out = runRule(haproxy, fixture('path-rule'));
  const commands = (out?.causes ?? []).flatMap((c) => c.fixes ?? []).flatMap((f) => f.commands ?? []);
  assert.ok(commands.includes('haproxy -c -f /etc/haproxy/haproxy.cfg'), commands.join('\n'));
  assert.ok(
    commands.some((c) => c.includes('grep -n "http-request deny\\|acl"')),
    commands.join('\n'),
  );
  assert.ok(
    commands.some((c) => c.includes(' PR-- ') && c.includes('"GET /admin/users')),
    'the log search names the request and PR--',
  );
  // The path rule's suggestion names the denied prefix.
  assert.match(out?.causes?.find((c) => c.id === 'path-forbidden')?.summary ?? '', /path_beg \/admin/);
});

test('haproxy: the IP rule and the path rule give the same page, so the same two causes', () => {
  const ids = (name: string) => (runRule(haproxy, fixture(name))?.causes ?? []).map((c) => c.id).sort();
  assert.deepEqual(ids('ip-rule'), ['ip-restricted', 'path-forbidden']);
  assert.deepEqual(ids('ip-rule'), ids('path-rule'));
  assert.deepEqual(ids('ip-rule'), ids('deny-all'));
});

test('haproxy: the 401 names the realm and tells missing from wrong credentials', () => {
  const missing = runRule(haproxy, fixture('basic-auth-missing'));
  assert.equal(missing?.causes?.[0]?.id, 'credential-missing');
  assert.match(missing?.causes?.[0]?.summary ?? '', /realm "why403 admin area"/);
  assert.equal(runRule(haproxy, fixture('basic-auth-wrong-password'))?.causes?.[0]?.id, 'credential-invalid');
});

test('haproxy: deny_status 429 is HAProxy’s and reads as rate-limited', () => {
  const out = runRule(haproxy, extra('deny-status-429'));
  assert.equal(out?.producer?.product, 'haproxy');
  assert.deepEqual(
    (out?.causes ?? []).map((c) => c.id),
    ['rate-limited'],
  );
});

test('haproxy: a Server header lowers the confidence below a sure claim', () => {
  const out = runRule(haproxy, altered(fixture('deny-all'), { addHeader: ['Server', 'gunicorn'] }));
  assert.equal(out?.producer?.product, 'haproxy');
  assert.ok((out?.producer?.confidence ?? 1) < runRule(haproxy, fixture('deny-all'))!.producer!.confidence);
});

test('haproxy: a page of the same shape with another message is not HAProxy’s', () => {
  const out = runRule(
    haproxy,
    altered(fixture('deny-all'), { body: '<html><body><h1>403 Forbidden</h1>\nGo away.\n</body></html>\n' }),
  );
  assert.ok(!out?.producer, `claimed ${out?.producer?.product}`);
});
