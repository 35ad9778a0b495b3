// An access-log format the user describes with nginx's log_format syntax
// (`why403 logs --log-format '$remote_addr - $remote_user [$time_local] "$request" $status …'`),
// for servers configured with their own layout. Each variable becomes a
// field of bounded width; the literal text between them must match as it is.
// https://nginx.org/en/docs/http/ngx_http_log_module.html#log_format
// https://nginx.org/en/docs/varindex.html
import { UsageError } from '../errors.ts';
import type { AccessRecord, LogFormat } from '../model/logs.ts';
import { clfTime } from './time.ts';

/**
 * What each variable's field may hold: no spaces unless the format quotes it,
 * and never the character the literal after it starts with, so that where a
 * field ends is decided by one character and the match cannot backtrack.
 */
function field(before: string | undefined, next: string | undefined): string {
  if (before === '"' && next === '"') return '((?:[^"\\\\]|\\\\.){0,8192})';
  if (before === '[' && next === ']') return '([^\\]]{0,64})';
  const stop = next && !/\s/.test(next) ? escapeClass(next) : '';
  return `([^\\s${stop}]{0,8192})`;
}

const escapeClass = (c: string) => c.replace(/[\\\]^-]/g, '\\$&');

type Role = 'client' | 'user' | 'timeLocal' | 'timeIso' | 'msec' | 'request' | 'method' | 'uri' | 'status';

const ROLES: Record<string, Role> = {
  remote_addr: 'client',
  binary_remote_addr: 'client',
  http_x_forwarded_for: 'client',
  realip_remote_addr: 'client',
  remote_user: 'user',
  time_local: 'timeLocal',
  time_iso8601: 'timeIso',
  msec: 'msec',
  request: 'request',
  request_method: 'method',
  request_uri: 'uri',
  uri: 'uri',
  document_uri: 'uri',
  status: 'status',
};

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A LogFormat from an nginx log_format string; a string with no $status is a usage error. */
export function customFormat(spec: string): LogFormat {
  const roles: (Role | undefined)[] = [];
  let pattern = '^';
  let last = 0;
  // $name or ${name}
  const variable = /\$(?:\{(\w{1,64})\}|(\w{1,64}))/g;
  for (let m = variable.exec(spec); m; m = variable.exec(spec)) {
    const literal = spec.slice(last, m.index);
    if (roles.length && !literal)
      throw new UsageError(
        `--log-format: ${m[0]} follows the variable before it with nothing between them, so where one ends cannot be told`,
      );
    pattern += escape(literal);
    const name = (m[1] ?? m[2]).toLowerCase();
    const end = m.index + m[0].length;
    pattern += field(spec[m.index - 1], spec[end]);
    roles.push(ROLES[name]);
    last = end;
  }
  pattern += escape(spec.slice(last));
  if (!roles.includes('status'))
    throw new UsageError(
      '--log-format: expected an nginx log_format with $status in it, e.g. \'$remote_addr - $remote_user [$time_local] "$request" $status\'',
    );
  if (!roles.includes('request') && !roles.includes('uri'))
    throw new UsageError('--log-format: expected $request, or $request_uri or $uri, to tell which path was refused');
  const line = new RegExp(pattern);
  return {
    id: 'custom',
    product: 'nginx log_format (--log-format)',
    kind: 'access',
    description: 'the access-log format given with --log-format',
    docs: ['https://nginx.org/en/docs/http/ngx_http_log_module.html#log_format'],
    parse(text) {
      const m = line.exec(text);
      if (!m) return undefined;
      const get = (role: Role) => {
        const i = roles.indexOf(role);
        const v = i === -1 ? undefined : m[i + 1];
        return v === undefined || v === '' || v === '-' ? undefined : v;
      };
      const status = Number(get('status'));
      if (!Number.isInteger(status) || status < 100 || status > 599) return undefined;
      const request = get('request');
      const [method, target] = request ? request.split(' ') : [get('method'), get('uri')];
      const local = get('timeLocal');
      const iso = get('timeIso');
      const msec = get('msec');
      const time = local ? clfTime(local) : iso ? new Date(iso) : msec ? new Date(Number(msec) * 1000) : undefined;
      const r: AccessRecord = { kind: 'access', status };
      if (time && !Number.isNaN(time.getTime())) r.time = time;
      const client = get('client');
      if (client) r.client = client.split(',')[0].trim();
      const user = get('user');
      if (user) r.principal = user;
      if (method) r.method = method;
      if (target) r.path = target.split('?')[0];
      return r;
    },
  };
}
