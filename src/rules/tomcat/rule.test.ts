import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import tomcat from './rule.ts';
import { runRule, testRule } from '../_lib/tester.ts';
import { loadFixture, type Fixture } from '../_lib/fixtures.ts';

const fixture = (name: string) => loadFixture(join(import.meta.dirname, 'fixtures', `${name}.json`));
const causes = (fx: Fixture) => (runRule(tomcat, fx)?.causes ?? []).map((c) => c.id);

testRule(tomcat, import.meta.dirname);

function withoutHeader(fx: Fixture, name: string): Fixture {
  const response = {
    ...fx.exchange.response,
    headers: fx.exchange.response.headers.filter((h) => h.name.toLowerCase() !== name),
  };
  return { ...fx, exchange: { ...fx.exchange, response } };
}

test('tomcat: the Manager 401 names its realm and tells missing from wrong credentials', () => {
  const missing = runRule(tomcat, fixture('manager-no-credentials'));
  assert.equal(missing?.causes?.[0]?.id, 'credential-missing');
  assert.match(missing?.causes?.[0]?.summary ?? '', /realm "Tomcat Manager Application"/);
  assert.deepEqual(causes(fixture('manager-wrong-password')), ['credential-invalid']);
});

test('tomcat: the role fix greps tomcat-users.xml and runs configtest', () => {
  const commands = (runRule(tomcat, fixture('manager-missing-role'))?.causes ?? [])
    .flatMap((c) => c.fixes ?? [])
    .flatMap((f) => f.commands ?? []);
  assert.ok(commands.includes('grep -n "<role\\|<user" $CATALINA_BASE/conf/tomcat-users.xml'), commands.join('\n'));
  assert.ok(commands.includes('$CATALINA_HOME/bin/catalina.sh configtest'), commands.join('\n'));
  assert.ok(
    commands.some((c) => c.includes('RemoteAddrValve')),
    commands.join('\n'),
  );
});

test('tomcat: the Manager’s one 403 page is ordered by whether the authenticator ran', () => {
  assert.deepEqual(causes(fixture('manager-missing-role')), ['insufficient-role', 'ip-restricted']);
  assert.deepEqual(causes(fixture('manager-remote-addr-valve')), ['ip-restricted', 'insufficient-role']);
  // Same body: without the authenticator's Cache-Control the role page reads like the valve's.
  assert.deepEqual(causes(withoutHeader(fixture('manager-missing-role'), 'cache-control')), [
    'ip-restricted',
    'insufficient-role',
  ]);
});

test('tomcat: the error report tells a role constraint from an address valve by its Message line', () => {
  assert.deepEqual(causes(fixture('webapp-missing-role')), ['insufficient-role']);
  assert.deepEqual(causes(fixture('webapp-remote-addr-valve')), ['ip-restricted']);
  const out = runRule(tomcat, fixture('webapp-remote-addr-valve'));
  assert.match(out?.producer?.evidence[0]?.text ?? '', /Apache Tomcat\/10\.1\./);
});

test('tomcat: a page titled like Tomcat’s without its report body is not claimed', () => {
  const fx = fixture('webapp-remote-addr-valve');
  const response = {
    ...fx.exchange.response,
    content: {
      ...fx.exchange.response.content,
      text: '<html><head><title>HTTP Status 403 – Forbidden</title></head><body>nope</body></html>',
    },
  };
  assert.equal(runRule(tomcat, { ...fx, exchange: { ...fx.exchange, response } }), undefined);
});
