import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Exchange } from '../model/exchange.ts';
import {
  formatDuration,
  windowObservations,
  parseBasicIsoDate,
  parseHttpDate,
  parseIsoDate,
  readClock,
  tokenClock,
  type Clock,
} from './clock.ts';

const at = (s: string) => new Date(s);

function exchange(opts: { date?: string; receivedAt?: string; startedDateTime?: string }): Exchange {
  return {
    request: { method: 'GET', url: 'https://api.example.test/x', headers: [] },
    response: {
      status: 401,
      statusText: 'Unauthorized',
      headers: opts.date ? [{ name: 'Date', value: opts.date }] : [],
      content: {},
    },
    ...(opts.startedDateTime ? { startedDateTime: opts.startedDateTime } : {}),
    ...(opts.receivedAt ? { trace: { redirects: [], timings: { total: 10 }, receivedAt: opts.receivedAt } } : {}),
    source: { kind: 'json', name: 'test' },
  };
}

test('formatDuration names the two largest units', () => {
  assert.equal(formatDuration(0), 'under a second');
  assert.equal(formatDuration(45_000), '45 s');
  assert.equal(formatDuration(-45_000), '45 s');
  assert.equal(formatDuration(65_000), '1 min 5 s');
  assert.equal(formatDuration((3 * 3600 + 12 * 60 + 7) * 1000), '3 h 12 min');
  assert.equal(formatDuration(3 * 3600 * 1000), '3 h');
  assert.equal(formatDuration((2 * 86400 + 4 * 3600) * 1000), '2 d 4 h');
  assert.equal(formatDuration((365 * 4 + 23) * 86400 * 1000), '4 y 23 d');
});

test('date parsers accept the formats the vendors write and refuse others', () => {
  assert.equal(parseHttpDate('Sun, 22 Nov 2026 16:53:52 GMT')?.toISOString(), '2026-11-22T16:53:52.000Z');
  assert.equal(parseHttpDate('not a date'), undefined);
  assert.equal(parseBasicIsoDate('20130524T000000Z')?.toISOString(), '2013-05-24T00:00:00.000Z');
  assert.equal(parseBasicIsoDate('2013-05-24T00:00:00Z'), undefined);
  assert.equal(parseIsoDate('2022-08-31')?.toISOString(), '2022-08-31T00:00:00.000Z');
  assert.equal(parseIsoDate('2022-11-01T07:39:51Z')?.toISOString(), '2022-11-01T07:39:51.000Z');
  assert.equal(parseIsoDate('2022-11-01T07:39')?.toISOString(), '2022-11-01T07:39:00.000Z');
  assert.equal(parseIsoDate('Mon, 08 Aug 2016'), undefined);
});

test('the local reading comes from the trace, then the HAR, then the given time', () => {
  const now = at('2030-01-01T00:00:00Z');
  assert.equal(
    readClock(exchange({ receivedAt: '2026-11-22T10:00:00Z', startedDateTime: '2026-11-22T09:00:00Z' }), now)
      .localSource,
    'trace',
  );
  assert.equal(readClock(exchange({ startedDateTime: '2026-11-22T09:00:00Z' }), now).localSource, 'har');
  const given = readClock(exchange({}), now);
  assert.equal(given.localSource, 'given');
  assert.equal(given.local.toISOString(), now.toISOString());
  assert.equal(readClock(exchange({})).localSource, 'now');
});

test('skew is measured only from a real local reading and a Date header, within the header’s resolution', () => {
  const ahead = readClock(exchange({ date: 'Sun, 22 Nov 2026 10:03:00 GMT', receivedAt: '2026-11-22T10:00:00.400Z' }));
  assert.equal(ahead.skewSeconds, 180);
  const behind = readClock(
    exchange({ date: 'Sun, 22 Nov 2026 09:58:00 GMT', startedDateTime: '2026-11-22T10:00:00Z' }),
  );
  assert.equal(behind.skewSeconds, -120);
  const tiny = readClock(exchange({ date: 'Sun, 22 Nov 2026 10:00:01 GMT', receivedAt: '2026-11-22T09:59:59.300Z' }));
  assert.equal(tiny.skewSeconds, 0);
  // A given "now" is not a reading of the moment the server judged the request.
  const given = readClock(exchange({ date: 'Sun, 22 Nov 2026 10:03:00 GMT' }), at('2026-11-22T10:00:00Z'));
  assert.equal(given.skewSeconds, undefined);
  assert.equal(given.server?.toISOString(), '2026-11-22T10:03:00.000Z');
});

const window = {
  what: 'The token',
  id: 'jwt',
  expiresSource: 'claim:exp',
  notBeforeSource: 'claim:nbf',
  leewaySeconds: 300,
  leewayNote: 'a 5 min tolerance',
};

test('an expired window is read against the server’s clock and says by how much', () => {
  const clock = readClock(exchange({ date: 'Sun, 22 Nov 2026 16:53:52 GMT' }), at('2026-11-22T12:00:00Z'));
  const [f, ...rest] = windowObservations({ ...window, expiresAt: at('2026-11-22T13:41:40Z') }, clock);
  assert.equal(rest.length, 0);
  assert.equal(f.id, 'jwt-expired');
  assert.equal(f.kind, 'window-expired');
  assert.equal(f.source, 'claim:exp');
  assert.deepEqual(f.measure, { clockTrust: 1, withinLeeway: false });
  assert.match(f.text, /expired 3 h 12 min before the server's clock \(Date: Sun, 22 Nov 2026 16:53:52 GMT\)/);
  // The local clock (12:00) alone would have called it valid: the server's clock decides.
  assert.equal(
    windowObservations({ ...window, expiresAt: at('2026-11-22T13:41:40Z') }, { ...clock, server: undefined }).length,
    0,
  );
});

test('valid by the local clock but expired by the server’s is clock skew, not plain expiry', () => {
  const clock = readClock(exchange({ date: 'Sun, 22 Nov 2026 10:03:00 GMT', receivedAt: '2026-11-22T10:00:00Z' }));
  const [skew, expired, ...rest] = windowObservations({ ...window, expiresAt: at('2026-11-22T10:01:00Z') }, clock);
  assert.equal(rest.length, 0);
  assert.equal(skew.kind, 'window-skew-refused');
  assert.match(skew.text, /still valid by the local clock \(1 min left/);
  assert.match(skew.text, /expired 2 min before the server's clock/);
  assert.match(skew.text, /server's clock is 3 min ahead of the local clock/);
  assert.equal(expired.kind, 'window-expired-by-server', 'the expiry is the skew’s companion, not plain expiry');
  assert.equal(expired.id, 'jwt-expired');
});

test('a window that starts late by the server’s clock because it runs behind is clock skew too', () => {
  const clock = readClock(exchange({ date: 'Sun, 22 Nov 2026 09:55:00 GMT', receivedAt: '2026-11-22T10:00:00Z' }));
  const findings = windowObservations(
    { ...window, notBefore: at('2026-11-22T09:58:00Z'), expiresAt: at('2026-11-22T11:00:00Z') },
    clock,
  );
  assert.deepEqual(
    findings.map((f) => f.kind),
    ['window-skew-refused', 'window-not-yet-valid-by-server'],
  );
  assert.match(findings[0].text, /not valid until 3 min after the server's clock/);
});

test('expired by the local clock but valid by the server’s: skew noted, time is not the reason', () => {
  const clock = readClock(exchange({ date: 'Sun, 22 Nov 2026 09:55:00 GMT', receivedAt: '2026-11-22T10:00:00Z' }));
  const findings = windowObservations({ ...window, expiresAt: at('2026-11-22T09:58:00Z') }, clock);
  assert.equal(findings.length, 1);
  assert.equal(findings[0].kind, 'window-skew-harmless');
  assert.match(findings[0].text, /not why the server refused/);
});

test('expired by both clocks stays an expiry, with the skew mentioned', () => {
  const clock = readClock(exchange({ date: 'Sun, 22 Nov 2026 10:03:00 GMT', receivedAt: '2026-11-22T10:00:00Z' }));
  const [f] = windowObservations({ ...window, expiresAt: at('2026-11-22T08:00:00Z') }, clock);
  assert.equal(f.kind, 'window-expired');
  assert.match(f.text, /does not change the verdict/);
});

test('an expiry inside the usual leeway is marked and says so', () => {
  const clock = readClock(exchange({ date: 'Sun, 22 Nov 2026 10:00:30 GMT' }));
  const [f] = windowObservations({ ...window, expiresAt: at('2026-11-22T10:00:00Z') }, clock);
  assert.equal(f.kind, 'window-expired');
  assert.equal(f.measure?.withinLeeway, true);
  assert.match(f.text, /a 5 min tolerance/);
});

test('a start a few minutes ahead of the server points at the issuer’s clock', () => {
  const clock = readClock(exchange({ date: 'Sun, 22 Nov 2026 10:00:00 GMT' }));
  const findings = windowObservations(
    { ...window, notBefore: at('2026-11-22T10:00:42Z'), startSetBy: 'the issuer' },
    clock,
  );
  assert.deepEqual(
    findings.map((f) => f.kind),
    ['window-not-yet-valid', 'window-start-ahead'],
  );
  assert.match(findings[0].text, /not valid until 2026-11-22T10:00:42Z, 42 s after the server's clock/);
  assert.match(findings[1].text, /clock of the issuer runs ahead/);
  // Days ahead is a choice, not a clock.
  assert.deepEqual(
    windowObservations({ ...window, notBefore: at('2026-11-25T10:00:00Z') }, clock).map((f) => f.kind),
    ['window-not-yet-valid'],
  );
});

test('without a Date header the clock it used is named and trusted less', () => {
  const har = readClock(exchange({ startedDateTime: '2026-11-22T10:00:00Z' }));
  const [h] = windowObservations({ ...window, expiresAt: at('2026-11-22T09:00:00Z') }, har);
  assert.match(h.text, /HAR startedDateTime/);
  const now: Clock = readClock(exchange({}));
  const [n] = windowObservations({ ...window, expiresAt: at('2000-01-01T00:00:00Z') }, now);
  assert.match(n.text, /no Date header/);
  // How far each clock can stand for the moment the server judged: the HAR's own time, then the bare local clock.
  assert.deepEqual([h.measure?.clockTrust, n.measure?.clockTrust], [0.9, 0.65]);
  const token = tokenClock(at('2026-11-22T10:00:00Z'));
  const [t] = windowObservations({ ...window, expiresAt: at('2026-11-22T09:00:00Z') }, token);
  assert.match(t.text, /expired 1 h before the given time \(2026-11-22T10:00:00Z\)/);
  assert.equal(t.measure?.clockTrust, 1);
});
