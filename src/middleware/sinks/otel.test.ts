// The OpenTelemetry sink against the real SDK: a LoggerProvider exporting to
// memory, a tracer provider with a span made active around a real request to
// a Web-standard why403 app on 127.0.0.1, and the exact log record and span
// event that come out.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { context, trace } from '@opentelemetry/api';
import { logs, SeverityNumber } from '@opentelemetry/api-logs';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { why403, requireScope } from '../web.ts';
import { denialEvent } from '../events.ts';
import { otelSink } from './otel.ts';

const logExporter = new InMemoryLogRecordExporter();
const loggerProvider = new LoggerProvider({ processors: [new SimpleLogRecordProcessor({ exporter: logExporter })] });
const spanExporter = new InMemorySpanExporter();
const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spanExporter)] });
const tracer = tracerProvider.getTracer('test');
const contextManager = new AsyncLocalStorageContextManager();

const TOKEN = 'secret-bearer-token-value';
let server: Server;
let base: string;

before(async () => {
  logs.setGlobalLoggerProvider(loggerProvider);
  context.setGlobalContextManager(contextManager.enable());
  const app = why403({
    disclosure: 'gap',
    sinks: [otelSink()],
    // The token stands for a verified one whose claims are these.
    caller: (req) =>
      req.headers.get('authorization') === `Bearer ${TOKEN}`
        ? { principal: 'alice', scopes: ['read:orders'], roles: [] }
        : { scopes: [], roles: [] },
    client: () => '127.0.0.1',
  });
  const handler = app.guard([requireScope('write:orders')], () => new Response('ok'), { route: '/orders/:id' });
  // A plain node:http server: each request runs inside a span made active, as an HTTP instrumentation would.
  server = createServer((req, res) => {
    const span = tracer.startSpan(`${req.method} /orders/:id`);
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v);
    const request = new Request(`http://127.0.0.1${req.url}`, { method: req.method, headers });
    void context.with(trace.setSpan(context.active(), span), async () => {
      const r = await handler(request);
      res.writeHead(r.status, Object.fromEntries(r.headers));
      res.end(await r.text());
      span.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  await new Promise((r) => server.close(r));
  await loggerProvider.shutdown();
  await tracerProvider.shutdown();
  logs.disable();
  context.disable();
});

test('a denial becomes one OpenTelemetry log record and one span event, with the exact attributes', async () => {
  logExporter.reset();
  spanExporter.reset();
  const r = await fetch(`${base}/orders/42`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(r.status, 403);
  await r.text();
  const expected = {
    'http.request.method': 'POST',
    'http.response.status_code': 403,
    'why403.cause': 'insufficient-scope',
    'http.route': '/orders/:id',
    'client.address': '127.0.0.1',
    'enduser.id': 'alice',
    'why403.rule': 'scope write:orders',
    'why403.gap.required': ['write:orders'],
    'why403.gap.held': ['read:orders'],
  };

  const records = logExporter.getFinishedLogRecords();
  assert.equal(records.length, 1);
  const record = records[0]!;
  assert.equal(record.eventName, 'why403.denial');
  assert.equal(record.severityNumber, SeverityNumber.WARN);
  assert.equal(record.severityText, 'WARN');
  assert.equal(record.body, 'access denied: insufficient-scope');
  assert.deepEqual(record.attributes, expected);
  assert.equal(record.instrumentationScope.name, 'why403');

  const spans = spanExporter.getFinishedSpans();
  assert.equal(spans.length, 1);
  const span = spans[0]!;
  // The log record is tied to the request's span.
  assert.equal(record.spanContext?.traceId, span.spanContext().traceId);
  assert.equal(record.spanContext?.spanId, span.spanContext().spanId);
  assert.equal(span.events.length, 1);
  assert.equal(span.events[0]!.name, 'why403.denial');
  assert.deepEqual(span.events[0]!.attributes, expected);
  // The event's time is the record's: both are the denial's.
  assert.deepEqual(span.events[0]!.time, record.hrTime);

  // No credential anywhere in what was exported.
  assert.ok(!JSON.stringify({ a: record.attributes, b: record.body, e: span.events }).includes(TOKEN));
});

test('a hidden denial says it was hidden and what it stood for; the timestamp is the event time', () => {
  logExporter.reset();
  const sink = otelSink({ loggerName: 'orders-api', spanEvents: false });
  const event = denialEvent(
    { cause: 'not-owner', rule: 'owner of order', resource: 'order-7' },
    { method: 'GET', route: '/orders/:id', principal: 'bob', requestId: 'req-1' },
    { hidden: true, now: Date.UTC(2026, 11, 5, 14, 0, 0, 250) },
  );
  sink.emit(event);
  const [record] = logExporter.getFinishedLogRecords();
  assert.deepEqual(record!.attributes, {
    'http.request.method': 'GET',
    'http.response.status_code': 404,
    'why403.cause': 'not-owner',
    'http.route': '/orders/:id',
    'enduser.id': 'bob',
    'why403.resource': 'order-7',
    'why403.rule': 'owner of order',
    'why403.hidden': true,
    'why403.denied_as': 403,
    'why403.request_id': 'req-1',
  });
  assert.deepEqual(record!.hrTime, [Date.UTC(2026, 11, 5, 14, 0, 0) / 1000, 250_000_000]);
  assert.equal(record!.instrumentationScope.name, 'orders-api');
  assert.equal(record!.spanContext, undefined);
});

test('without an active span the record joins the trace the request named in traceparent', () => {
  logExporter.reset();
  const traceId = '0af7651916cd43dd8448eb211c80319c';
  const spanId = 'b7ad6b7169203331';
  otelSink().emit(denialEvent({ cause: 'credential-missing', scheme: 'Bearer' }, { method: 'GET', traceId, spanId }));
  const [record] = logExporter.getFinishedLogRecords();
  assert.equal(record!.spanContext?.traceId, traceId);
  assert.equal(record!.spanContext?.spanId, spanId);
});

test('logRecords: false sends span events only', async () => {
  logExporter.reset();
  spanExporter.reset();
  const sink = otelSink({ logRecords: false });
  const span = tracer.startSpan('work');
  context.with(trace.setSpan(context.active(), span), () =>
    sink.emit(denialEvent({ cause: 'csrf' }, { method: 'POST', route: '/form' })),
  );
  span.end();
  assert.equal(logExporter.getFinishedLogRecords().length, 0);
  const [finished] = spanExporter.getFinishedSpans();
  assert.deepEqual(
    finished!.events.map((e) => [e.name, e.attributes]),
    [
      [
        'why403.denial',
        {
          'http.request.method': 'POST',
          'http.response.status_code': 403,
          'why403.cause': 'csrf',
          'http.route': '/form',
        },
      ],
    ],
  );
});
