// Denial events into OpenTelemetry, so the collector and store a team already
// runs receive them: each event becomes a log record (through the global
// LoggerProvider of @opentelemetry/api-logs) and an event on the request's
// active span (through @opentelemetry/api). Attributes take OpenTelemetry's
// semantic-convention names where one exists (`http.request.method`,
// `http.route`, `http.response.status_code`, `client.address`, `enduser.id`)
// and `why403.*` for the rest, so a query written for HTTP spans finds them.
//
//   import { otelSink } from 'why403/otel';
//   app.use(why403({ sinks: [otelSink()] }));
//
// Published as the subpath `why403/otel`: the only module that imports the
// OpenTelemetry APIs, which are optional peer dependencies. Without an SDK
// registered the APIs are no-ops and the sink costs next to nothing.
import { context, trace, TraceFlags, type Attributes, type Context } from '@opentelemetry/api';
import { logs, SeverityNumber } from '@opentelemetry/api-logs';
import type { DenialEvent, DenialSink } from '../events.ts';

export interface OtelSinkOptions {
  /** The logger's (instrumentation scope's) name: default "why403". */
  loggerName?: string;
  /** Add a `why403.denial` event to the active span (default true). */
  spanEvents?: boolean;
  /** Emit a log record (default true). */
  logRecords?: boolean;
}

/** The span event's name, and the log record's event name. */
export const DENIAL_EVENT_NAME = 'why403.denial';

/** A denial event's fields as OpenTelemetry attributes: absent fields are left out, never written as empty. */
export function denialAttributes(e: DenialEvent): Attributes {
  const a: Attributes = {
    'http.request.method': e.method,
    'http.response.status_code': e.status,
    'why403.cause': e.cause,
  };
  if (e.route !== undefined) a['http.route'] = e.route;
  if (e.client !== undefined) a['client.address'] = e.client;
  if (e.principal !== undefined) a['enduser.id'] = e.principal;
  if (e.resource !== undefined) a['why403.resource'] = e.resource;
  if (e.rule !== undefined) a['why403.rule'] = e.rule;
  if (e.gap) {
    a['why403.gap.required'] = e.gap.required;
    a['why403.gap.held'] = e.gap.held;
  }
  if (e.hidden) a['why403.hidden'] = true;
  if (e.deniedAs !== undefined) a['why403.denied_as'] = e.deniedAs;
  if (e.requestId !== undefined) a['why403.request_id'] = e.requestId;
  return a;
}

const TRACE_ID = /^[0-9a-f]{32}$/;
const SPAN_ID = /^[0-9a-f]{16}$/;

/**
 * The context a log record is tied to: the active one when a span is active
 * (the SDK reads the trace from it); otherwise the trace the request named in
 * its `traceparent` (the event's traceId and spanId), so the record still
 * joins its trace in the store.
 */
function contextOf(e: DenialEvent): Context | undefined {
  const active = context.active();
  if (trace.getSpan(active)) return undefined;
  if (!e.traceId || !e.spanId || !TRACE_ID.test(e.traceId) || !SPAN_ID.test(e.spanId)) return undefined;
  return trace.setSpanContext(active, {
    traceId: e.traceId,
    spanId: e.spanId,
    traceFlags: TraceFlags.SAMPLED,
    isRemote: true,
  });
}

export function otelSink(o: OtelSinkOptions = {}): DenialSink {
  const spanEvents = o.spanEvents ?? true;
  const logRecords = o.logRecords ?? true;
  // Got once (getLogger is not for hot paths): before an SDK is registered the
  // API hands out a proxy that delegates to the provider registered later.
  const logger = logs.getLogger(o.loggerName ?? 'why403');
  return {
    emit(e) {
      const attributes = denialAttributes(e);
      if (logRecords) {
        const ctx = contextOf(e);
        logger.emit({
          eventName: DENIAL_EVENT_NAME,
          severityNumber: SeverityNumber.WARN,
          severityText: 'WARN',
          body: e.msg,
          attributes,
          timestamp: e.time,
          ...(ctx ? { context: ctx } : {}),
        });
      }
      if (spanEvents) trace.getActiveSpan()?.addEvent(DENIAL_EVENT_NAME, attributes, e.time);
    },
  };
}
