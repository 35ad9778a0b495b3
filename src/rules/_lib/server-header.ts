// The Server header as web servers and proxies sign their answers with it
// ("Apache/2.4.62", "openresty/1.25", "squid/6.10"): a weak signal on its own,
// since an application behind the server answers under the same header.
import { ev, type Context, type Evidence } from '../define.ts';

export interface NamedServer {
  value: string;
  evidence: Evidence;
}

/** The response's Server header when it names the product (`name` matches it, trimmed), with its evidence. */
export function namedServer(ctx: Context, name: RegExp): NamedServer | undefined {
  const value = ctx.header('server');
  if (value === undefined || !name.test(value.trim())) return undefined;
  return { value, evidence: ev('header:server', value) };
}
