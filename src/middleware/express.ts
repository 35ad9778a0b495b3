// why403 for Express (4 and 5): guards as middleware, a handler's own denial,
// and an error middleware that explains the refusals of the libraries the app
// already uses (adapters.ts).
//
//   import { why403, requireScope, requireRole } from 'why403/express';
//   const w = why403({ disclosure: 'gap', sinks: [jsonLinesSink(process.stdout)], trustedProxies: ['10.0.0.0/8'] });
//   app.get('/orders', auth(), w.guard(requireScope('read:orders')), handler);
//   app.get('/projects/:id', auth(), w.guard(requireRole('admin'), { hide: true }), handler);
//   app.use(w.errors());   // after the routes: auth()'s, express-jwt's, csrf-csrf's … errors explained
//
// Nothing here imports Express: the request and response are read through the
// few members Node's http objects and Express add (structural types below),
// so the app's own Express is the only one. Express's `trust proxy` is not
// used: the app names its proxies to why403 (trustedProxies), and
// X-Forwarded-For is read only from them.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { adaptError, authorizationContext, defaultAdapters, type Adapter } from './adapters.ts';
import { Explainer, type MiddlewareOptions, type RouteOptions } from './core.ts';
import type { Denial } from './denial.ts';
import { callerFromClaims, clientAddress, firstDenial, traceOf, type Caller, type Guard } from './guards.ts';

export * from './public.ts';
export * from './adapters.ts';

/** The members of an Express request why403 reads (an IncomingMessage with Express's additions). */
export interface ExpressRequest extends IncomingMessage {
  baseUrl?: string;
  originalUrl?: string;
  path?: string;
  route?: { path?: unknown };
  /** express-oauth2-jwt-bearer: { payload, header, token }; express-jwt: the payload. */
  auth?: unknown;
  user?: unknown;
}

export type ExpressResponse = ServerResponse;
export type NextFunction = (err?: unknown) => void;
export type ExpressMiddleware = (req: ExpressRequest, res: ExpressResponse, next: NextFunction) => void;
export type ExpressErrorMiddleware = (
  err: unknown,
  req: ExpressRequest,
  res: ExpressResponse,
  next: NextFunction,
) => void;

export interface ExpressOptions extends MiddlewareOptions {
  /**
   * Who is asking. Default: the verified claims the app's authentication left
   * — express-oauth2-jwt-bearer's req.auth.payload, express-jwt's req.auth,
   * passport's req.user.
   */
  caller?: (req: ExpressRequest) => Caller;
  /** Library errors explained by w.errors() (default: every adapter in adapters.ts). */
  adapters?: Adapter[];
}

/** express-oauth2-jwt-bearer keeps the token beside the claims (req.auth.token): only the payload is read. */
function defaultClaims(req: ExpressRequest): unknown {
  const auth = req.auth;
  if (auth && typeof auth === 'object' && 'payload' in auth) return (auth as { payload: unknown }).payload;
  return auth ?? req.user;
}

const header = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);

export function why403(o: ExpressOptions = {}) {
  const explainer = new Explainer(o);
  const adapters = o.adapters ?? defaultAdapters();

  const callerOf = (req: ExpressRequest): Caller => {
    const client = clientAddress(req.socket?.remoteAddress, req.headers['x-forwarded-for'], explainer.trusted);
    const c = o.caller ? o.caller(req) : callerFromClaims(defaultClaims(req));
    return client !== undefined ? { ...c, client } : c;
  };

  /**
   * The route template: baseUrl + the matched route's path; undefined outside
   * a route (an error from app- or router-level middleware) — never the URL,
   * which holds ids. Express gives a router's mount point as matched, so a
   * router mounted at "/users/:id" shows its id here: name such routes with
   * `route` (RouteOptions).
   */
  const routeOf = (req: ExpressRequest, route: RouteOptions): string | undefined => {
    if (route.route !== undefined) return route.route;
    const path = req.route?.path;
    return typeof path === 'string' ? (req.baseUrl ?? '') + path : undefined;
  };

  const send = (req: ExpressRequest, res: ExpressResponse, d: Denial, caller: Caller, route: RouteOptions) => {
    const requestId = header(req.headers['x-request-id']);
    const template = routeOf(req, route);
    const r = explainer.respond(d, {
      method: req.method ?? 'GET',
      ...(template !== undefined ? { route: template } : {}),
      ...(caller.principal !== undefined ? { principal: caller.principal } : {}),
      ...(caller.client !== undefined ? { client: caller.client } : {}),
      ...(requestId ? { requestId } : {}),
      ...traceOf(header(req.headers.traceparent)),
      instance: (req.originalUrl ?? req.url ?? '/').split('?')[0],
      ...(route.hide ? { hide: true } : {}),
    });
    res.statusCode = r.status;
    for (const [name, value] of Object.entries(r.headers)) res.setHeader(name, value);
    res.end(JSON.stringify(r.body));
  };

  return {
    /** A middleware that passes when every guard passes, else answers the first denial explained. */
    guard(
      guards: Guard<ExpressRequest> | readonly Guard<ExpressRequest>[],
      route: RouteOptions = {},
    ): ExpressMiddleware {
      const list = typeof guards === 'function' ? [guards] : guards;
      return (req, res, next) => {
        let caller: Caller;
        let found: ReturnType<typeof firstDenial<ExpressRequest>>;
        try {
          caller = callerOf(req);
          found = firstDenial(list, req, caller);
        } catch (err) {
          return next(err);
        }
        // A throw while answering (an onSinkError that throws) goes to Express too, not to an unhandled rejection.
        if (found instanceof Promise)
          found.then((d) => (d ? send(req, res, d, caller, route) : next())).catch((err: unknown) => next(err));
        else if (found) send(req, res, found, caller, route);
        else next();
      };
    },

    /** Answer a denial the handler decided itself (the resource's owner, its state …). */
    deny(req: ExpressRequest, res: ExpressResponse, d: Denial, route: RouteOptions = {}): void {
      send(req, res, d, callerOf(req), route);
    },

    /**
     * An error middleware: an error an adapter knows is answered explained
     * (`route` to hide it as a 404 or name the template); any other error, or
     * one after the response has started, goes on to the app's error handler.
     */
    errors(route: RouteOptions = {}): ExpressErrorMiddleware {
      return (err, req, res, next) => {
        if (res.headersSent) return next(err);
        const caller = callerOf(req);
        const d = adaptError(adapters, err, { caller, ...authorizationContext(header(req.headers.authorization)) });
        if (!d) return next(err);
        send(req, res, d, caller, route);
      };
    },

    /** The Explainer shared by this app's middleware (its disclosure level, its trusted proxies). */
    explainer,
  };
}
