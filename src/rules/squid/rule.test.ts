import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import squid from './rule.ts';
import { runRule, testRule } from '../_lib/tester.ts';
import { loadFixture } from '../_lib/fixtures.ts';

// extra/ holds captures that are not denials (503) or that Squid only
// relayed; the rule itself must still read them right. The 407s are
// fixtures: the engine diagnoses a proxy's 407 like a 401.
const extra = (name: string) => loadFixture(join(import.meta.dirname, 'extra', `${name}.json`));
const fixture = (name: string) => loadFixture(join(import.meta.dirname, 'fixtures', `${name}.json`));

testRule(squid, import.meta.dirname);

test('squid: the 407 names the realm from Proxy-Authenticate and fixes with proxy credentials, not server ones', () => {
  const out = runRule(squid, fixture('proxy-auth-missing'));
  const cause = out?.causes?.[0];
  assert.match(cause?.summary ?? '', /realm "why403 corporate proxy"/);
  assert.ok(
    cause?.fixes?.some((f) => f.commands?.some((c) => c.includes('--proxy-user'))),
    'a --proxy-user fix',
  );
  // X-Cache-Lookup names the proxy's host:port, so the commands point at the real proxy.
  assert.ok(
    cause?.fixes?.some((f) => f.commands?.some((c) => c.includes('-x http://why403-test-proxy:18129'))),
    JSON.stringify(cause?.fixes),
  );
});

test('squid: ERR_CONNECT_FAIL (503) is Squid’s, but not a denial: no cause', () => {
  const out = runRule(squid, extra('connect-fail'));
  assert.equal(out?.producer?.product, 'squid');
  assert.equal(out?.causes?.length ?? 0, 0);
  assert.ok(
    out?.notes?.some((n) => n.includes('ERR_CONNECT_FAIL')),
    'says what the code means',
  );
});

test('squid: an origin’s 403 that Squid only relayed (Via, X-Cache) claims neither Squid nor a cause', () => {
  const out = runRule(squid, extra('relayed-origin-403'));
  assert.ok(!out?.producer, `claimed ${out?.producer?.product}`);
  assert.equal(out?.causes?.length ?? 0, 0);
  assert.ok(out?.notes?.some((n) => /passed through a Squid proxy/.test(n)));
});

test('squid: ERR_ACCESS_DENIED with the confirm / NO_PROXY / http_access fixes, pointing at the denied host', () => {
  const out = runRule(squid, loadFixture(join(import.meta.dirname, 'fixtures', 'denied-domain.json')));
  const cause = out?.causes?.find((c) => c.id === 'proxy-interference');
  const commands = (cause?.fixes ?? []).flatMap((f) => f.commands ?? []);
  assert.ok(
    commands.some((c) => c.includes("--noproxy '*' http://intranet.blocked.example/reports/")),
    commands.join('\n'),
  );
  assert.ok(commands.some((c) => c.startsWith('export NO_PROXY=intranet.blocked.example')));
  assert.ok(commands.some((c) => c.includes('http_access')));
});
