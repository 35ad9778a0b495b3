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

test('phrases: an IPv4 address and an opaque key are one word each, so a gap can span them', () => {
  assert.deepEqual(
    tokenize('IP 203.0.113.7 is blocked').map((t) => t.stem),
    ['ip', '203.0.113.7', 'is', 'block'],
  );
  // A version number or a dotted name is not an address.
  assert.deepEqual(
    tokenize('v1.2.3 and 10.0.0.1.5').map((t) => t.stem),
    ['v1', '2', '3', 'and', '10', '0', '0', '1', '5'],
  );
  const key = tokenize('Token 3RiIwJRqEEsoS2dUrtX24f expired');
  assert.deepEqual(
    key.map((t) => t.stem),
    ['token', '3riiwjrqeesos2durtx24f', 'expir'],
  );
  assert.equal(key[1].end - key[1].start, '3RiIwJRqEEsoS2dUrtX24f'.length);
  // A name made of words still splits.
  assert.deepEqual(
    tokenize('ApplicationAuthorizationFailed').map((t) => t.stem),
    ['applic', 'authoriz', 'fail'],
  );
  const blocked = compilePhrase('(ip|ip address|address) * (is|was)? (blocked|denied)');
  assert.ok(matchPhrase(blocked, 'Source IP address: 203.0.113.7 is blocked by the access list'));
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
