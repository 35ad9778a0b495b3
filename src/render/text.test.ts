import { test } from 'node:test';
import assert from 'node:assert/strict';
import { displayWidth, wrap } from './text.ts';
import { printable } from '../errors.ts';

test('displayWidth: colour codes take no column, wide characters two', () => {
  assert.equal(displayWidth('plain'), 5);
  assert.equal(displayWidth('\u001b[1mbold\u001b[22m'), 4);
  assert.equal(displayWidth('山田'), 4);
  assert.equal(displayWidth('e\u0301'), 1, 'a combining accent');
  assert.equal(displayWidth('…—'), 2);
});

test('wrap: words stay whole unless breakLong; every line fits', () => {
  const long = 'https://example.test/' + 'a'.repeat(100);
  assert.equal(wrap(`see ${long}`, 40, '  '), `  see\n  ${long}`, 'a URL stays pasteable by default');
  const cut = wrap(`see ${long} end`, 40, '  ', '', { breakLong: true });
  for (const line of cut.split('\n')) assert.ok(displayWidth(line) <= 40, line);
  assert.equal(
    cut
      .replace(/\n {2}/g, '')
      .replace('see ', '')
      .replace(' end', ''),
    long,
    'nothing lost',
  );
  assert.equal(wrap('short words only', 80, '  ', '', { breakLong: true }), 'short words only');
  for (const line of wrap('山田太郎'.repeat(20), 30, '', '', { breakLong: true }).split('\n'))
    assert.ok(displayWidth(line) <= 30, line);
});

test('printable: control characters escaped, text kept', () => {
  assert.equal(printable('a\u001b[31mb\u0007c\nd\te'), 'a\\x1b[31mb\\x07c\\nd\\te');
  assert.equal(printable('x\u202ey\u0085'), 'x\\u202ey\\x85');
  assert.equal(printable('café — 山田 …'), 'café — 山田 …');
});
