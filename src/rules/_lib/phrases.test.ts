import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compilePhrase, matchPhrase, stem, tokenize } from './phrases.ts';

test('phrases: inflections share a stem; contractions open; identifiers split', () => {
  assert.deepEqual(['expired', 'expires', 'expiration', 'expire'].map(stem), ['expir', 'expir', 'expir', 'expir']);
  assert.deepEqual(['denied', 'denies', 'deny'].map(stem), ['deny', 'deny', 'deny']);
  assert.deepEqual(
    tokenize("don't PERMISSION_DENIED AccessDenied can't").map((t) => t.stem),
    ['do', 'not', 'permission', 'deny', 'access', 'deny', 'can', 'not'],
  );
  assert.deepEqual(
    tokenize('scope(s)').map((t) => t.stem),
    ['scop'],
    'the plural mark is no word',
  );
});

test('phrases: alternatives, optional words, gaps and captures', () => {
  const p = compilePhrase('(do|does) not have * (permission|access) to');
  assert.equal(
    matchPhrase(p, "You don't have the required access to this")?.quote,
    "don't have the required access to",
  );
  assert.equal(matchPhrase(p, 'You do not have it'), undefined);
  const role = compilePhrase('requires (the|a)? {grant} role');
  assert.deepEqual(matchPhrase(role, 'This call requires the `org:admin` role.')?.captures, { grant: 'org:admin' });
  assert.deepEqual(matchPhrase(role, 'requires admin role')?.captures, { grant: 'admin' });
  const seq = compilePhrase('not (allow list|allowlist|whitelist)');
  assert.equal(matchPhrase(seq, 'is not allow-listed')?.quote, 'not allow-listed', 'a hyphen splits words');
  assert.ok(matchPhrase(seq, 'not on the allow list') === undefined);
  assert.equal(matchPhrase(seq, 'not allow list')?.quote, 'not allow list');
});

test('phrases: a malformed phrase fails when it is compiled', () => {
  assert.throws(() => compilePhrase('(a|b'), /unbalanced/);
  assert.throws(() => compilePhrase('* {x}'), /no required word/);
});

test('phrases: a line is read up to 400 words, whatever its length', () => {
  const p = compilePhrase('(a|b)? * * * {x} * z');
  const text = 'a '.repeat(50_000);
  assert.equal(matchPhrase(p, text), undefined);
  // Words past the limit are never read: a 100 kB line is cut at 400 words.
  // (Its speed on hostile text is measured with every rule's in test/adversarial/.)
  assert.ok(tokenize(text).length <= 400);
});
