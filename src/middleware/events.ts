// One structured event per denial — who (the principal, never the
// credential), what (method, route template, resource id), why (cause, gap,
// the rule), where (client address, request id, trace id), when — written as
// a pino-compatible JSON line (level 40, `time` in epoch milliseconds, `msg`)
// so a team's log pipeline takes it as it is. Sinks receive the event: JSON
// lines to a stream, a pino logger, OpenTelemetry (sinks/otel.ts), SQLite on
// one machine (sinks/sqlite.ts), which `why403 events` reads.
import type { CauseId } from '../model/vocabulary.ts';
import { statusOf, type Denial, type Gap } from './denial.ts';

export const DENIAL_EVENT_SCHEMA = 'why403/denial@1';

/** pino's numeric level for "warn". */
export const WARN_LEVEL = 40;

export interface DenialEvent {
  /** pino's fields, first: a JSON line pino-pretty and pino's transports read as their own. */
  level: typeof WARN_LEVEL;
  /** Epoch milliseconds, as pino writes `time`. */
  time: number;
  msg: string;
  schema: typeof DENIAL_EVENT_SCHEMA;
  /** Who: the principal's id (a `sub`, a user name), never a credential. */
  principal?: string;
  method: string;
  /** The route template (`/orders/:id`), not the URL: events group by it and it holds no ids. */
  route?: string;
  resource?: string;
  cause: CauseId;
  gap?: Gap;
  rule?: string;
  /** The status the caller was answered: 404 when the route hides the resource. */
  status: number;
  /** The status the denial stands for, when it was hidden as a 404. */
  deniedAs?: 401 | 403;
  hidden?: boolean;
  client?: string;
  requestId?: string;
  traceId?: string;
  spanId?: string;
}

/** Where the request came from, as the integration reads it. */
export interface RequestFacts {
  method: string;
  route?: string;
  principal?: string;
  client?: string;
  requestId?: string;
  traceId?: string;
  spanId?: string;
}

export function denialEvent(d: Denial, facts: RequestFacts, o: { hidden?: boolean; now?: number } = {}): DenialEvent {
  const status = statusOf(d);
  return {
    level: WARN_LEVEL,
    time: o.now ?? Date.now(),
    msg: `access denied: ${d.cause}`,
    schema: DENIAL_EVENT_SCHEMA,
    ...(facts.principal !== undefined ? { principal: facts.principal } : {}),
    method: facts.method,
    ...(facts.route !== undefined ? { route: facts.route } : {}),
    ...(d.resource !== undefined ? { resource: d.resource } : {}),
    cause: d.cause,
    ...(d.gap ? { gap: d.gap } : {}),
    ...(d.rule ? { rule: d.rule } : {}),
    status: o.hidden ? 404 : status,
    ...(o.hidden ? { deniedAs: status, hidden: true } : {}),
    ...(facts.client !== undefined ? { client: facts.client } : {}),
    ...(facts.requestId !== undefined ? { requestId: facts.requestId } : {}),
    ...(facts.traceId !== undefined ? { traceId: facts.traceId } : {}),
    ...(facts.spanId !== undefined ? { spanId: facts.spanId } : {}),
  };
}

/** Receives every denial event. A sink must not throw into the request: failures are its own to report. */
export interface DenialSink {
  emit(event: DenialEvent): void;
}

/** JSON lines to a stream (a file, stdout): one event a line, pino's format. */
export function jsonLinesSink(stream: { write(chunk: string): unknown }): DenialSink {
  return { emit: (e) => void stream.write(JSON.stringify(e) + '\n') };
}

/** A pino logger (or any logger with pino's `warn(object, msg)`): the event's fields merged into its line. */
export function pinoSink(logger: { warn(obj: object, msg?: string): void }): DenialSink {
  return {
    emit: (e) => {
      const { level: _level, time: _time, msg, ...fields } = e;
      logger.warn(fields, msg);
    },
  };
}
