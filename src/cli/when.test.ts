import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseWhen } from './when.ts';
import { UsageError } from '../errors.ts';

test('parseWhen: a date alone is local midnight, as a date and time without a zone is local', () => {
  assert.equal(parseWhen('--since', '2026-12-05').getTime(), new Date(2026, 11, 5, 0, 0).getTime());
  assert.equal(parseWhen('--since', '2026-12-05 14:00').getTime(), new Date(2026, 11, 5, 14, 0).getTime());
  assert.equal(parseWhen('--since', '2026-12-05T14:00Z').toISOString(), '2026-12-05T14:00:00.000Z');
  assert.equal(parseWhen('--since', '2h', new Date('2026-12-05T14:00:00Z')).toISOString(), '2026-12-05T12:00:00.000Z');
});

test('parseWhen: a date the calendar or the clock does not have is refused, not rolled over', () => {
  for (const bad of [
    '2026-02-31',
    '2026-13-01',
    '2026-04-31T10:00',
    '2026-12-05T25:00',
    '2026-12-05T10:61',
    'yesterday',
  ])
    assert.throws(() => parseWhen('--since', bad), UsageError, bad);
  assert.equal(parseWhen('--until', '2028-02-29').getDate(), 29);
});
