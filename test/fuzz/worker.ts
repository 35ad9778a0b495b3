// Runs fuzz properties (or replays a saved case) inside a worker thread, so
// that an input that hangs the code under test cannot freeze the test run:
// the parent (./harness.ts) watches the messages posted here and terminates
// the worker when they stop. Before each input its encoding is posted, so the
// parent knows which input was running when the worker went silent.
import { parentPort, workerData } from 'node:worker_threads';
import fc from 'fast-check';
import { checkTimed, encodeInput, decodeInput, warmUp, type Target } from './checks.ts';
import { PROPERTIES } from './properties.ts';

export type WorkerJob =
  | { kind: 'properties'; names: string[]; seed: number; numRuns: number }
  | { kind: 'replay'; cases: { name: string; target: Target; input: unknown }[] };

export interface Outcome {
  runs: number;
  /** Wall time of the whole property, generation and shrinking included. */
  ms: number;
  /** CPU time of the slowest input. */
  slowestMs: number;
}

export interface Failure {
  target: Target;
  input: unknown;
  error: string;
  seed?: number;
  path?: string;
}

export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'start'; name: string }
  | { type: 'input'; target: Target; input: unknown }
  | { type: 'passed'; name: string; outcome: Outcome }
  | { type: 'failed'; name: string; failure: Failure }
  | { type: 'crashed'; error: string };

/** Wall time one property may run, shrinking included (FUZZ_PROPERTY_MS). */
const PROPERTY_MS = Number(process.env.FUZZ_PROPERTY_MS ?? 20_000);

const port = parentPort!;
const post = (m: WorkerMessage) => port.postMessage(m);

async function runProperty(name: string, seed: number, numRuns: number): Promise<void> {
  const p = PROPERTIES.find((x) => x.name === name);
  if (!p) throw new Error(`no fuzz property named ${JSON.stringify(name)}`);
  post({ type: 'start', name });
  let slowest = 0;
  const t0 = performance.now();
  const property = fc.asyncProperty(p.arbitrary, async (input) => {
    post({ type: 'input', target: p.target, input: encodeInput(input) });
    slowest = Math.max(slowest, await checkTimed(p.target, input));
  });
  // Shrinking a large failing input (deep JSON) can take long: it stops after PROPERTY_MS, keeping the smallest case so far.
  const out = await fc.check(property, {
    seed,
    numRuns: Math.max(1, Math.round(numRuns * (p.weight ?? 1))),
    interruptAfterTimeLimit: PROPERTY_MS,
    markInterruptAsFailure: false,
  });
  if (out.failed) {
    const error = out.errorInstance instanceof Error ? out.errorInstance.message : String(out.errorInstance);
    post({
      type: 'failed',
      name,
      failure: {
        target: p.target,
        input: out.counterexample ? encodeInput(out.counterexample[0]) : null,
        error,
        seed: out.seed,
        path: out.counterexamplePath ?? undefined,
      },
    });
    return;
  }
  post({ type: 'passed', name, outcome: { runs: out.numRuns, ms: performance.now() - t0, slowestMs: slowest } });
}

async function main(job: WorkerJob): Promise<void> {
  await warmUp();
  post({ type: 'ready' });
  if (job.kind === 'properties') {
    for (const name of job.names) await runProperty(name, job.seed, job.numRuns);
    return;
  }
  for (const { name, target, input } of job.cases) {
    post({ type: 'start', name });
    post({ type: 'input', target, input });
    const t0 = performance.now();
    try {
      const cpu = await checkTimed(target, decodeInput(target, input));
      post({ type: 'passed', name, outcome: { runs: 1, ms: performance.now() - t0, slowestMs: cpu } });
    } catch (err) {
      post({
        type: 'failed',
        name,
        failure: { target, input, error: err instanceof Error ? err.message : String(err) },
      });
    }
  }
}

main(workerData as WorkerJob).catch((err) => post({ type: 'crashed', error: (err as Error)?.stack ?? String(err) }));
