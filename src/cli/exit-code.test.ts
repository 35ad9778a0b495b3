// The exit-code table: every kind of result a command produces, and its code.
// The codes are the ones the README's "Exit codes" table and --help document.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { errorKind, exitCode, type CommandResult, type ErrorKind } from './exit-code.ts';
import { InputError, NetworkError, UsageError, Why403Error } from '../errors.ts';
import { ListDeniedError } from '../scan/sources.ts';
import type { Report } from '../model/report.ts';

const none = { denied: 0, errors: 0 };

const TABLE: [string, CommandResult, number][] = [
  ['help, version, token, rules, a dry run', { kind: 'done' }, 0],
  ['why403 with no command', { kind: 'no-command' }, 2],
  ['check: allowed', { kind: 'reports', reports: [{ outcome: 'allowed' }] }, 0],
  [
    'check: 404, 429, 5xx are reported for what they are',
    { kind: 'reports', reports: [{ outcome: 'not-found' }, { outcome: 'rate-limited' }, { outcome: 'server-error' }] },
    0,
  ],
  ['check: 403', { kind: 'reports', reports: [{ outcome: 'denied' }] }, 1],
  ['check: 401 or 407', { kind: 'reports', reports: [{ outcome: 'allowed' }, { outcome: 'unauthenticated' }] }, 1],
  ['no reports', { kind: 'reports', reports: [] }, 0],
  ['explain: nothing denied', { kind: 'explained', denied: 0 }, 0],
  ['explain: some denied', { kind: 'explained', denied: 3 }, 1],
  ['scan: every record answered, none denied', { kind: 'scan', records: none }, 0],
  ['scan: some denied', { kind: 'scan', records: { denied: 2, errors: 5 } }, 1],
  ['scan: errors and none denied', { kind: 'scan', records: { denied: 0, errors: 1 } }, 3],
  [
    'scan: records in a row without an answer',
    { kind: 'scan', records: { denied: 4, errors: 20 }, stop: { kind: 'no-answer', inARow: 20, lastError: 'x' } },
    3,
  ],
  [
    'scan: Retry-After longer than --max-wait',
    { kind: 'scan', records: { denied: 4, errors: 0 }, stop: { kind: 'retry-after', host: 'h', waitMs: 1e6 } },
    75,
  ],
  [
    'scan: Ctrl-C',
    { kind: 'scan', records: { denied: 4, errors: 0 }, stop: { kind: 'interrupted', signal: 'SIGINT' } },
    130,
  ],
  ['scan: stopped by a library caller', { kind: 'scan', records: none, stop: { kind: 'interrupted' } }, 130],
  ['scan report: none denied (errors do not count)', { kind: 'scan-report', records: { denied: 0 } }, 0],
  ['scan report: some denied', { kind: 'scan-report', records: { denied: 1 } }, 1],
  ['scan diff: nothing newly forbidden', { kind: 'scan-diff', newlyForbidden: 0 }, 0],
  ['scan diff: some newly forbidden', { kind: 'scan-diff', newlyForbidden: 2 }, 1],
  ['audit: the matrix holds', { kind: 'audit', failing: 0 }, 0],
  ['audit: an unexpected cell', { kind: 'audit', failing: 2 }, 1],
  [
    'audit with a baseline: known failures, nothing changed',
    { kind: 'audit', failing: 2, baseline: { newlyOpen: 0, newlyDenied: 0 } },
    0,
  ],
  ['audit with a baseline: newly open', { kind: 'audit', failing: 0, baseline: { newlyOpen: 1, newlyDenied: 0 } }, 1],
  ['audit with a baseline: newly denied', { kind: 'audit', failing: 1, baseline: { newlyOpen: 0, newlyDenied: 1 } }, 1],
  ['audit: requests in a row without an answer', { kind: 'audit', failing: 9, stop: { kind: 'no-answer' } }, 3],
  ['audit: Retry-After longer than --max-wait', { kind: 'audit', failing: 0, stop: { kind: 'retry-after' } }, 75],
  ['audit: Ctrl-C', { kind: 'audit', failing: 0, stop: { kind: 'interrupted', signal: 'SIGINT' } }, 130],
  ['usage error', { kind: 'error', error: 'usage' }, 2],
  ['input error', { kind: 'error', error: 'input' }, 2],
  ['network failure', { kind: 'error', error: 'network' }, 3],
  ["the scan's list refused", { kind: 'error', error: 'list-denied' }, 1],
  ['internal error', { kind: 'error', error: 'internal' }, 70],
  ['standard output cannot be written', { kind: 'error', error: 'output-failed' }, 70],
  ['standard output closed by its reader', { kind: 'error', error: 'output-closed' }, 141],
];

for (const [what, result, code] of TABLE) test(`exit ${code}: ${what}`, () => assert.equal(exitCode(result), code));

test('the codes are exactly those the README documents', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const section = readme.slice(readme.indexOf('## Exit codes'));
  const documented = new Set(
    [...section.slice(0, section.indexOf('\n## ', 4)).matchAll(/^\| (\d+) \|/gm)].map((m) => Number(m[1])),
  );
  assert.deepEqual(
    [...new Set(TABLE.map((t) => t[2]))].sort((a, b) => a - b),
    [...documented].sort((a, b) => a - b),
  );
});

test("a thrown error's kind gives the exit code the error carries", () => {
  const report = { request: { url: 'https://x.test/list' }, status: 403 } as Report;
  const errors: [Why403Error, ErrorKind][] = [
    [new UsageError('x'), 'usage'],
    [new InputError('f', 'x'), 'input'],
    [new NetworkError('x'), 'network'],
    [new NetworkError('x', 'W403_TIMEOUT'), 'network'],
    [new ListDeniedError(report), 'list-denied'],
  ];
  for (const [e, kind] of errors) {
    assert.equal(errorKind(e), kind, e.name);
    assert.equal(exitCode({ kind: 'error', error: kind }), e.exitCode, e.name);
  }
  assert.equal(errorKind(Object.assign(new TypeError('x'), { code: 'ERR_PARSE_ARGS_UNKNOWN_OPTION' })), 'usage');
  assert.equal(errorKind(Object.assign(new TypeError('x'), { code: 'ERR_INVALID_ARG_VALUE' })), 'usage');
  assert.equal(errorKind(new TypeError('x')), 'internal');
  assert.equal(errorKind(undefined), 'internal');
});
