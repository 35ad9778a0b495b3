import { test } from 'node:test';
import assert from 'node:assert/strict';
import rule from './rule.ts';
import { testRule } from '../_lib/tester.ts';
import { loadFixture } from '../_lib/fixtures.ts';
import { diagnoseWith } from '../../engine/diagnose.ts';
import { loadRules } from '../registry.ts';

testRule(rule, import.meta.dirname);

const fixture = (name: string) => loadFixture(`${import.meta.dirname}/fixtures/${name}.json`);

test('server-log: the same 403 page, told apart by the line the server logged for it', async () => {
  const rules = await loadRules();
  const file = fixture('nginx-unreadable-file');
  const withLog = diagnoseWith(rules, file.exchange);
  assert.equal(withLog.causes[0].id, 'filesystem-permission');
  assert.ok(withLog.causes[0].score >= 0.9, String(withLog.causes[0].score));
  assert.ok(withLog.causes[0].evidence.some((e) => e.source === 'log:error.log:1'));
  assert.match(
    withLog.causes[0].summary,
    /^The server's log gives the reason for this request: nginx permission-denied/,
  );
  assert.match(withLog.causes[0].fixes.map((f) => f.commands?.join(' ')).join(' '), /namei -l \/tmp\/.*secret\.txt/);
  // Without the log the page alone cannot tell the file from a deny rule.
  const pageOnly = diagnoseWith(rules, { ...file.exchange, logs: undefined });
  assert.notEqual(pageOnly.causes[0].id, 'filesystem-permission');
});

test('server-log: one message for several causes keeps them level, and rules out the rest', async () => {
  const rules = await loadRules();
  const report = diagnoseWith(rules, fixture('nginx-ip-rule').exchange);
  const top = report.causes
    .slice(0, 2)
    .map((c) => c.id)
    .sort();
  assert.deepEqual(top, ['ip-restricted', 'path-forbidden']);
  const file = report.causes.find((c) => c.id === 'filesystem-permission');
  assert.ok(!file || file.score < 0.2, `filesystem-permission set back: ${file?.score}`);
});
