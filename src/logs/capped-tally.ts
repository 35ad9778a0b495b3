// Counts by key with a bound on the keys, as `logs` and `events` tally paths,
// clients, principals and routes: past `max` distinct keys, the rest count
// under "(others)", so a hostile input cannot make the tally grow without end.

export const OTHERS = '(others)';

/** Distinct keys counted one by one; past this, "(others)". */
export const MAX_TALLY_KEYS = 10_000;

/**
 * A key copied out of the string it was sliced from: V8 keeps a slice's
 * parent alive, and a kept path must not keep a megabyte chunk of log with it.
 */
export const detached = (s: string) => Buffer.from(s, 'utf8').toString('utf8');

export class CappedTally {
  private readonly counts = new Map<string, number>();
  private readonly max: number;
  constructor(max = MAX_TALLY_KEYS) {
    this.max = max;
  }
  add(key: string | undefined): void {
    if (key === undefined || key === '') return;
    const held = this.counts.get(key);
    if (held !== undefined) this.counts.set(key, held + 1);
    else if (this.counts.size < this.max) this.counts.set(detached(key), 1);
    else this.counts.set(OTHERS, (this.counts.get(OTHERS) ?? 0) + 1);
  }
  /** The `n` largest, ties in key order. */
  top(n = 10): { key: string; count: number }[] {
    return [...this.counts]
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .slice(0, n)
      .map(([key, count]) => ({ key, count }));
  }
}
