// HAProxy's HTTP log format (`option httplog`), as a syslog daemon writes it
// to a file (with its `Feb  6 12:14:14 localhost haproxy[14389]: ` prefix)
// or as `log stdout format raw` writes it (without):
//   Feb  6 12:14:14 localhost haproxy[14389]: 10.0.1.2:33317 [06/Feb/2009:12:14:14.655] http-in static/srv1 10/0/30/69/109 200 2750 - - ---- 1/1/1/1/0 0/0 {1wt.eu} {} "GET /index.html HTTP/1.1"
// The date is HAProxy's local time. The termination state (`PR--`) says who
// ended the request: P then R with a 403 is a deny filter HAProxy matched
// on the request (section 8.5, "PR"): an `http-request deny` whose ACL may
// test the path, the client address or the method alike.
// https://docs.haproxy.org/2.6/configuration.html#8.2.3
// https://docs.haproxy.org/2.6/configuration.html#8.5
import type { LogFormat, LogReason } from '../../model/logs.ts';
import { localTime, monthOf } from '../time.ts';

const SYSLOG = String.raw`(?:[A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2} [^\s:]{1,255} [\w.-]{1,64}\[\d{1,10}\]: )?`;
const CLIENT = String.raw`([\w.:]{1,64}):(\d{1,10})`;
const DATE = String.raw`\[(\d{2})\/([A-Za-z]{3})\/(\d{4}):(\d{2}):(\d{2}):(\d{2})\.(\d{3})\]`;
const TIMERS = String.raw`-?\d{1,10}\/-?\d{1,10}\/-?\d{1,10}\/-?\d{1,10}\/\+?-?\d{1,10}`;
const CONNS = String.raw`\d{1,10}\/\d{1,10}\/\d{1,10}\/\d{1,10}\/\+?\d{1,10} \d{1,10}\/\d{1,10}`;
// Captured request and response headers, each `{…}`, only when the config captures some.
const HEADERS = String.raw`(?:\{[^{}]{0,8192}\} ){0,2}`;
const LINE = new RegExp(
  `^${SYSLOG}${CLIENT} ${DATE} [^\\s/]{1,256} [^\\s/]{1,256}\\/[^\\s/]{1,256} ${TIMERS} (-?\\d{1,3}) \\+?\\d{1,20} [^\\s]{1,4096} [^\\s]{1,4096} ([-A-Za-z]{4}) ${CONNS} ${HEADERS}"((?:[^"\\\\]|\\\\.){0,8192})"`,
);

const DENY_FILTER: LogReason = {
  // A deny filter's ACL may test the path, the client address or the method: the log does not say which.
  causes: ['path-forbidden', 'ip-restricted', 'method-not-allowed'],
  product: 'haproxy',
  code: 'PR',
  words: 'termination state PR: the proxy blocked the request (a deny filter matched)',
  fix: {
    title: 'Find the http-request deny rule (and its ACL) of the frontend or backend that took the request',
    difficulty: 'easy',
    commands: [
      "grep -nE '^\\s*(frontend|backend|listen|acl|http-request (deny|reject|tarpit))' /etc/haproxy/haproxy.cfg",
    ],
    verify: 'No deny rule’s ACL matches the request’s path, method and client address.',
  },
};

export default {
  id: 'haproxy-http',
  product: 'HAProxy',
  kind: 'access',
  description: 'HAProxy HTTP log (option httplog)',
  docs: [
    'https://docs.haproxy.org/2.6/configuration.html#8.2.3',
    'https://docs.haproxy.org/2.6/configuration.html#8.5',
  ],
  parse(line) {
    const m = LINE.exec(line);
    if (!m) return undefined;
    const [, client, , day, mon, year, h, min, s, ms, status, state, request] = m;
    const month = monthOf(mon);
    const [method, target] = request.split(' ');
    const code = Number(status);
    // "<BADREQ>" and the like: no request line was read.
    const read = method && target && !method.startsWith('<');
    return {
      kind: 'access',
      ...(month !== undefined ? { time: localTime(+year, month, +day, +h, +min, +s, +ms) } : {}),
      client,
      ...(read ? { method, path: target.split('?')[0] } : {}),
      status: code,
      ...(code === 403 && state.startsWith('PR') ? { reason: DENY_FILTER } : {}),
    };
  },
} satisfies LogFormat;
