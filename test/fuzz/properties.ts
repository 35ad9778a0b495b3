// The fuzz properties: which arbitrary feeds which target (see ./checks.ts).
import fc from 'fast-check';
import type { Target } from './checks.ts';
import * as A from './arbitraries.ts';

export interface FuzzProperty {
  name: string;
  target: Target;
  arbitrary: fc.Arbitrary<unknown>;
  /** Share of the default run count (curl runs are dearer). */
  weight?: number;
}

export const PROPERTIES: FuzzProperty[] = [
  { name: 'raw: random HTTP text', target: 'raw', arbitrary: A.rawHttp },
  { name: 'json: text, cut and spliced', target: 'json-text', arbitrary: A.jsonExchangeText },
  { name: 'json: parsed values with wrong types', target: 'json-value', arbitrary: A.jsonExchangeValue },
  { name: 'har: HAR-like objects with wrong types, truncated, bytes', target: 'har', arbitrary: A.harInput },
  { name: 'detect: any input through importText', target: 'detect', arbitrary: A.anyInputText },
  { name: 'detect: any bytes through importFile (UTF-16, BOMs, binary)', target: 'file', arbitrary: A.fileBytes },
  { name: 'curl: bash commands from random options and quoting', target: 'curl', arbitrary: A.curlBash },
  { name: 'curl: argv from random options', target: 'curl-argv', arbitrary: A.curlArgv },
  { name: 'curl-cmd: cmd.exe commands', target: 'curl-cmd', arbitrary: A.curlCmd },
  {
    name: 'curl-options: curlForCheck on random argv and commands',
    target: 'curl-check',
    arbitrary: fc.oneof(A.curlArgv, A.curlBash),
  },
  { name: 'token: JWT-like strings, headers, URLs', target: 'token', arbitrary: A.tokenInput },
  { name: 'engine: arbitrary well-typed exchanges', target: 'engine', arbitrary: A.exchange },
];

/** The seed every property runs with: FUZZ_SEED, or a fixed number so CI runs are reproducible. */
export const DEFAULT_SEED = 403_401;
export function fuzzSeed(): number {
  const s = process.env.FUZZ_SEED;
  if (s === undefined || s === '') return DEFAULT_SEED;
  const n = Number(s);
  if (!Number.isSafeInteger(n)) throw new Error(`FUZZ_SEED must be an integer, got ${JSON.stringify(s)}`);
  return n;
}

/** Runs per property: FUZZ_RUNS, or 300. */
export function fuzzRuns(): number {
  const n = Number(process.env.FUZZ_RUNS ?? 300);
  return Number.isInteger(n) && n > 0 ? n : 300;
}
