import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import varnish from './rule.ts';
import { runRule, testRule } from '../_lib/tester.ts';
import { loadFixture, type Fixture } from '../_lib/fixtures.ts';

// extra/ holds a backend's own 403 that Varnish only delivered (Via, X-Varnish,
// Age): the engine must not blame Varnish, so it is checked here, not by testRule.
const fixture = (name: string) => loadFixture(join(import.meta.dirname, 'fixtures', `${name}.json`));
const extra = (name: string) => loadFixture(join(import.meta.dirname, 'extra', `${name}.json`));

testRule(varnish, import.meta.dirname, [
  { name: 'a backend 403 relayed through Varnish claims no product', fixture: extra('relayed-backend-403') },
]);

/** The fixture with response headers dropped or added, or the body replaced, everything else as captured. */
function altered(fx: Fixture, change: { drop?: string[]; addHeader?: [string, string]; body?: string }): Fixture {
  const response = { ...fx.exchange.response };
  if (change.drop) response.headers = response.headers.filter((h) => !change.drop!.includes(h.name.toLowerCase()));
  if (change.addHeader)
    response.headers = [...response.headers, { name: change.addHeader[0], value: change.addHeader[1] }];
  if (change.body !== undefined) response.content = { ...response.content, text: change.body };
  return { ...fx, exchange: { ...fx.exchange, response } };
}

const commands = (fx: Fixture) =>
  (runRule(varnish, fx)?.causes ?? []).flatMap((c) => c.fixes ?? []).flatMap((f) => f.commands ?? []);

test('varnish: the synth 403 offers the VCL compile check, the synth/acl grep and varnishlog by XID', () => {
  const fx = fixture('path-rule');
  const all = commands(fx);
  assert.ok(
    all.some((c) => c.startsWith('varnishd -C -f /etc/varnish/default.vcl')),
    all.join('\n'),
  );
  assert.ok(all.includes('grep -n "synth(403\\|acl" /etc/varnish/*.vcl'), all.join('\n'));
  // The XID printed on the page is the request's vxid in varnishlog.
  const xid = /XID: (\d+)/.exec(fx.exchange.response.content.text ?? '')?.[1];
  assert.ok(xid && all.includes(`varnishlog -d -g request -q 'vxid == ${xid}'`), all.join('\n'));
  assert.match(runRule(varnish, fx)?.causes?.find((c) => c.id === 'path-forbidden')?.summary ?? '', /\^\/admin/);
});

test('varnish: the ACL rule and the path rule give the same page, so the same two causes', () => {
  const ids = (name: string) => (runRule(varnish, fixture(name))?.causes ?? []).map((c) => c.id).sort();
  assert.deepEqual(ids('ip-acl'), ['ip-restricted', 'path-forbidden']);
  assert.deepEqual(ids('ip-acl'), ids('path-rule'));
});

test('varnish: a refused PURGE reads as the purge gate (method, then client address), not a path rule', () => {
  const out = runRule(varnish, fixture('purge-not-allowed'));
  const ranked = [...(out?.causes ?? [])].sort((a, b) => b.weight - a.weight).map((c) => c.id);
  assert.deepEqual(ranked, ['method-not-allowed', 'ip-restricted']);
  assert.ok(
    out?.causes?.[0]?.fixes?.some((f) => f.docs?.includes('purging')),
    'points at the purging docs',
  );
});

test('varnish: the relayed backend 403 gets a note saying Varnish only passed it on', () => {
  const out = runRule(varnish, extra('relayed-backend-403'));
  assert.ok(!out?.producer, `claimed ${out?.producer?.product}`);
  assert.equal(out?.causes?.length ?? 0, 0);
  assert.ok(
    out?.notes?.some((n) => /passed through Varnish/.test(n) && /Varnish\/7\.1/.test(n)),
    JSON.stringify(out?.notes),
  );
});

test('varnish: without Server: Varnish the page alone is a weaker claim; with Via it is noted as relayed', () => {
  const full = runRule(varnish, fixture('ip-acl'))!.producer!.confidence;
  const pageOnly = runRule(varnish, altered(fixture('ip-acl'), { drop: ['server', 'x-varnish'] }))?.producer;
  assert.equal(pageOnly?.product, 'varnish');
  assert.ok(pageOnly!.confidence < full);
  const viaOut = runRule(varnish, altered(fixture('ip-acl'), { addHeader: ['Via', '1.1 varnish (Varnish/7.1)'] }));
  assert.ok(viaOut?.notes?.some((n) => n.includes('Via')));
});

test('varnish: a page that only looks similar (no Guru Meditation) with no Varnish header is not claimed', () => {
  const fx = altered(fixture('path-rule'), {
    drop: ['server', 'x-varnish'],
    body: '<html><body><h1>Error 403 Forbidden</h1><p>Forbidden</p></body></html>',
  });
  const out = runRule(varnish, fx);
  assert.ok(!out?.producer, `claimed ${out?.producer?.product}`);
});
