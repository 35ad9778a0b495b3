// why403 for Fastify 5: a plugin that adds guards (preHandler hooks), a
// handler's own denial (reply.deny) and an error handler that explains the
// refusals of the libraries the app already uses (@fastify/jwt,
// @fastify/csrf-protection, CASL …, adapters.ts).
//
//   import { why403Plugin, requireScope } from 'why403/fastify';
//   await app.register(why403Plugin, { disclosure: 'gap', sinks: [jsonLinesSink(process.stdout)] });
//   app.get('/orders', { onRequest: (req) => req.jwtVerify(),
//                        preHandler: app.why403.guard(requireScope('read:orders')) }, handler);
//   app.get('/projects/:id', async (req, reply) => reply.deny({ cause: 'not-owner' }));
//
// The plugin is not encapsulated (skip-override, what fastify-plugin does,
// without depending on it): its decorations and its error handler reach the
// whole app. The error handler wraps the one the app had when it registered
// the plugin, which still answers every error no adapter knows; an app that
// sets its own handler later wraps it with `app.why403.errors(handler)`.
//
// Only Fastify's types are imported: the app's Fastify is the only one.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { adaptError, authorizationContext, defaultAdapters, type Adapter } from './adapters.ts';
import { Explainer, type MiddlewareOptions, type RouteOptions } from './core.ts';
import type { Denial } from './denial.ts';
import { callerFromClaims, clientAddress, firstDenial, traceOf, type Caller, type Guard } from './guards.ts';

export * from './public.ts';
export * from './adapters.ts';

export interface FastifyOptions extends MiddlewareOptions {
  /** Who is asking. Default: @fastify/jwt's verified claims, request.user. */
  caller?: (request: FastifyRequest) => Caller;
  /** Library errors explained by the error handler (default: every adapter in adapters.ts). */
  adapters?: Adapter[];
}

export type FastifyErrorHandler = (
  this: FastifyInstance,
  error: unknown,
  request: FastifyRequest,
  reply: FastifyReply,
) => unknown;

export interface Why403Fastify {
  /** A preHandler (or onRequest) hook: passes when every guard passes, else answers the first denial explained. */
  guard(
    guards: Guard<FastifyRequest> | readonly Guard<FastifyRequest>[],
    route?: RouteOptions,
  ): (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
  /** Answer a denial the handler decided itself. */
  deny(request: FastifyRequest, reply: FastifyReply, d: Denial, route?: RouteOptions): FastifyReply;
  /** An error handler: adapted library errors explained, any other error to `next` (the app's own handler). */
  errors(next: FastifyErrorHandler): FastifyErrorHandler;
  explainer: Explainer;
}

declare module 'fastify' {
  interface FastifyInstance {
    why403: Why403Fastify;
  }
  interface FastifyReply {
    /** Answer a denial the handler decided itself, explained. */
    deny(d: Denial, route?: RouteOptions): FastifyReply;
  }
}

const header = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);

export function why403Fastify(o: FastifyOptions = {}): Why403Fastify {
  const explainer = new Explainer(o);
  const adapters = o.adapters ?? defaultAdapters();

  const callerOf = (request: FastifyRequest): Caller => {
    const client = clientAddress(request.socket?.remoteAddress, request.headers['x-forwarded-for'], explainer.trusted);
    const c = o.caller ? o.caller(request) : callerFromClaims((request as { user?: unknown }).user);
    return client !== undefined ? { ...c, client } : c;
  };

  const send = (request: FastifyRequest, reply: FastifyReply, d: Denial, caller: Caller, route: RouteOptions) => {
    const requestId = header(request.headers['x-request-id']);
    // routeOptions.url is the template ("/orders/:id"); absent when no route matched.
    const template = route.route ?? request.routeOptions?.url;
    const r = explainer.respond(d, {
      method: request.method,
      ...(template !== undefined ? { route: template } : {}),
      ...(caller.principal !== undefined ? { principal: caller.principal } : {}),
      ...(caller.client !== undefined ? { client: caller.client } : {}),
      ...(requestId ? { requestId } : {}),
      ...traceOf(header(request.headers.traceparent)),
      instance: request.url.split('?')[0],
      ...(route.hide ? { hide: true } : {}),
    });
    // Serialised here, as bytes: a route's response schema must not reshape the problem document, and
    // Fastify adds "; charset=utf-8" to the content type of a string.
    return reply
      .code(r.status)
      .headers(r.headers)
      .send(Buffer.from(JSON.stringify(r.body)));
  };

  return {
    guard(guards, route = {}) {
      const list = typeof guards === 'function' ? [guards as Guard<FastifyRequest>] : guards;
      return async (request, reply) => {
        const caller = callerOf(request);
        const d = await firstDenial(list as readonly Guard<FastifyRequest>[], request, caller);
        if (d) await send(request, reply, d, caller, route);
      };
    },
    deny: (request, reply, d, route = {}) => send(request, reply, d, callerOf(request), route),
    errors(next) {
      return function why403ErrorHandler(this: FastifyInstance, error, request, reply) {
        if (reply.sent) return next.call(this, error, request, reply);
        const caller = callerOf(request);
        const d = adaptError(adapters, error, {
          caller,
          ...authorizationContext(header(request.headers.authorization)),
        });
        if (!d) return next.call(this, error, request, reply);
        return send(request, reply, d, caller, {});
      };
    },
    explainer,
  };
}

/**
 * The plugin: `app.register(why403Plugin, options)` decorates the app with
 * `why403` and replies with `deny`, and explains adapted errors before the
 * app's error handler sees them.
 */
export function why403Plugin(fastify: FastifyInstance, o: FastifyOptions, done: (err?: Error) => void): void {
  const w = why403Fastify(o);
  fastify.decorate('why403', w);
  fastify.decorateReply('deny', function deny(this: FastifyReply, d: Denial, route: RouteOptions = {}) {
    return w.deny(this.request, this, d, route);
  });
  fastify.setErrorHandler(w.errors(fastify.errorHandler as FastifyErrorHandler));
  done();
}
// What fastify-plugin sets: the plugin runs in its parent's context, so its decorations are the app's.
(why403Plugin as unknown as Record<symbol, unknown>)[Symbol.for('skip-override')] = true;
