import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CredentialObservation, ObservationKind, ObservationMeasure } from '../../model/credential.ts';
import rule from './rule.ts';
import { judgeObservation } from './verdicts.ts';

const weigh = (kind: ObservationKind, measure?: ObservationMeasure) =>
  judgeObservation({ id: kind, kind, text: '', source: 'test', ...(measure ? { measure } : {}) }).weight;

test('the rule judges with its own verdicts, and only with causes it declares', () => {
  const o: CredentialObservation = { id: 'jwt-expired', kind: 'window-expired', text: 't', source: 'claim:exp' };
  assert.deepEqual(rule.judge?.(o), { cause: 'credential-expired', weight: 0.9 });
  for (const kind of ['window-skew-refused', 'azure-sas-ip-range', 'bearer-placeholder', 'token-quoted'] as const)
    assert.ok(rule.meta.causes.includes(judgeObservation({ id: kind, kind, text: '', source: '' }).cause), kind);
});

test('an expiry counts as much as the clock it was read by', () => {
  assert.equal(weigh('window-expired', { clockTrust: 1 }), 0.9);
  assert.ok(weigh('window-expired', { clockTrust: 0.65 }) < weigh('window-expired', { clockTrust: 0.9 }));
  assert.ok(weigh('window-not-yet-valid', { clockTrust: 0.8 }) < weigh('window-not-yet-valid', { clockTrust: 1 }));
  assert.ok(
    weigh('window-expired', { clockTrust: 1, withinLeeway: true }) < 0.5,
    'inside the leeway, a lenient server may accept it',
  );
});

test('a skew that refused the credential outranks the expiry it caused; a harmless one stays weak', () => {
  assert.ok(weigh('window-skew-refused') > weigh('window-expired-by-server'));
  assert.ok(weigh('window-skew-refused') > weigh('window-not-yet-valid-by-server'));
  assert.ok(weigh('window-skew-harmless') < 0.3);
  assert.ok(weigh('clock-skew-measured', { skewSeconds: 120 }) < weigh('clock-skew-measured', { skewSeconds: -400 }));
  assert.ok(weigh('clock-skew-measured', { skewSeconds: 400 }) < weigh('clock-skew-measured', { skewSeconds: 1200 }));
});

test('what was measured about a header’s shape moves its weight', () => {
  assert.ok(weigh('bearer-prefix-missing', { recognisedToken: true }) > weigh('bearer-prefix-missing', {}));
  assert.ok(weigh('token-trailing-whitespace', { lineBreak: true }) > weigh('token-trailing-whitespace', {}));
  assert.ok(weigh('bearer-placeholder', { sharedCommand: true }) < weigh('bearer-placeholder', {}));
});

test('weights stay within 0..1, rounded to hundredths', () => {
  const w = weigh('window-expired', { clockTrust: 0.333 });
  assert.equal(w, Math.round(w * 100) / 100);
  assert.ok(weigh('window-not-yet-valid', { clockTrust: 5 }) <= 1);
});
