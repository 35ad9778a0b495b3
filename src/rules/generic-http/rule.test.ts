import { test } from 'node:test';
import assert from 'node:assert/strict';
import rule from './rule.ts';
import { testRule, runRule } from '../_lib/tester.ts';
import { exchangeFromFixtureJson, loadFixtures, type Fixture } from '../_lib/fixtures.ts';
import { ruleFolders, rulesDir } from '../_lib/folders.ts';
import { join } from 'node:path';

const fx = (name: string, response: object, request?: object): Fixture => ({
  file: name,
  source: 'unit case',
  label: { product: 'unknown', layer: 'unknown', cause: 'unknown' },
  exchange: exchangeFromFixtureJson({ ...(request ? { request } : {}), response }, name),
});

testRule(rule, import.meta.dirname, [
  {
    name: 'JSON {"error": "CSRF token missing"} → csrf, weakly',
    fixture: fx('csrf', {
      status: 403,
      headers: { 'Content-Type': 'application/json' },
      body: '{"error":"CSRF token missing"}',
    }),
    product: 'unknown',
    causes: ['csrf'],
  },
  {
    name: 'JSON "Token expired" → credential-expired',
    fixture: fx('exp', { status: 401, headers: {}, body: '{"message":"Token expired"}' }),
    product: 'unknown',
    causes: ['credential-expired'],
  },
  {
    name: 'plain text "Your IP is not allowed" → ip-restricted',
    fixture: fx('ip', {
      status: 403,
      headers: { 'Content-Type': 'text/plain' },
      body: 'Your IP address is not allowed to access this resource.',
    }),
    product: 'unknown',
    causes: ['ip-restricted'],
  },
  {
    name: 'nested {"error":{"message":"insufficient scope"}} → insufficient-scope',
    fixture: fx('scope', {
      status: 403,
      headers: {},
      body: '{"error":{"message":"insufficient scope for this operation"}}',
    }),
    product: 'unknown',
    causes: ['insufficient-scope'],
  },
]);

function layerOf(response: object): string | undefined {
  return runRule(rule, fx('layer', response))?.producer?.layer;
}

test('generic-http: Via or X-Cache → reverse-proxy', () => {
  assert.equal(
    layerOf({
      status: 403,
      headers: { Via: '1.1 varnish', 'Content-Type': 'text/html' },
      body: '<html><title>403</title></html>',
    }),
    'reverse-proxy',
  );
  assert.equal(layerOf({ status: 403, headers: { 'X-Cache': 'MISS from proxy' }, body: '' }), 'reverse-proxy');
});

test('generic-http: HTML page with a Server header → web-server; JSON → application', () => {
  assert.equal(
    layerOf({
      status: 403,
      headers: { Server: 'SomeServer/1.0', 'Content-Type': 'text/html' },
      body: '<html><head><title>403 Forbidden</title></head></html>',
    }),
    'web-server',
  );
  assert.equal(
    layerOf({ status: 403, headers: { 'Content-Type': 'application/json' }, body: '{"error":"forbidden"}' }),
    'application',
  );
});

test('generic-http: 407 → forward-proxy; XML <Error> → storage; <ErrorResponse> → cloud-iam', () => {
  assert.equal(
    layerOf({ status: 407, headers: { 'Proxy-Authenticate': 'Basic realm="corp"' }, body: '' }),
    'forward-proxy',
  );
  assert.equal(
    layerOf({
      status: 403,
      headers: { 'Content-Type': 'application/xml' },
      body: '<?xml version="1.0"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>',
    }),
    'storage',
  );
  assert.equal(
    layerOf({
      status: 403,
      headers: { 'Content-Type': 'text/xml' },
      body: '<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>no</Message></Error></ErrorResponse>',
    }),
    'cloud-iam',
  );
  assert.equal(
    layerOf({
      status: 403,
      headers: { 'Content-Type': 'application/json' },
      body: '{"error":{"code":403,"message":"denied","status":"PERMISSION_DENIED"}}',
    }),
    'cloud-iam',
  );
});

test('generic-http: an application server or X-Powered-By → application, even with an HTML page', () => {
  assert.equal(
    layerOf({
      status: 403,
      headers: { Server: 'gunicorn', 'Content-Type': 'text/html' },
      body: '<html><head><title>403 Forbidden</title></head></html>',
    }),
    'application',
  );
  assert.equal(
    layerOf({
      status: 403,
      headers: { 'X-Powered-By': 'PHP/8.2.1', 'Content-Type': 'text/html' },
      body: '<html><head><title>Forbidden</title></head></html>',
    }),
    'application',
  );
  assert.equal(layerOf({ status: 401, headers: { 'WWW-Authenticate': 'Basic realm="x"' }, body: '' }), 'web-server');
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
  assert.equal(runRule(rule, fx('ok', { status: 200, headers: {}, body: '{"message":"Token expired"}' })), undefined);
});
