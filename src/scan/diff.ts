// `scan diff A B`: what changed between two scans of the same source —
// records newly forbidden (a permission regressed) and newly allowed (a
// grant landed, or an endpoint opened up). Joined inside SQLite, so two
// million-record scans compare without loading either into memory.
import { DatabaseSync } from 'node:sqlite';
import { ScanState, DONE } from './state.ts';
import { DENIAL_STATUSES_SQL } from '../engine/status.ts';

export const SCAN_DIFF_SCHEMA = 'why403/scan-diff@1';

export interface ScanDiffEntry {
  id: string;
  before: number | null;
  after: number | null;
  /** The denial signature's producer and cause, on the denied side. */
  producer?: string;
  cause?: string;
}

export interface ScanDiff {
  schema: typeof SCAN_DIFF_SCHEMA;
  before: string;
  after: string;
  /** Said when the two scans did not read the same source or request. */
  warnings: string[];
  counts: {
    newlyForbidden: number;
    newlyAllowed: number;
    otherChanges: number;
    unchanged: number;
    onlyBefore: number;
    onlyAfter: number;
  };
  /** Up to `limit` of each; the counts are complete. */
  newlyForbidden: ScanDiffEntry[];
  newlyAllowed: ScanDiffEntry[];
  otherChanges: ScanDiffEntry[];
}

const DENIED = DENIAL_STATUSES_SQL;
const ALLOWED = 'BETWEEN 200 AND 299';

export function diffScans(beforePath: string, afterPath: string, limit = 1000): ScanDiff {
  const a = ScanState.readOnly(beforePath);
  const b = ScanState.readOnly(afterPath);
  const warnings: string[] = [];
  const ca = a.config();
  const cb = b.config();
  if (JSON.stringify(ca.source) !== JSON.stringify(cb.source)) warnings.push('the two scans read different sources');
  if (ca.template !== cb.template || ca.method !== cb.method)
    warnings.push(`the two scans requested different URLs (${ca.method} ${ca.template} / ${cb.method} ${cb.template})`);
  const identity = (c: typeof ca) =>
    JSON.stringify(c.headers.map((h) => [h.name.toLowerCase(), h.secret?.sha256 ?? h.value]).sort());
  if (identity(ca) !== identity(cb))
    warnings.push(
      'the two scans sent different headers (another identity?): a change may be the identity, not the permissions',
    );
  for (const [s, p] of [
    [a, beforePath],
    [b, afterPath],
  ] as const) {
    const c = s.counts();
    if (c.done < c.total)
      warnings.push(
        `${p} is unfinished (${c.total - c.done} records not fetched); resume it for a complete comparison`,
      );
  }
  a.close();
  b.close();

  const db = new DatabaseSync(':memory:');
  try {
    db.prepare('ATTACH DATABASE ? AS a').run(beforePath);
    db.prepare('ATTACH DATABASE ? AS b').run(afterPath);
    const joined = `FROM a.records ra JOIN b.records rb ON ra.id = rb.id WHERE ra.state = ${DONE} AND rb.state = ${DONE}`;
    const newlyForbidden = `${joined} AND ra.status ${ALLOWED} AND rb.status IN ${DENIED}`;
    const newlyAllowed = `${joined} AND ra.status IN ${DENIED} AND rb.status ${ALLOWED}`;
    const other = `${joined} AND ra.status IS NOT rb.status AND NOT (ra.status ${ALLOWED} AND rb.status IN ${DENIED}) AND NOT (ra.status IN ${DENIED} AND rb.status ${ALLOWED})`;
    const count = (sql: string) => Number((db.prepare(`SELECT count(*) AS n ${sql}`).get() as { n: number }).n);
    const list = (sql: string, sigSide: 'a' | 'b') =>
      (
        db
          .prepare(
            `SELECT ra.id AS id, ra.status AS before, rb.status AS after, s.producer AS producer, s.cause AS cause ${sql.replace('FROM a.records ra JOIN b.records rb ON ra.id = rb.id', `FROM a.records ra JOIN b.records rb ON ra.id = rb.id LEFT JOIN ${sigSide}.signatures s ON s.key = r${sigSide}.signature`)} ORDER BY rb.seq LIMIT ?`,
          )
          .all(limit) as unknown as ScanDiffEntry[]
      ).map((e) => ({
        id: e.id,
        before: e.before,
        after: e.after,
        ...(e.producer ? { producer: e.producer, cause: e.cause } : {}),
      }));
    const unchanged = count(`${joined} AND ra.status IS rb.status`);
    const onlyBefore = Number(
      (
        db
          .prepare(
            'SELECT count(*) AS n FROM a.records ra WHERE NOT EXISTS (SELECT 1 FROM b.records rb WHERE rb.id = ra.id)',
          )
          .get() as { n: number }
      ).n,
    );
    const onlyAfter = Number(
      (
        db
          .prepare(
            'SELECT count(*) AS n FROM b.records rb WHERE NOT EXISTS (SELECT 1 FROM a.records ra WHERE ra.id = rb.id)',
          )
          .get() as { n: number }
      ).n,
    );
    return {
      schema: SCAN_DIFF_SCHEMA,
      before: beforePath,
      after: afterPath,
      warnings,
      counts: {
        newlyForbidden: count(newlyForbidden),
        newlyAllowed: count(newlyAllowed),
        otherChanges: count(other),
        unchanged,
        onlyBefore,
        onlyAfter,
      },
      newlyForbidden: list(newlyForbidden, 'b'),
      newlyAllowed: list(newlyAllowed, 'a'),
      otherChanges: list(other, 'b'),
    };
  } finally {
    db.close();
  }
}
