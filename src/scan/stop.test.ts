// A scan's stop reasons are data; their words are what the summary's
// `run.stopped` and the last stderr line said when the reason was text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeStop, StopSwitch } from './stop.ts';

test('each stop in words', () => {
  assert.equal(describeStop({ kind: 'interrupted', signal: 'SIGINT' }), 'interrupted (SIGINT)');
  assert.equal(describeStop({ kind: 'interrupted' }), 'interrupted');
  assert.equal(
    describeStop({ kind: 'retry-after', host: '127.0.0.1:8080', waitMs: 3_600_400 }),
    '127.0.0.1:8080 asked to wait 3600 s (Retry-After), longer than --max-wait; resume later',
  );
  assert.equal(
    describeStop({ kind: 'no-answer', inARow: 20, lastError: 'connection refused' }),
    '20 records in a row got no answer (last: connection refused); is the server up?',
  );
});

test('the first reason stands; the switch aborts its signal and tells its owner once', () => {
  let told = 0;
  const s = new StopSwitch(() => told++);
  assert.equal(s.stop({ kind: 'retry-after', host: 'h', waitMs: 1 }), true);
  assert.equal(s.stop({ kind: 'interrupted' }), false);
  assert.equal(s.reason?.kind, 'retry-after');
  assert.equal(s.signal.aborted, true);
  assert.equal(told, 1);
});
