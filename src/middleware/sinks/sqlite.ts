// Denial events into an embedded SQLite file, for an API on one machine that
// has no log pipeline: `why403 events FILE` reads it (top reasons,
// principals, routes, over time). node:sqlite (no native addon), WAL so the
// reader never blocks the app, one table `denials` with a column per event
// field (the gap as JSON) and an index on time, inserts through one prepared
// statement.
//
//   import { sqliteSink } from 'why403/sqlite';   // a subpath of its own, as why403/otel
//   const denials = sqliteSink('/var/lib/orders-api/denials.sqlite');
//   app.use(why403({ sinks: [denials] }));   // and denials.close() at shutdown
//
// Inserts are synchronous, one transaction each: in WAL mode with
// synchronous=NORMAL there is no fsync, and an insert takes some tens of
// microseconds on the event loop (about 70 µs measured on a build
// container's disk) — fine for one machine's denials, the rare path, and no
// event is lost when the process dies (a power cut may lose the last
// commits). Several processes may write one file;
// busyTimeoutMs is how long an insert waits for another's lock. A fleet of
// machines wants the JSON lines or OpenTelemetry sinks instead.
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import type { DenialEvent, DenialSink } from '../events.ts';

/** The table's layout version, kept in SQLite's user_version: the reader checks it. */
export const DENIALS_TABLE_VERSION = 1;

/** One column per DenialEvent field, in the event's order; `gap` is JSON, `hidden` 0 or 1. */
export const DENIALS_SCHEMA = `
CREATE TABLE IF NOT EXISTS denials (
  id INTEGER PRIMARY KEY,
  level INTEGER NOT NULL,
  time INTEGER NOT NULL,
  msg TEXT NOT NULL,
  schema TEXT NOT NULL,
  principal TEXT,
  method TEXT NOT NULL,
  route TEXT,
  resource TEXT,
  cause TEXT NOT NULL,
  gap TEXT,
  rule TEXT,
  status INTEGER NOT NULL,
  denied_as INTEGER,
  hidden INTEGER,
  client TEXT,
  request_id TEXT,
  trace_id TEXT,
  span_id TEXT
);
CREATE INDEX IF NOT EXISTS denials_time ON denials (time);
`;

const INSERT = `INSERT INTO denials
  (level, time, msg, schema, principal, method, route, resource, cause, gap, rule, status, denied_as, hidden, client, request_id, trace_id, span_id)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

export interface SqliteSinkOptions {
  /** How long an insert waits for another process's lock on the file (default 5000 ms). */
  busyTimeoutMs?: number;
}

export interface SqliteSink extends DenialSink {
  /** Closes the file; events emitted after it throw (the middleware reports a failing sink and answers all the same). */
  close(): void;
}

export function sqliteSink(path: string, o: SqliteSinkOptions = {}): SqliteSink {
  const busy = o.busyTimeoutMs ?? 5000;
  if (!Number.isInteger(busy) || busy < 0)
    throw new TypeError(`why403 sqliteSink: busyTimeoutMs must be a whole number of milliseconds, got ${busy}`);
  const db = new DatabaseSync(path);
  let insert: StatementSync;
  try {
    db.exec(`PRAGMA busy_timeout = ${busy}`);
    // A denials table another program wrote: say so before changing anything in its file.
    const existing = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'denials'").get();
    if (existing)
      try {
        db.prepare(INSERT);
      } catch (e) {
        throw new Error(
          `why403 sqliteSink: ${path} has a denials table in another layout (${(e as Error).message}); give the sink a file of its own`,
        );
      }
    db.exec('PRAGMA journal_mode = WAL');
    db.exec('PRAGMA synchronous = NORMAL');
    db.exec(DENIALS_SCHEMA);
    const version = (db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version;
    if (version === 0) db.exec(`PRAGMA user_version = ${DENIALS_TABLE_VERSION}`);
    else if (version !== DENIALS_TABLE_VERSION)
      throw new Error(
        `why403 sqliteSink: ${path} holds denials in layout ${version}; this version writes layout ${DENIALS_TABLE_VERSION}`,
      );
    insert = db.prepare(INSERT);
  } catch (e) {
    db.close();
    throw e;
  }
  return {
    emit(e: DenialEvent) {
      insert.run(
        e.level,
        e.time,
        e.msg,
        e.schema,
        e.principal ?? null,
        e.method,
        e.route ?? null,
        e.resource ?? null,
        e.cause,
        e.gap ? JSON.stringify(e.gap) : null,
        e.rule ?? null,
        e.status,
        e.deniedAs ?? null,
        e.hidden ? 1 : null,
        e.client ?? null,
        e.requestId ?? null,
        e.traceId ?? null,
        e.spanId ?? null,
      );
    },
    close() {
      if (db.isOpen) db.close();
    },
  };
}
