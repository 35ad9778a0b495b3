// Every case the fuzzing found (./found/*.json) replayed as a regular test:
// the bug it showed must stay fixed. The cases run in one worker with a
// wall-clock watch, so a case that once hung cannot freeze the suite.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FOUND_DIR, startJob } from './harness.ts';
import { TARGETS, type FoundCase } from './checks.ts';

const files = (() => {
  try {
    return readdirSync(FOUND_DIR)
      .filter((f) => f.endsWith('.json'))
      .sort();
  } catch {
    return [];
  }
})();
const cases = files.map((f) => ({ file: f, ...(JSON.parse(readFileSync(join(FOUND_DIR, f), 'utf8')) as FoundCase) }));

const results = startJob(
  {
    kind: 'replay',
    cases: cases
      .filter((c) => TARGETS.includes(c.target))
      .map((c) => ({ name: c.file, target: c.target, input: c.input })),
  },
  { deadlineMs: 60_000, save: false, label: 'fuzz case' },
);

for (const c of cases) {
  test(`fuzz case ${c.file} (${c.target}): ${c.error.split('\n')[0]!.slice(0, 100)}`, { timeout: 70_000 }, async () => {
    assert.ok(TARGETS.includes(c.target), `${c.file}: unknown target ${c.target}`);
    await results.get(c.file);
  });
}
