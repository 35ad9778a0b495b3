// why403 for Web-standard handlers, `(Request) => Response`: Hono, Next.js
// route handlers, Deno, Bun and any fetch runtime.
//
//   import { why403, requireScope } from 'why403/web';
//   const w = why403({ disclosure: 'gap', sinks: [jsonLinesSink(process.stdout)],
//                      caller: async (req) => callerFromClaims(await verify(req)) });
//   export const GET = w.guard([requireScope('read:orders')], (req) => Response.json(orders), { route: '/orders' });
//
// A Request carries no peer address: give `client` to read it from the
// runtime. What the runtime passes beside the Request (Hono's Context,
// Next.js's route context) can be handed on as the guarded handler's second
// argument, and `caller` and `client` receive it:
//
//   const w = why403({ client: (req, c) => getConnInfo(c as Context).remote.address, … });
//   const listOrders = w.guard([requireScope('read:orders')], () => Response.json(orders));
//   app.get('/orders', (c) => listOrders(c.req.raw, c));                 // Hono
import { Explainer, type MiddlewareOptions, type RouteOptions } from './core.ts';
import type { Denial } from './denial.ts';
import { clientAddress, firstDenial, traceOf, type Caller, type Guard } from './guards.ts';

export * from './public.ts';

export interface WebOptions extends MiddlewareOptions {
  /** Who is asking (default: nobody — guards that need a principal deny). `context`: what the runtime passed beside the Request. */
  caller?: (req: Request, context?: unknown) => Caller | Promise<Caller>;
  /** The peer's address, from the runtime; X-Forwarded-For is read through trustedProxies. */
  client?: (req: Request, context?: unknown) => string | undefined;
}

export function why403(o: WebOptions = {}) {
  const explainer = new Explainer(o);
  const facts = (req: Request, caller: Caller | undefined, route: RouteOptions) => {
    const url = new URL(req.url);
    return {
      method: req.method,
      // Only a template given: the path itself may hold ids or a token (/reset/<token>).
      ...(route.route !== undefined ? { route: route.route } : {}),
      ...(caller?.principal !== undefined ? { principal: caller.principal } : {}),
      ...(caller?.client !== undefined ? { client: caller.client } : {}),
      ...(req.headers.get('x-request-id') ? { requestId: req.headers.get('x-request-id')! } : {}),
      ...traceOf(req.headers.get('traceparent') ?? undefined),
      instance: url.pathname,
      ...(route.hide ? { hide: true } : {}),
    };
  };
  const callerOf = async (req: Request, context: unknown): Promise<Caller> => {
    const c = o.caller ? await o.caller(req, context) : { scopes: [], roles: [] };
    const peer = o.client?.(req, context);
    const client = clientAddress(peer, req.headers.get('x-forwarded-for') ?? undefined, explainer.trusted);
    return client !== undefined ? { ...c, client } : c;
  };
  const toResponse = (req: Request, d: Denial, caller: Caller | undefined, route: RouteOptions) => {
    const r = explainer.respond(d, facts(req, caller, route));
    return new Response(JSON.stringify(r.body), { status: r.status, headers: r.headers });
  };
  return {
    /** The explained response for a denial the handler decided itself. */
    async deny(req: Request, d: Denial, route: RouteOptions = {}, context?: unknown): Promise<Response> {
      return toResponse(req, d, await callerOf(req, context), route);
    },
    /** A handler run only when every guard passes; otherwise the first denial, explained. */
    guard(
      guards: readonly Guard<Request>[],
      handler: (req: Request, caller: Caller, context?: unknown) => Response | Promise<Response>,
      route: RouteOptions = {},
    ): (req: Request, context?: unknown) => Promise<Response> {
      return async (req, context) => {
        const caller = await callerOf(req, context);
        const d = await firstDenial(guards, req, caller);
        return d ? toResponse(req, d, caller, route) : handler(req, caller, context);
      };
    },
  };
}
