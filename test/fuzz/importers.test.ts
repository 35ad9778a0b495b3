// Property-based fuzzing of every importer, the token inspector and the
// engine (see ./checks.ts for the contracts, ./arbitraries.ts for the inputs).
// The properties run one after another in one worker thread with a
// wall-clock watch (./harness.ts); each is reported by a test of its own.
// The seed is fixed (FUZZ_SEED overrides it); FUZZ_RUNS sets runs per property.
import { test } from 'node:test';
import { PROPERTIES, fuzzRuns, fuzzSeed } from './properties.ts';
import { startJob } from './harness.ts';

const seed = fuzzSeed();
const numRuns = fuzzRuns();
const DEADLINE_MS = Number(process.env.FUZZ_DEADLINE_MS ?? 300_000);

const results = startJob(
  { kind: 'properties', names: PROPERTIES.map((p) => p.name), seed, numRuns },
  { deadlineMs: DEADLINE_MS, label: 'fuzz' },
);

for (const p of PROPERTIES) {
  test(`fuzz ${p.name}`, { timeout: DEADLINE_MS + 10_000 }, async (t) => {
    const r = await results.get(p.name)!;
    t.diagnostic(
      `seed ${seed}: ${r.runs} inputs in ${Math.round(r.ms)} ms, slowest input ${Math.round(r.slowestMs)} ms of CPU`,
    );
  });
}
