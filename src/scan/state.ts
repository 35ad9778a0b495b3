// The scan's state file: one SQLite database (node:sqlite, WAL) holding the
// configuration, every record the source gave, each record's outcome and the
// distinct denial signatures. Every outcome is written (to the outcome log,
// see `record`) before the worker that produced it sends its next request,
// so a killed scan resumes exactly where it stopped. WAL with synchronous=NORMAL
// survives a killed process (the OS has the pages); only a power cut can lose
// the last commits.
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { closeSync, existsSync, ftruncateSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { InputError } from '../errors.ts';
import type { ScanConfig } from './config.ts';
import { DENIAL_STATUSES_SQL } from '../engine/status.ts';

/**
 * Where a record is in its life. IN_FLIGHT is only found in state files
 * written by earlier versions, which marked every taken record; later ones
 * kept a `taken.through` mark (see `taken`). Records sent and not answered
 * are now known by the outcome log's sent lines (see `sending`).
 */
export const PENDING = 0;
export const IN_FLIGHT = 1;
export const DONE = 2;

export interface RecordOutcome {
  status: number | null;
  ms: number;
  attempts: number;
  signature?: string;
  error?: string;
}

export interface PendingRecord {
  seq: number;
  id: string;
}

export interface SignatureRow {
  key: string;
  status: number;
  producer: string;
  layer: string;
  cause: string;
  confidence: number;
  shape: string;
  report: string;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS records (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  fields TEXT,
  state INTEGER NOT NULL DEFAULT 0,
  status INTEGER,
  ms REAL,
  attempts INTEGER,
  signature TEXT,
  error TEXT
);
CREATE TABLE IF NOT EXISTS signatures (
  key TEXT PRIMARY KEY,
  status INTEGER NOT NULL,
  producer TEXT NOT NULL,
  layer TEXT NOT NULL,
  cause TEXT NOT NULL,
  confidence REAL NOT NULL,
  shape TEXT NOT NULL,
  report TEXT NOT NULL
);
`;

export const STATE_FORMAT = 'why403/scan-state@1';

/** Set in state files whose outcome log notes each record as it is sent: a crash then knows exactly which were in flight. */
const SENT_LINES = 'log.sent';
/** Records a crash left sent and unanswered, read from the log by `resume` and kept until `requeueInFlight` counts them. */
const UNANSWERED = 'log.unanswered';

/** Outcomes held before they are moved into the database (also moved every second; see Scan). */
const APPLY_EVERY = 8192;

/** Outcomes as columns: typed arrays for the numbers, one slot array each for the rare strings. */
class OutcomeColumns {
  readonly seq: Float64Array;
  /** -1: no answer. */
  readonly status: Int32Array;
  readonly ms: Float64Array;
  readonly attempts: Int32Array;
  readonly signature: (string | undefined)[];
  readonly error: (string | undefined)[];
  length = 0;
  /** How many of them are in the outcome log already. */
  written = 0;

  constructor(capacity: number) {
    this.seq = new Float64Array(capacity);
    this.status = new Int32Array(capacity);
    this.ms = new Float64Array(capacity);
    this.attempts = new Int32Array(capacity);
    this.signature = new Array<string | undefined>(capacity).fill(undefined);
    this.error = new Array<string | undefined>(capacity).fill(undefined);
  }

  get full(): boolean {
    return this.length === this.seq.length;
  }

  push(seq: number, o: RecordOutcome): void {
    const i = this.length++;
    this.seq[i] = seq;
    this.status[i] = o.status ?? -1;
    this.ms[i] = o.ms;
    this.attempts[i] = o.attempts;
    this.signature[i] = o.signature;
    this.error[i] = o.error;
  }

  clear(): void {
    this.signature.fill(undefined, 0, this.length);
    this.error.fill(undefined, 0, this.length);
    this.length = 0;
    this.written = 0;
  }
}

/** Rows per INSERT statement when records are added: one call into SQLite for many rows costs less than one per row. */
const INSERT_ROWS = 250;

export class ScanState {
  readonly path: string;
  readonly db: DatabaseSync;
  private readonly insertRecord: StatementSync;
  private readonly insertRecords: StatementSync;
  private readonly finishRecord: StatementSync;
  private readonly pendingAfter: StatementSync;
  private readonly setMeta: StatementSync;
  private readonly getMeta: StatementSync;

  /** Opened by a reader (`scan diff`): never writes, not even the outcome log's replay. */
  private readonly readOnlyView: boolean;

  private constructor(path: string, db: DatabaseSync, readOnlyView = false) {
    this.path = path;
    this.db = db;
    this.readOnlyView = readOnlyView;
    this.insertRecord = db.prepare('INSERT OR IGNORE INTO records (id, fields) VALUES (?, ?)');
    this.insertRecords = db.prepare(
      `INSERT OR IGNORE INTO records (id, fields) VALUES ${Array(INSERT_ROWS).fill('(?, ?)').join(', ')}`,
    );
    this.finishRecord = db.prepare(
      `UPDATE records SET state = ${DONE}, status = ?, ms = ?, attempts = ?, signature = ?, error = ? WHERE seq = ?`,
    );
    this.pendingAfter = db.prepare(
      `SELECT json_group_array(seq ORDER BY seq) AS seqs, json_group_array(id ORDER BY seq) AS ids FROM (SELECT seq, id FROM records WHERE state = ${PENDING} AND seq > ? ORDER BY seq LIMIT ?)`,
    );
    this.setMeta = db.prepare(
      'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
    );
    this.getMeta = db.prepare('SELECT value FROM meta WHERE key = ?');
  }

  private static open(path: string): DatabaseSync {
    const db = new DatabaseSync(path);
    // A larger WAL between checkpoints (a page changed again before the checkpoint is copied once), and a
    // page cache that holds the records between being read to be taken and their outcomes being applied
    // (at the default 2 MB they were read from the WAL again): fixed sizes, so memory stays flat.
    db.exec(
      'PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000; PRAGMA wal_autocheckpoint = 4000; PRAGMA cache_size = -16000;',
    );
    return db;
  }

  /** A new state file; refuses to overwrite one that exists (it may hold another scan's work). */
  static create(path: string, config: ScanConfig): ScanState {
    if (existsSync(path))
      throw new InputError(
        path,
        'a state file already exists here; continue it with --resume, or choose another --state',
      );
    let db: DatabaseSync;
    try {
      db = ScanState.open(path);
    } catch (e) {
      throw new InputError(path, `cannot create the state file here (${(e as Error).message})`);
    }
    db.exec(SCHEMA);
    const state = new ScanState(path, db);
    state.meta('format', STATE_FORMAT);
    state.meta('config', JSON.stringify(config));
    state.meta('createdAt', new Date().toISOString());
    state.meta(SENT_LINES, '1');
    return state;
  }

  static resume(path: string): ScanState {
    if (!existsSync(path))
      throw new InputError(path, 'no such state file (expected the file a previous `why403 scan` wrote)');
    let db: DatabaseSync;
    try {
      db = ScanState.open(path);
      const row = db.prepare("SELECT value FROM meta WHERE key = 'format'").get() as { value: string } | undefined;
      if (row?.value !== STATE_FORMAT) throw new Error('format');
    } catch {
      throw new InputError(path, `not a why403 scan state file (expected ${STATE_FORMAT})`);
    }
    const state = new ScanState(path, db);
    state.replayLog(true);
    return state;
  }

  /** Read-only access for `scan diff` and reports, while a scan may still be writing. */
  static readOnly(path: string): ScanState {
    if (!existsSync(path)) throw new InputError(path, 'no such state file');
    let db: DatabaseSync;
    try {
      db = new DatabaseSync(path, { readOnly: true });
      const row = db.prepare("SELECT value FROM meta WHERE key = 'format'").get() as { value: string } | undefined;
      if (row?.value !== STATE_FORMAT) throw new Error('format');
    } catch {
      throw new InputError(path, `not a why403 scan state file (expected ${STATE_FORMAT})`);
    }
    return new ScanState(path, db, true);
  }

  meta(key: string, value?: string): string | undefined {
    if (value !== undefined) {
      this.setMeta.run(key, value);
      return value;
    }
    return (this.getMeta.get(key) as { value: string } | undefined)?.value;
  }

  config(): ScanConfig {
    return JSON.parse(this.meta('config')!) as ScanConfig;
  }

  /**
   * Adds records from the source and the source's new position in one
   * transaction: a crash leaves either both or neither. Returns how many
   * were new (a repeated id is counted, not scanned twice).
   */
  addRecords(records: { id: string; fields?: string }[], position: Record<string, string>): number {
    let added = 0;
    this.db.exec('BEGIN');
    try {
      let i = 0;
      const params: (string | null)[] = new Array(INSERT_ROWS * 2);
      for (; i + INSERT_ROWS <= records.length; i += INSERT_ROWS) {
        for (let j = 0; j < INSERT_ROWS; j++) {
          params[2 * j] = records[i + j].id;
          params[2 * j + 1] = records[i + j].fields ?? null;
        }
        added += Number(this.insertRecords.run(...params).changes);
      }
      for (; i < records.length; i++)
        added += Number(this.insertRecord.run(records[i].id, records[i].fields ?? null).changes);
      for (const [k, v] of Object.entries(position)) this.setMeta.run(k, v);
      this.db.exec('COMMIT');
    } catch (e) {
      this.db.exec('ROLLBACK');
      throw e;
    }
    return added;
  }

  /**
   * The next pending records after `afterSeq`, as two arrays rather than an
   * object a row: a batch lives while its records are fetched, long enough
   * for V8 to move objects to the old generation, whose garbage then grew
   * the heap with the number of records.
   */
  pending(afterSeq: number, limit: number): { seqs: number[]; ids: string[] } {
    const row = this.pendingAfter.get(afterSeq, limit) as { seqs: string; ids: string };
    return { seqs: JSON.parse(row.seqs) as number[], ids: JSON.parse(row.ids) as string[] };
  }

  /**
   * Notes that every record up to `throughSeq` has been taken (records are
   * taken in seq order), as earlier versions did. A mark left by one of
   * them is how --resume counts what that version left unfinished; the
   * scan now notes each record as it is sent (`sending`) instead.
   */
  taken(throughSeq: number): void {
    this.setMeta.run('taken.through', String(throughSeq));
  }

  /** Records sent and not yet answered (at most one a worker). */
  private readonly unanswered = new Set<number>();
  /** Their sent lines not yet in the outcome log. */
  private sentLines = '';

  /**
   * Notes that the record's request is about to leave: a line `[seq]` in the
   * outcome log. The worker notes it as it hands the request over, in the
   * turn whose outcomes are written together (so it costs no write of its
   * own), and the client's `beforeSend` makes sure of it (and writes it, with
   * `flushLog`) before the request is written. After a crash, the records
   * with a sent line and no outcome are exactly those in flight: --resume
   * names how many it requests again, not the whole batch taken.
   */
  sending(seq: number): void {
    if (this.unanswered.has(seq)) return;
    this.unanswered.add(seq);
    this.sentLines += `[${seq}]\n`;
  }

  private logFd?: number;
  /**
   * Outcomes logged (or about to be) but not yet in the database, held in
   * columns rather than an object each: they live up to a second, long
   * enough for V8 to move per-record objects to its old generation, whose
   * garbage then grew the heap with the number of records.
   */
  private readonly logged = new OutcomeColumns(APPLY_EVERY);
  private flushScheduled = false;
  /** Why the outcome log could not be written; the scan stops on it. */
  writeError?: unknown;

  /** The outcome log beside the database (see `record`). */
  get logPath(): string {
    return `${this.path}.outcomes`;
  }

  /**
   * Queues an outcome for the outcome log. The line is written (one write(2),
   * in the OS's hands: a killed process loses nothing) at the end of this
   * turn of the event loop, together with every other outcome of the turn
   * (a group commit: a write per record cost more than a tenth of the
   * scan's CPU time), and in any case before the next request leaves: the
   * scan's client calls `flushLog` before it writes a request (see Scan).
   * The database receives the logged outcomes in batches (`applyLog`): a
   * SQLite commit per record would cost a third of the scan's throughput
   * (docs/performance.md). Lines are idempotent, so replaying an already
   * applied one is harmless.
   */
  record(seq: number, o: RecordOutcome): void {
    this.unanswered.delete(seq);
    // Full only if a second's outcomes outnumber APPLY_EVERY and the turn's check has not run yet.
    if (this.logged.full) this.applyLog();
    this.logged.push(seq, o);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      // After the poll phase: every response that arrived in this turn has been logged by then.
      setImmediate(() => {
        this.flushScheduled = false;
        try {
          this.flushLog();
          if (this.logged.length >= APPLY_EVERY) this.applyLog();
        } catch (e) {
          // The workers see it before they take another record.
          this.writeError ??= e;
        }
      });
    }
  }

  /** Writes the queued outcome lines now, if there are any. Throws if the log cannot be written. */
  flushLog(): void {
    const c = this.logged;
    if (c.written === c.length && !this.sentLines) return;
    if (this.writeError) throw this.writeError;
    // The lines are made here, once a turn, from the columns.
    let lines = '';
    for (let i = c.written; i < c.length; i++) {
      const sig = c.signature[i];
      const err = c.error[i];
      lines += `[${c.seq[i]},${c.status[i] < 0 ? null : c.status[i]},${Math.round(c.ms[i] * 100) / 100},${c.attempts[i]},${sig === undefined ? 'null' : JSON.stringify(sig)},${err === undefined ? 'null' : JSON.stringify(err)}]\n`;
    }
    try {
      this.logFd ??= openSync(this.logPath, 'a');
      writeSync(this.logFd, lines + this.sentLines);
    } catch (e) {
      this.writeError = e;
      throw e;
    }
    c.written = c.length;
    this.sentLines = '';
  }

  /**
   * Moves the logged outcomes into the database in one transaction, then
   * empties the log.
   */
  applyLog(): void {
    const c = this.logged;
    if (!c.length) return;
    this.transaction(() => {
      for (let i = 0; i < c.length; i++)
        this.finishRecord.run(
          c.status[i] < 0 ? null : c.status[i],
          c.ms[i],
          c.attempts[i],
          c.signature[i] ?? null,
          c.error[i] ?? null,
          c.seq[i],
        );
    });
    // Lines not written yet need no writing now: their outcomes are committed.
    c.clear();
    if (this.logFd !== undefined) {
      ftruncateSync(this.logFd, 0);
      // The records still in flight keep their sent lines (a few: one a worker).
      this.sentLines = '';
      for (const seq of this.unanswered) this.sentLines += `[${seq}]\n`;
      try {
        if (this.sentLines) this.flushLog();
      } catch {
        // Kept in writeError: the workers stop on it before their next record.
      }
    }
  }

  /** Outcomes a killed scan logged but never applied. A torn last line (no newline) was never acknowledged and is skipped. */
  private replayLog(truncate: boolean): number {
    if (!existsSync(this.logPath)) return 0;
    const text = readFileSync(this.logPath, 'utf8');
    const lines = text.split('\n');
    lines.pop();
    const rows: [number, RecordOutcome][] = [];
    const sent = new Set<number>();
    for (const line of lines) {
      try {
        const parsed = JSON.parse(line) as unknown[];
        // A sent line: the record's request left (see `sending`).
        if (parsed.length === 1 && typeof parsed[0] === 'number') {
          sent.add(parsed[0]);
          continue;
        }
        const [seq, status, ms, attempts, signature, error] = parsed as [
          number,
          number | null,
          number,
          number,
          string | null,
          string | null,
        ];
        rows.push([seq, { status, ms, attempts, ...(signature ? { signature } : {}), ...(error ? { error } : {}) }]);
      } catch {
        // a damaged line: its record stays pending and is fetched again
      }
    }
    for (const [seq] of rows) sent.delete(seq);
    if (rows.length)
      this.transaction(() => {
        for (const [seq, o] of rows) this.finish(seq, o);
      });
    if (truncate) {
      // Kept in the database before the log goes: a crash before --resume counts them loses nothing.
      if (sent.size) {
        const before = JSON.parse(this.meta(UNANSWERED) ?? '[]') as number[];
        this.meta(UNANSWERED, JSON.stringify([...new Set([...before, ...sent])]));
      }
      unlinkSync(this.logPath);
    }
    return rows.length;
  }

  private transaction(fn: () => void): void {
    this.db.exec('BEGIN');
    try {
      fn();
      this.db.exec('COMMIT');
    } catch (e) {
      this.db.exec('ROLLBACK');
      throw e;
    }
  }

  /**
   * After a clean stop every record in flight has finished or was ended on
   * purpose (Ctrl-C; it stays pending): nothing is left unanswered by a crash.
   */
  releaseTaken(): void {
    this.setMeta.run('taken.through', '0');
    this.unanswered.clear();
    this.sentLines = '';
  }

  finish(seq: number, o: RecordOutcome): void {
    this.finishRecord.run(o.status, o.ms, o.attempts, o.signature ?? null, o.error ?? null, seq);
  }

  /**
   * How many records a crash left in flight: sent, their answers never
   * recorded. They are still pending, so this run requests them again.
   * Clears what it counted. `sent` is false for a state file an earlier
   * version wrote, which knows only the records taken (a batch, sent or not).
   */
  requeueInFlight(): { count: number; sent: boolean } {
    // Earlier versions marked each taken record instead.
    const marked = Number(
      this.db.prepare(`UPDATE records SET state = ${PENDING} WHERE state = ${IN_FLIGHT}`).run().changes,
    );
    let count: number;
    const sent = this.meta(SENT_LINES) === '1';
    if (sent) {
      const seqs = JSON.parse(this.meta(UNANSWERED) ?? '[]') as number[];
      const pending = this.db.prepare(`SELECT state FROM records WHERE seq = ?`);
      count = seqs.filter((seq) => (pending.get(seq) as { state: number } | undefined)?.state === PENDING).length;
    } else {
      const through = Number(this.meta('taken.through') ?? '0');
      const row = this.db
        .prepare(`SELECT count(*) AS n FROM records WHERE state = ${PENDING} AND seq <= ?`)
        .get(through) as { n: number };
      count = Number(row.n);
    }
    this.db.prepare('DELETE FROM meta WHERE key = ?').run(UNANSWERED);
    // From now on, this run's log says which records it sends.
    this.meta(SENT_LINES, '1');
    this.releaseTaken();
    return { count: count + marked, sent: sent && !marked };
  }

  /** --retry-errors: records that ended in a network error or timeout are tried again. */
  requeueErrors(): number {
    return Number(
      this.db
        .prepare(
          `UPDATE records SET state = ${PENDING}, status = NULL, error = NULL, attempts = NULL, ms = NULL WHERE state = ${DONE} AND error IS NOT NULL`,
        )
        .run().changes,
    );
  }

  counts(): { total: number; done: number; denied: number; errors: number } {
    const row = this.db
      .prepare(
        `SELECT count(*) AS total,
                coalesce(sum(state = ${DONE}), 0) AS done,
                coalesce(sum(state = ${DONE} AND status IN ${DENIAL_STATUSES_SQL}), 0) AS denied,
                coalesce(sum(state = ${DONE} AND error IS NOT NULL), 0) AS errors
         FROM records`,
      )
      .get() as { total: number; done: number; denied: number; errors: number };
    return { total: Number(row.total), done: Number(row.done), denied: Number(row.denied), errors: Number(row.errors) };
  }

  saveSignature(s: SignatureRow): void {
    this.db
      .prepare(
        'INSERT OR IGNORE INTO signatures (key, status, producer, layer, cause, confidence, shape, report) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      )
      .run(s.key, s.status, s.producer, s.layer, s.cause, s.confidence, s.shape, s.report);
  }

  /** A signature diagnosed again with the scan's evidence keeps its key (records point to it). */
  updateSignature(key: string, s: Omit<SignatureRow, 'key'>): void {
    this.db
      .prepare('UPDATE signatures SET producer = ?, layer = ?, cause = ?, confidence = ?, report = ? WHERE key = ?')
      .run(s.producer, s.layer, s.cause, s.confidence, s.report, key);
  }

  signatures(): SignatureRow[] {
    return this.db.prepare('SELECT * FROM signatures').all() as unknown as SignatureRow[];
  }

  close(): void {
    if (this.db.isOpen && !this.readOnlyView) this.applyLog();
    if (this.logFd !== undefined) {
      closeSync(this.logFd);
      this.logFd = undefined;
      if (this.db.isOpen && !this.readOnlyView) unlinkSync(this.logPath);
    }
    if (this.db.isOpen) this.db.close();
  }
}
