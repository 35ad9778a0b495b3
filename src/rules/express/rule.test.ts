import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import defaultRule from './rule.ts';
import { runRule, testRule } from '../_lib/tester.ts';
import { loadFixture } from '../_lib/fixtures.ts';

testRule(defaultRule, import.meta.dirname);

const fixture = (name: string) => loadFixture(join(import.meta.dirname, 'fixtures', name));
const fixesOf = (name: string) => (runRule(defaultRule, fixture(name))?.causes ?? []).flatMap((c) => c.fixes ?? []);

// csurf and csrf-csrf throw the same "invalid csrf token": the fix must name
// the library that did, or it sends the user after the wrong cookie.
test('express: csrf-csrf gets its own cookie and header, not csurf’s', () => {
  const fixes = fixesOf('csrf-csrf-missing-token.json');
  assert.ok(
    fixes.some((f) => /x-csrf-token/.test(f.title) && /csrf-csrf/.test(f.title)),
    fixes.map((f) => f.title).join(' | '),
  );
  assert.ok(!fixes.some((f) => /_csrf\b/.test(f.title)), 'no csurf _csrf advice');
  const csurf = fixesOf('csrf-bad-token.json');
  assert.ok(
    csurf.some((f) => /_csrf/.test(f.title)) && !csurf.some((f) => /csrf-csrf/.test(f.title)),
    'csurf keeps its own advice',
  );
});

test('express: express-jwt fixes say to send a Bearer token and how to confirm', () => {
  for (const name of [
    'express-jwt-missing.json',
    'express-jwt-wrong-scheme.json',
    'express-jwt-expired.json',
    'express-jwt-bad-signature.json',
  ]) {
    const fixes = fixesOf(name);
    assert.ok(
      fixes.length > 0 && fixes.every((f) => f.verify && f.docs?.includes('express-jwt')),
      `${name}: ${JSON.stringify(fixes)}`,
    );
    assert.ok(
      fixes.some((f) => f.commands?.some((c) => c.includes('Authorization: Bearer'))),
      name,
    );
  }
});
