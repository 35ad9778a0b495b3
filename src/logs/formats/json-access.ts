// A JSON-lines access log of no one product: nginx with a `log_format …
// escape=json` of the user's own (nginx writes every variable as a string,
// "-" when empty), and the servers and applications that log one JSON
// object per request. Read by the common key names, at the top level or one
// object down (`"@nginx_fields":{…}`, `"req":{…}`/`"res":{…}`):
//   {"time_iso8601":"2026-12-05T14:47:55+00:00","remote_addr":"127.0.0.1","remote_user":"-","request":"GET /private/a.txt HTTP/1.1","status":"403","body_bytes_sent":"153"}
//   client  remote_addr, client_ip, remote_ip, ip, remoteAddress (a port is cut)
//   request "GET /x HTTP/1.1", or method (request_method, method) and
//           target (request_uri, uri, path, url, request_url)
//   status  status, status_code, statusCode, response_status (number or digits)
//   time    time_iso8601, time_local, @timestamp, timestamp, time, ts, msec
//   user    remote_user, user, username
// A line needs a status and a method or a path; the query is cut from the
// path. Caddy's lines (a `logger` under `http.log`) are caddy-json's.
// https://nginx.org/en/docs/http/ngx_http_log_module.html#log_format
import type { LogFormat } from '../../model/logs.ts';
import { jsonTime, withoutPort } from './caddy-json.ts';
import { isObject, jsonObjectOf, type Json } from './_json.ts';

/** A value as text, "-" and "" (nginx's empty variable) as nothing. */
function scalar(v: unknown): string | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return typeof v === 'string' && v !== '' && v !== '-' ? v : undefined;
}

const KEYS = {
  client: ['remote_addr', 'client_ip', 'clientip', 'remote_ip', 'remoteip', 'ip', 'remoteaddress', 'client'],
  method: ['request_method', 'method', 'http_method', 'verb'],
  target: ['request_uri', 'uri', 'path', 'request_path', 'url', 'request_url', 'requesturi'],
  status: ['status', 'status_code', 'statuscode', 'response_status', 'http_status'],
  time: ['time_iso8601', 'time_local', '@timestamp', 'timestamp', 'time', 'ts', 'msec', 'datetime'],
  user: ['remote_user', 'user', 'username', 'user_name'],
} as const;

/** The line's scalar fields by lower-case name: the top level first, then one object down. */
function fieldsOf(o: Json): Map<string, unknown> {
  const fields = new Map<string, unknown>();
  const take = (obj: Json) => {
    for (const [k, v] of Object.entries(obj)) {
      const key = k.toLowerCase();
      if (!isObject(v) && !Array.isArray(v) && !fields.has(key)) fields.set(key, v);
    }
  };
  take(o);
  for (const [k, v] of Object.entries(o))
    // Headers are never read: they may hold credentials.
    if (isObject(v) && !/header/i.test(k)) take(v);
  return fields;
}

const first = (f: Map<string, unknown>, keys: readonly string[]): string | undefined => {
  for (const k of keys) {
    const v = scalar(f.get(k));
    if (v !== undefined) return v;
  }
  return undefined;
};

const REQUEST = /^([A-Z][A-Z_-]{0,31}) (\S{1,8192})(?: HTTP\/\d(?:\.\d)?)?$/;

export default {
  id: 'json-access',
  product: 'nginx (escape=json), other servers and applications',
  kind: 'access',
  description: 'JSON-lines access log (nginx log_format escape=json and others)',
  docs: ['https://nginx.org/en/docs/http/ngx_http_log_module.html#log_format'],
  parse(line) {
    const o = jsonObjectOf(line);
    if (!o) return undefined;
    if (typeof o.logger === 'string' && o.logger.startsWith('http.log')) return undefined;
    const f = fieldsOf(o);
    const statusText = first(f, KEYS.status);
    if (!statusText || !/^\d{3}$/.test(statusText)) return undefined;
    const request = scalar(f.get('request'));
    const requestLine = request ? REQUEST.exec(request) : null;
    const method = requestLine?.[1] ?? first(f, KEYS.method);
    const target = requestLine?.[2] ?? first(f, KEYS.target);
    if (!method && !target) return undefined;
    const path = target?.split('?')[0];
    const client = first(f, KEYS.client);
    const user = first(f, KEYS.user);
    const rawTime = KEYS.time.map((k) => f.get(k)).find((v) => scalar(v) !== undefined);
    const time = jsonTime(rawTime);
    return {
      kind: 'access',
      ...(time ? { time } : {}),
      ...(client ? { client: withoutPort(client) } : {}),
      ...(user ? { principal: user } : {}),
      ...(method ? { method } : {}),
      ...(path ? { path } : {}),
      status: Number(statusText),
    };
  },
} satisfies LogFormat;
