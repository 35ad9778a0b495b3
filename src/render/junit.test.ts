import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditResult } from '../audit/model.ts';
import { fullResult, minimalReport, smallResult } from '../../test/fixtures/junit/audit-result.ts';
import { renderJunit, seconds, xmlAttr, xmlText } from './junit.ts';

const SCHEMA = new URL('../../test/fixtures/junit/why403-junit.xsd', import.meta.url).pathname;
const XMLLINT = '/usr/bin/xmllint';

/** xmllint's verdict on `xml` against `schema`: '' when valid, its complaints when not. */
function validate(xml: string, schema = SCHEMA): string {
  const dir = mkdtempSync(join(tmpdir(), 'why403-junit-'));
  try {
    const file = join(dir, 'report.xml');
    writeFileSync(file, xml);
    execFileSync(XMLLINT, ['--noout', '--schema', schema, file], { stdio: 'pipe' });
    return '';
  } catch (e) {
    return String((e as { stderr?: Buffer }).stderr ?? e);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Every character class a server can put in a body, a path or a message to break XML or a CI log. */
const HOSTILE =
  'a]]>b <x/> & "q" \'s\' \u0000\u0001\u0008\u000b\u000c\u001b[31m \ud800 \uffff \ufffe 🔥 é\u202e\n2nd line';

function hostileResult(): AuditResult {
  const r = fullResult();
  r.identities[1]!.name = `reader ${HOSTILE}`;
  r.cells = r.cells.map((c) => (c.identity === 'reader' ? { ...c, identity: r.identities[1]!.name } : c));
  r.findings = r.findings.map((f) => ({
    ...f,
    identity: f.identity === 'reader' ? r.identities[1]!.name : f.identity,
    summary: `${f.summary} ${HOSTILE}`,
    expectedWhy: HOSTILE,
    error: f.error ? HOSTILE : undefined,
  }));
  r.operations[2] = { ...r.operations[2]!, path: `/admin/${HOSTILE}` };
  r.skipped[0]!.reason = `unsafe ${HOSTILE}`;
  r.findings[2]!.report = minimalReport({
    causes: [
      {
        ...minimalReport().causes[0]!,
        summary: HOSTILE,
        fixes: [{ title: HOSTILE, difficulty: 'easy', commands: [HOSTILE] }],
      },
    ],
  });
  return r;
}

test('xmllint is installed (Debian package libxml2-utils): the schema tests need it', () => {
  assert.ok(existsSync(XMLLINT), `${XMLLINT} is missing: apt-get install libxml2-utils`);
});

test('a result with failures, skips, warnings and unjudged cells validates against the schema', () => {
  assert.equal(validate(renderJunit(fullResult())), '');
});

test('hostile text (]]>, <, quotes, control characters, lone surrogates, emoji) still validates', () => {
  const xml = renderJunit(hostileResult());
  assert.equal(validate(xml), '');
  assert.ok(!xml.includes(']]>'), 'no CDATA end survives');
  assert.ok(!/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/.test(xml), 'no character XML 1.0 forbids');
  assert.ok(!xml.includes('\u001b'), 'no terminal escape reaches a CI log');
  assert.ok(!xml.includes('\u202e'), 'no bidi override');
  assert.ok(xml.includes('🔥'), 'emoji are legal XML and stay');
  assert.ok(xml.includes('\\x1b[31m'), 'a control character is written as an escape, so it is still seen');
});

test('a result without findings, and one without identities, validate too', () => {
  assert.equal(validate(renderJunit(smallResult())), '');
  assert.equal(validate(renderJunit({ ...smallResult(), identities: [], cells: [] })), '');
});

test('the schema can fail: a document missing what why403 promises does not validate', () => {
  const xml = renderJunit(smallResult()).replace(/ classname="[^"]*"/, '');
  assert.match(validate(xml), /classname/);
});

test('the small result, exactly', () => {
  assert.equal(
    renderJunit(smallResult()),
    [
      '<?xml version="1.0" encoding="UTF-8"?>',
      '<testsuites name="why403 audit" tests="1" failures="0" errors="0" time="0.040">',
      '  <testsuite name="reader" tests="1" failures="0" errors="0" skipped="0" time="0.012" id="0" package="why403.audit">',
      '    <properties>',
      '      <property name="source" value="file audit.yaml"/>',
      '      <property name="base-url" value="http://127.0.0.1:8080"/>',
      '      <property name="credential" value="Bearer eyJhbG…(812 chars) (env READER_TOKEN)"/>',
      '      <property name="scopes" value="read:orders (token)"/>',
      '      <property name="roles" value="(none)"/>',
      '    </properties>',
      '    <testcase classname="GET /orders" name="reader GET /orders" time="0.012"/>',
      '  </testsuite>',
      '</testsuites>',
      '',
    ].join('\n'),
  );
});

test('counts: one suite per identity, one case per cell; failing findings fail, warnings pass with system-out', () => {
  const xml = renderJunit(fullResult());
  assert.match(xml, /<testsuites name="why403 audit" tests="18" failures="4" errors="0" time="1\.234">/);
  assert.equal(xml.match(/<testsuite /g)?.length, 3);
  assert.equal(xml.match(/<testcase /g)?.length, 18);
  assert.equal(xml.match(/<failure /g)?.length, 4);
  assert.equal(xml.match(/<skipped /g)?.length, 3);
  assert.match(xml, /<testsuite name="anon" tests="6" failures="1" errors="0" skipped="1" /);
  assert.match(xml, /<testsuite name="reader" tests="6" failures="1" errors="0" skipped="1" /);
  assert.match(xml, /<testsuite name="admin" tests="6" failures="2" errors="0" skipped="1" /);
  for (const type of ['open', 'regression', 'not-found', 'error'])
    assert.match(xml, new RegExp(`<failure message="[^"]*" type="${type}">`));
  assert.match(
    xml,
    /<testcase classname="createOrder" name="admin POST \/orders" time="0\.012">\n {6}<skipped message="unsafe method; --allow-unsafe not given"\/>/,
  );
  assert.match(xml, /<system-out>warning: HIDDEN: answered 404 to an identity that may not see it\n/);
  assert.match(xml, /<system-out>warning: DENIED WITH 200: refused in the body, the status says success\n/);
  assert.match(xml, /<system-out>nothing was expected: answered 429 \(rate-limited\)<\/system-out>/);
});

test('a failure carries the diagnosis: top cause, gap, producer and first fix', () => {
  const xml = renderJunit(fullResult());
  const failure = /<failure message="admin is refused \/admin\/users" type="regression">([^<]*)<\/failure>/.exec(xml);
  assert.ok(failure, xml);
  assert.equal(
    failure[1],
    [
      'REGRESSION: denied, expected allowed',
      'request: GET https://api.example.test/admin/users as admin → 403',
      'summary: admin is refused /admin/users',
      'expected allow: needs the role admin; admin holds admin',
      'required: admin; held: user',
      'top cause: insufficient-role (0.91) — the token lacks the role admin',
      'said by: express (application)',
      'fix: Grant the role admin to the identity — $ idp roles add admin --user ops',
    ].join('\n'),
  );
});

test('a secret in a URL is redacted, once', () => {
  const xml = renderJunit(fullResult());
  assert.ok(!xml.includes('abcdefghijklmnopqrstuvwxyz0123'), 'the token never shows');
  assert.match(xml, /access_token=abcdef…\(30 chars\) as reader → 200/);
});

test('escaping: text keeps its lines, attributes become one line, quotes only matter in attributes', () => {
  assert.equal(xmlText('a < b && c > d ]]>\nnext'), 'a &lt; b &amp;&amp; c &gt; d ]]&gt;\nnext');
  assert.equal(xmlAttr('say "no" <now>\n&\u0007'), 'say &quot;no&quot; &lt;now&gt;\\n&amp;\\x07');
  assert.equal(xmlText('\ud800 \uffff 😀'), '\ufffd \ufffd 😀');
});

test('seconds: three decimals, never negative, NaN or an exponent', () => {
  assert.equal(seconds(1234), '1.234');
  assert.equal(seconds(undefined), '0.000');
  assert.equal(seconds(-5), '0.000');
  assert.equal(seconds(Number.NaN), '0.000');
  assert.equal(seconds(1e-9), '0.000');
});

test('against a baseline only a cell newly open or newly denied fails; a known failure passes, said in system-out', () => {
  const r = fullResult();
  const failing = r.findings.filter((f) => f.severity === 'fail');
  const newly = failing[0]!;
  r.baseline = {
    file: 'before.json',
    newlyOpen: 0,
    newlyDenied: 1,
    changes: [
      {
        operation: newly.operation,
        identity: newly.identity,
        before: 'allowed',
        after: 'denied',
        change: 'newly-denied',
      },
    ],
  };
  const xml = renderJunit(r);
  assert.equal(xml.match(/<failure /g)?.length, 1);
  assert.match(xml, new RegExp(`<failure message="${xmlAttr(newly.summary).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"`));
  assert.equal(xml.match(/<system-out>unchanged since the baseline: /g)?.length, failing.length - 1);
  assert.equal(validate(xml), '');
});
