// Runs fuzz jobs (./worker.ts) in a worker thread with a wall-clock watch:
// the worker posts each input before running it, and is terminated when it
// stays silent longer than STALL_MS (one input hanging) or runs past the
// job's deadline. A failure found is saved to ./found/ as a fixture that
// ./replay.test.ts replays, and the message says how to reproduce it.
import { Worker } from 'node:worker_threads';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { FoundCase, Target } from './checks.ts';
import { PER_INPUT_MS } from './checks.ts';
import type { Failure, Outcome, WorkerJob, WorkerMessage } from './worker.ts';

export const FOUND_DIR = join(import.meta.dirname, 'found');

/**
 * Silence longer than this means the input being run hangs. Each input is
 * allowed PER_INPUT_MS of CPU (checks.ts); wall time gets room for a loaded
 * machine, garbage collection and fast-check's shrinking.
 */
export const STALL_MS = Number(process.env.FUZZ_STALL_MS ?? 10 * PER_INPUT_MS);

export class FuzzFailed extends Error {
  override name = 'FuzzFailed';
}

function saveCase(c: FoundCase): string {
  mkdirSync(FOUND_DIR, { recursive: true });
  const hash = createHash('sha256')
    .update(JSON.stringify(c.input) ?? '')
    .digest('hex')
    .slice(0, 10);
  const file = join(FOUND_DIR, `${c.target}-${hash}.json`);
  writeFileSync(file, `${JSON.stringify(c, null, 2)}\n`);
  return relative(process.cwd(), file);
}

interface Deferred {
  promise: Promise<Outcome>;
  resolve: (o: Outcome) => void;
  reject: (e: Error) => void;
}

/**
 * Starts `job` in a worker and returns one promise per property (per case
 * for a replay). A property's promise rejects with a FuzzFailed
 * whose message holds the seed, fast-check's replay path, the input and the
 * fixture written for it.
 */
export function startJob(
  job: WorkerJob,
  opts: { deadlineMs: number; save?: boolean; label?: string },
): Map<string, Promise<Outcome>> {
  const names = job.kind === 'properties' ? job.names : job.cases.map((c) => c.name);
  const pending = new Map<string, Deferred>();
  const out = new Map<string, Promise<Outcome>>();
  for (const n of names) {
    const d = Promise.withResolvers<Outcome>();
    // Awaited by the tests; an unawaited rejection must not end the process.
    d.promise.catch(() => {});
    pending.set(n, d);
    out.set(n, d.promise);
  }
  const seed = job.kind === 'properties' ? job.seed : undefined;
  const seedNote = seed === undefined ? '' : ` (seed ${seed}; replay with FUZZ_SEED=${seed})`;
  const worker = new Worker(new URL('./worker.ts', import.meta.url), { workerData: job });
  let current: string | undefined;
  let last: { target: Target; input: unknown } | undefined;
  let stopped = false;
  let stall: NodeJS.Timeout | undefined;

  const settle = (name: string, err: Error | undefined, outcome?: Outcome) => {
    const d = pending.get(name);
    if (!d) return;
    pending.delete(name);
    if (err) d.reject(err);
    else d.resolve(outcome!);
    if (!pending.size) stop();
  };
  const stop = () => {
    if (stopped) return;
    stopped = true;
    clearTimeout(stall);
    clearTimeout(deadline);
    void worker.terminate();
  };
  const failure = (name: string, f: Failure): Error => {
    let saved = '';
    if (opts.save !== false && f.input !== null && f.input !== undefined && job.kind === 'properties') {
      saved = `\nSaved as ${saveCase({ target: f.target, property: name, seed: f.seed ?? seed!, input: f.input, error: f.error })}: replayed by test/fuzz/replay.test.ts.`;
    }
    const path = f.path ? `\nfast-check: { seed: ${f.seed}, path: "${f.path}" }` : '';
    return new FuzzFailed(
      `${opts.label ?? 'fuzz'} "${name}"${seedNote}: ${f.error}\ninput: ${JSON.stringify(f.input)?.slice(0, 2000)}${path}${saved}`,
    );
  };
  /** The worker is stuck or gone: the running property fails with its last input, the rest were not run. */
  const abort = (why: string) => {
    if (stopped) return;
    const running = current ?? names.find((n) => pending.has(n));
    if (running)
      settle(running, failure(running, { target: last?.target ?? 'engine', input: last?.input ?? null, error: why }));
    for (const n of [...pending.keys()])
      settle(
        n,
        new FuzzFailed(`fuzz "${n}"${seedNote}: not run: the fuzz worker was stopped while running "${running}"`),
      );
    stop();
  };
  const arm = (ms: number, why: string) => {
    clearTimeout(stall);
    stall = setTimeout(() => abort(why), ms);
  };
  // Loading the module graph and warming up may take longer than one input.
  arm(Math.max(STALL_MS, 30_000), 'the fuzz worker did not start in time');
  const deadline = setTimeout(
    () => abort(`the fuzz job did not finish within ${opts.deadlineMs} ms (the input shown was the last one started)`),
    opts.deadlineMs,
  );

  worker.on('message', (m: WorkerMessage) => {
    switch (m.type) {
      case 'ready':
      case 'start':
        if (m.type === 'start') current = m.name;
        last = undefined;
        arm(STALL_MS, `the fuzz worker went silent for ${STALL_MS} ms before running an input`);
        return;
      case 'input':
        last = { target: m.target, input: m.input };
        arm(STALL_MS, `one input ran for more than ${STALL_MS} ms without finishing (a hang?)`);
        return;
      case 'passed':
        settle(m.name, undefined, m.outcome);
        return;
      case 'failed':
        settle(m.name, failure(m.name, m.failure));
        return;
      case 'crashed':
        abort(`the fuzz worker failed: ${m.error}`);
        return;
    }
  });
  worker.on('error', (err) => abort(`the fuzz worker crashed: ${err.stack ?? err.message}`));
  worker.on('exit', (code) => abort(`the fuzz worker exited (code ${code}) without reporting`));
  return out;
}
