// Caddy 2's structured access log: one JSON object per line, written by the
// `log` directive's access logger (`http.log.access`, `http.log.access.log0`,
// or the name given to `log`), as Caddy 2.6 writes it here:
//   {"level":"error","ts":1764946075.123,"logger":"http.log.access.log0","msg":"handled request","request":{"remote_ip":"127.0.0.1","remote_port":"41342","proto":"HTTP/1.1","method":"GET","host":"127.0.0.1:8080","uri":"/admin/users","headers":{…}},"user_id":"","duration":0.0001,"size":9,"status":403,"resp_headers":{…}}
// Newer Caddy adds `request.client_ip` (the client behind trusted proxies);
// Caddy 2.0–2.4 wrote `request.remote_addr` ("ip:port"). `ts` is float Unix
// seconds by default, or another number or a string with the encoder's
// `time_format`. Request and response headers are never kept: they may hold
// credentials. The access line says nothing of why: Caddy's reasons are in
// its `http.log.error` lines, which this format does not read as requests.
// https://caddyserver.com/docs/logging
// https://caddyserver.com/docs/caddyfile/directives/log
import type { LogFormat } from '../../model/logs.ts';
import { clfTime } from '../time.ts';
import { isObject, jsonObjectOf } from './_json.ts';

const text = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** A time from a number (seconds, milliseconds, microseconds or nanoseconds since the epoch, told by size) or a string. */
export function jsonTime(v: unknown): Date | undefined {
  let d: Date | undefined;
  if (typeof v === 'number' && Number.isFinite(v) && v > 0) {
    const ms = v >= 1e17 ? v / 1e6 : v >= 1e14 ? v / 1e3 : v >= 1e11 ? v : v * 1000;
    d = new Date(ms);
  } else if (typeof v === 'string' && v.length <= 64) {
    if (/^\d{1,2}\/[A-Za-z]{3}\/\d{4}:/.test(v)) return clfTime(v);
    if (/^\d{9,19}(?:\.\d{1,9})?$/.test(v)) return jsonTime(Number(v));
    // ISO 8601 / RFC 3339, and Go's "wall" layout 2006/01/02 15:04:05 (local time).
    d = new Date(/^\d{4}\/\d{2}\/\d{2} /.test(v) ? v.replace(/\//g, '-').replace(' ', 'T') : v);
  }
  return d && !Number.isNaN(d.getTime()) ? d : undefined;
}

/** An address without its port: "127.0.0.1:41342" and "[::1]:41342" give the address. */
export function withoutPort(addr: string): string {
  const v6 = /^\[([^\]]{1,64})\](?::\d{1,5})?$/.exec(addr);
  if (v6) return v6[1];
  const v4 = /^([^:]{1,255}):\d{1,5}$/.exec(addr);
  return v4 ? v4[1] : addr;
}

export default {
  id: 'caddy-json',
  product: 'Caddy',
  kind: 'access',
  description: 'Caddy 2 JSON access log',
  docs: ['https://caddyserver.com/docs/logging', 'https://caddyserver.com/docs/caddyfile/directives/log'],
  parse(line) {
    const o = jsonObjectOf(line);
    if (!o || !isObject(o.request)) return undefined;
    const logger = typeof o.logger === 'string' ? o.logger : undefined;
    // The access logger only: http.log.error lines carry a request and a status too.
    if (logger !== undefined ? !/^http\.log\.access(?:\.|$)/.test(logger) : o.msg !== 'handled request')
      return undefined;
    const status = o.status;
    if (typeof status !== 'number' || !Number.isInteger(status) || status < 0 || status > 999) return undefined;
    const req = o.request;
    const client =
      text(req.client_ip) ?? text(req.remote_ip) ?? (text(req.remote_addr) && withoutPort(req.remote_addr as string));
    const method = text(req.method);
    const uri = text(req.uri);
    const user = text(o.user_id);
    const time = jsonTime(o.ts);
    return {
      kind: 'access',
      ...(time ? { time } : {}),
      ...(client ? { client } : {}),
      ...(user ? { principal: user } : {}),
      ...(method ? { method } : {}),
      ...(uri ? { path: uri.split('?')[0] } : {}),
      status,
    };
  },
} satisfies LogFormat;
