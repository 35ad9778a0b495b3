import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CredentialInspection } from '../model/credential.ts';
import type { Rule } from '../model/rule.ts';
import { judgeCredential } from './credential.ts';

const inspection: CredentialInspection = {
  scheme: 'bearer-jwt',
  items: [],
  observations: [
    { id: 'a', kind: 'bearer-scheme-case', text: 'first', source: 'header:authorization' },
    { id: 'b', kind: 'window-expired', text: 'second', source: 'claim:exp' },
    { id: 'c', kind: 'token-quoted', text: 'third', source: 'header:authorization' },
  ],
  clock: { local: '2026-11-22T12:00:00Z' },
};

const rule = (id: string, judge?: Rule['judge']): Rule => ({
  meta: { id, kind: 'cause', description: '', docs: [], causes: [], statuses: [403], messages: {}, fixes: {} },
  run: () => undefined,
  ...(judge ? { judge } : {}),
});

test('each observation is judged by the first rule that speaks for it, strongest first', () => {
  const report = judgeCredential(
    [
      rule('silent'),
      rule('expiry', (o) => (o.kind === 'window-expired' ? { cause: 'credential-expired', weight: 0.9 } : undefined)),
      rule('shape', (o) => ({ cause: 'credential-malformed', weight: o.kind === 'token-quoted' ? 0.8 : 0.2 })),
      rule('late', () => ({ cause: 'clock-skew', weight: 1 })),
    ],
    inspection,
  );
  assert.deepEqual(
    report.findings.map((f) => [f.id, f.cause, f.weight]),
    [
      ['b', 'credential-expired', 0.9],
      ['c', 'credential-malformed', 0.8],
      ['a', 'credential-malformed', 0.2],
    ],
  );
  // The report's field order (design.md section 3): the judged findings sit where they always have.
  assert.deepEqual(Object.keys(report), ['scheme', 'items', 'findings', 'clock']);
});

test('an observation no rule speaks for stays in the report as a fact with no weight', () => {
  const report = judgeCredential([rule('silent')], inspection);
  assert.deepEqual(
    report.findings.map((f) => [f.id, f.cause, f.weight, f.text]),
    [
      ['a', 'unknown', 0, 'first'],
      ['b', 'unknown', 0, 'second'],
      ['c', 'unknown', 0, 'third'],
    ],
  );
});
