// Issue 12: a denial body that is one long run of a character (or deep nesting,
// or one token repeated) must not make a diagnosis super-linear. The cases run
// in a worker thread so that a hang fails this test at the wall deadline
// instead of freezing the suite; each diagnosis must also stay under a second.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import type { Message } from './bodies.worker.ts';

const WALL_MS = Number(process.env.WHY403_ADVERSARIAL_WALL_MS ?? 20_000);
const PER_CASE_MS = 1_000;

test('adversarial bodies and header values: every rule, the engine and the scan signature stay fast', async () => {
  const worker = new Worker(new URL('./bodies.worker.ts', import.meta.url));
  const times: { name: string; ms: number }[] = [];
  let current = '(loading the rules)';
  let cases = 0;
  const t0 = performance.now();
  const outcome = await new Promise<'done' | 'timeout'>((resolve, reject) => {
    const timer = setTimeout(() => resolve('timeout'), WALL_MS);
    worker.on('message', (m: Message) => {
      if (m.kind === 'start') current = m.name;
      else if (m.kind === 'time') times.push({ name: m.name, ms: m.ms });
      else {
        cases = m.cases;
        clearTimeout(timer);
        resolve('done');
      }
    });
    worker.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
  await worker.terminate();
  const wall = Math.round(performance.now() - t0);
  const slowest = [...times]
    .sort((a, b) => b.ms - a.ms)
    .slice(0, 5)
    .map((t) => `${t.name}: ${Math.round(t.ms)} ms`);
  assert.equal(
    outcome,
    'done',
    `the worker did not finish within ${WALL_MS} ms; it was still on "${current}" after ${times.length} cases. Slowest so far:\n  ${slowest.join('\n  ')}`,
  );
  const slow = times.filter((t) => t.ms > PER_CASE_MS);
  assert.deepEqual(
    slow.map((t) => `${t.name}: ${Math.round(t.ms)} ms`),
    [],
    `cases over ${PER_CASE_MS} ms`,
  );
  assert.ok(cases > 1000, `only ${cases} cases ran`);
  if (process.env.WHY403_ADVERSARIAL_VERBOSE)
    console.log(`${cases} cases in ${wall} ms; slowest:\n  ${slowest.join('\n  ')}`);
});
