import { test } from 'node:test';
import assert from 'node:assert/strict';
import rule from './rule.ts';
import { testRule, runRule } from '../_lib/tester.ts';
import { loadFixtures } from '../_lib/fixtures.ts';
import { ruleFolders, rulesDir } from '../_lib/folders.ts';
import { join } from 'node:path';
import { responseCase } from '../_lib/unit-case.ts';

testRule(rule, import.meta.dirname);

// Bodies the layer cases share, or too long for a row of their own.
const body = {
  html403: '<html><head><title>403 Forbidden</title></head></html>',
  htmlForbidden: '<html><head><title>Forbidden</title></head></html>',
  s3: '<?xml version="1.0"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>',
  iam: '<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>no</Message></Error></ErrorResponse>',
  google: '{"error":{"code":403,"message":"denied","status":"PERMISSION_DENIED"}}',
};

/** Each row: the layer the rule must name, then the answer (status, headers, body). */
function assertLayers(rows: [string, number, Record<string, string>, string][]): void {
  for (const [layer, status, headers, text] of rows)
    assert.equal(runRule(rule, responseCase('layer', status, headers, text))?.producer?.layer, layer);
}

test('generic-http: Via or X-Cache → reverse-proxy', () => {
  assertLayers([
    ['reverse-proxy', 403, { Via: '1.1 varnish', 'Content-Type': 'text/html' }, '<html><title>403</title></html>'],
    ['reverse-proxy', 403, { 'X-Cache': 'MISS from proxy' }, ''],
  ]);
});

test('generic-http: a JSON error behind Via, a CDN or a web server → application, the hops as evidence', () => {
  const json = '{"message":"You do not have permission to view this order"}';
  assertLayers([
    ['application', 403, { Via: '1.1 varnish', 'Content-Type': 'application/json' }, json],
    ['application', 403, { Server: 'cloudflare', 'CF-RAY': '8a1b2c3d4e5f6789-AMS' }, json],
    ['application', 403, { Server: 'nginx', 'X-Cache': 'MISS' }, json],
  ]);
  const out = runRule(
    rule,
    responseCase('hops', 403, { Server: 'envoy', 'x-envoy-upstream-service-time': '12', Via: '1.1 google' }, json),
  );
  const sources = out?.producer?.evidence.map((e) => e.source);
  assert.deepEqual(sources, ['body', 'header:server', 'header:via', 'header:x-envoy-upstream-service-time']);
});

test('generic-http: HTML page with a Server header → web-server; JSON → application', () => {
  assertLayers([
    ['web-server', 403, { Server: 'SomeServer/1.0', 'Content-Type': 'text/html' }, body.html403],
    ['application', 403, { 'Content-Type': 'application/json' }, '{"error":"forbidden"}'],
  ]);
});

test('generic-http: 407 → forward-proxy; XML <Error> → storage; <ErrorResponse> → cloud-iam', () => {
  assertLayers([
    ['forward-proxy', 407, { 'Proxy-Authenticate': 'Basic realm="corp"' }, ''],
    ['storage', 403, { 'Content-Type': 'application/xml' }, body.s3],
    ['cloud-iam', 403, { 'Content-Type': 'text/xml' }, body.iam],
    ['cloud-iam', 403, { 'Content-Type': 'application/json' }, body.google],
  ]);
});

test('generic-http: an application server or X-Powered-By → application, even with an HTML page', () => {
  assertLayers([
    ['application', 403, { Server: 'gunicorn', 'Content-Type': 'text/html' }, body.html403],
    ['application', 403, { 'X-Powered-By': 'PHP/8.2.1', 'Content-Type': 'text/html' }, body.htmlForbidden],
    ['web-server', 401, { 'WWW-Authenticate': 'Basic realm="x"' }, ''],
  ]);
});

test('generic-http: never confident, never a product, nothing for non-denials', () => {
  for (const folder of ruleFolders())
    for (const f of loadFixtures(join(rulesDir(), folder, 'fixtures'))) {
      const out = runRule(rule, f);
      if (!out) continue;
      assert.equal(out.producer?.product, 'unknown', f.file);
      assert.ok((out.producer?.confidence ?? 0) <= 0.3, `${f.file}: confidence ${out.producer?.confidence}`);
      for (const c of out.causes ?? []) assert.ok(c.weight <= 0.3, `${f.file}: ${c.id} weight ${c.weight}`);
    }
  assert.equal(runRule(rule, responseCase('ok', 200, {}, '{"message":"Token expired"}')), undefined);
});
