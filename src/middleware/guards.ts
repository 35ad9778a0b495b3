// Guards: the checks an API runs before a handler, each refusing with a
// Denial that says exactly what was missing. Framework-neutral: a guard sees
// the request (whatever the framework's type) and the Caller the integration
// read from it; express.ts, fastify.ts and web.ts run them.
import { BlockList, isIP } from 'node:net';
import { grantsOfClaims } from '../credentials/jwt.ts';
import type { Denial } from './denial.ts';

/** Who is asking, as the app's authentication left it: never the credential itself. */
export interface Caller {
  /** The principal's id (`sub`, a user name); undefined when nobody authenticated. */
  principal?: string;
  scopes: string[];
  roles: string[];
  /** The client's address, read through the trusted proxies (clientAddress). */
  client?: string;
}

export type Guard<Req> = (req: Req, caller: Caller) => Denial | undefined | Promise<Denial | undefined>;

/** A caller from verified JWT claims (express-oauth2-jwt-bearer's req.auth.payload, express-jwt's req.auth, @fastify/jwt's req.user). */
export function callerFromClaims(claims: unknown, client?: string): Caller {
  if (!claims || typeof claims !== 'object') return { scopes: [], roles: [], ...(client ? { client } : {}) };
  const c = claims as Record<string, unknown>;
  const { scopes, roles } = grantsOfClaims(c);
  return {
    ...(typeof c.sub === 'string' ? { principal: c.sub } : {}),
    scopes,
    roles,
    ...(client ? { client } : {}),
  };
}

const anonymous = (caller: Caller): Denial | undefined =>
  caller.principal === undefined
    ? { cause: 'credential-missing', scheme: 'Bearer', rule: 'authenticated caller' }
    : undefined;

/** Every listed scope is needed (OAuth 2.0 scopes, RFC 6750's insufficient_scope when one is missing). */
export function requireScope<Req = unknown>(...scopes: string[]): Guard<Req> {
  return (_req, caller) => {
    const missing = scopes.filter((s) => !caller.scopes.includes(s));
    if (!missing.length) return undefined;
    return (
      anonymous(caller) ?? {
        cause: 'insufficient-scope',
        scheme: 'Bearer',
        gap: { required: scopes, held: caller.scopes },
        rule: `scope ${scopes.join(' ')}`,
      }
    );
  };
}

/** One of the listed roles is needed. */
export function requireRole<Req = unknown>(...roles: string[]): Guard<Req> {
  return (_req, caller) => {
    if (roles.some((r) => caller.roles.includes(r))) return undefined;
    return (
      anonymous(caller) ?? {
        cause: 'insufficient-role',
        gap: { required: roles, held: caller.roles },
        rule: `role ${roles.join(' or ')}`,
      }
    );
  };
}

/**
 * Only the resource's owner: `ownerOf` reads the owner of what the request
 * names (undefined when there is no such resource, which is the handler's
 * 404 to give, not a denial).
 */
export function requireOwner<Req = unknown>(
  ownerOf: (req: Req) => string | undefined | Promise<string | undefined>,
  o: { resource?: (req: Req) => string | undefined } = {},
): Guard<Req> {
  return async (req, caller) => {
    const owner = await ownerOf(req);
    if (owner === undefined || owner === caller.principal) return undefined;
    const resource = o.resource?.(req);
    return (
      anonymous(caller) ?? {
        cause: 'not-owner',
        rule: 'owner only',
        gap: { required: [`owner ${owner}`], held: [`principal ${caller.principal}`] },
        ...(resource !== undefined ? { resource } : {}),
      }
    );
  };
}

/** Only clients from these addresses or CIDR blocks ("10.0.0.0/8", "2001:db8::/32", "127.0.0.1"). */
export function allowClients<Req = unknown>(allowed: string[]): Guard<Req> {
  const list = blockList(allowed, 'allowClients');
  return (_req, caller) => {
    const client = caller.client;
    if (client && contains(list, client)) return undefined;
    return {
      cause: 'ip-restricted',
      gap: { required: [`client address in ${allowed.join(', ')}`], held: [client ?? 'unknown address'] },
      rule: `client address ${allowed.join(', ')}`,
    };
  };
}

/** A BlockList of addresses and CIDR blocks; throws on an entry that is neither (at start-up, not per request). */
export function blockList(entries: string[], what: string): BlockList {
  const list = new BlockList();
  for (const e of entries) {
    const [address, bits] = e.split('/');
    const family = isIP(address ?? '');
    if (!family) throw new TypeError(`${what}: "${e}" is not an IP address or CIDR block`);
    const type = family === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(address!, type);
    else {
      const prefix = Number(bits);
      if (!Number.isInteger(prefix) || prefix < 0 || prefix > (family === 6 ? 128 : 32))
        throw new TypeError(`${what}: "${e}" has no valid prefix length`);
      list.addSubnet(address!, prefix, type);
    }
  }
  return list;
}

/** An address (IPv4-mapped IPv6 read as IPv4) in the list. */
export function contains(list: BlockList, address: string): boolean {
  const plain = address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
  const family = isIP(plain);
  return family !== 0 && list.check(plain, family === 6 ? 'ipv6' : 'ipv4');
}

/**
 * The client's address. `X-Forwarded-For` is read only when the peer is a
 * proxy the app trusts, and then only as far back as the proxies it trusts:
 * the first address, from the right, that is not a trusted proxy is the
 * client. A client cannot choose its address by sending the header itself.
 */
export function clientAddress(
  peer: string | undefined,
  forwardedFor: string | string[] | undefined,
  trusted: BlockList | undefined,
): string | undefined {
  if (!peer || !trusted || !contains(trusted, peer)) return peer;
  const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : (forwardedFor ?? ''))
    .split(',')
    .map((h) => h.trim())
    .filter(Boolean);
  let client = peer;
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i]!;
    if (!isIP(hop.startsWith('::ffff:') ? hop.slice(7) : hop)) break;
    client = hop;
    if (!contains(trusted, hop)) break;
  }
  return client;
}

/**
 * Runs guards in order; the first denial wins. Synchronous while the guards
 * are (scope, role and address checks): a promise only once one returns one,
 * so the common request costs no promise (bench/middleware.ts).
 */
export function firstDenial<Req>(
  guards: readonly Guard<Req>[],
  req: Req,
  caller: Caller,
  from = 0,
): Denial | undefined | Promise<Denial | undefined> {
  for (let i = from; i < guards.length; i++) {
    const d = guards[i]!(req, caller);
    if (d instanceof Promise) return d.then((found) => found ?? firstDenial(guards, req, caller, i + 1));
    if (d) return d;
  }
  return undefined;
}

/** W3C traceparent (`00-<trace-id>-<span-id>-<flags>`): the ids an event carries to join the trace. */
export function traceOf(traceparent: string | undefined): { traceId?: string; spanId?: string } {
  const m = traceparent && /^[\da-f]{2}-([\da-f]{32})-([\da-f]{16})-[\da-f]{2}$/.exec(traceparent.trim());
  return m ? { traceId: m[1], spanId: m[2] } : {};
}
