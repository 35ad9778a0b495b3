// A real Express 5 order API with deliberate authorization defects, the server
// `why403 audit` (issue 16) is tested against. Run as its own process by
// test/servers/audit.ts:
//   node test/servers/audit-app.ts     (prints {"port":N,"origin":"…"} once listening)
// Its OpenAPI document (test/fixtures/audit/openapi.yaml) says what its
// authors meant; the code below is what they shipped. Authentication and
// scopes are express-oauth2-jwt-bearer's, for real (HS256 with a throwaway
// secret the parent hands in the environment); roles are @casl/ability rules
// built per request from the token's `roles` claim. The library's errors go to
// Express's default error handler, as in an app that adds none of its own, so
// the 401 and 403 answers carry exactly the challenge the library writes.
//
// The four defects, one per way an audit can catch a matrix that does not hold:
// - GET /api/admin/stats forgets its check: any valid token reads it (the spec
//   says read:admin) — an open cell;
// - GET /api/invoices demands the wrong scope (read:invoice, the spec says
//   read:invoices) — a regression for every identity;
// - GET /api/reports refuses with a 200 and an error body — denied-with-success;
// - GET /api/projects/:projectId hides the project with a 404 from whoever may
//   not read it — hidden.
//
// Environment:
//   AUDIT_APP_PORT        port on 127.0.0.1 (default 0: a free one)
//   AUDIT_APP_JWT_SECRET  the HS256 secret tokens are signed with (required)
//
// Importing this file (as audit.ts does for the issuer and audience) does not
// start the server: only running it does.
import { createRequire } from 'node:module';
import type { IncomingMessage, ServerResponse, Server } from 'node:http';
import { fileURLToPath } from 'node:url';

export const AUDIT_ISSUER = 'https://auth.audit.why403.test/';
export const AUDIT_AUDIENCE = 'https://api.audit.why403.test';
export const AUDIT_SECRET_ENV = 'AUDIT_APP_JWT_SECRET';
export const AUDIT_PORT_ENV = 'AUDIT_APP_PORT';

interface Order {
  id: number;
  item: string;
  quantity: number;
  status: string;
}

const ORDERS: readonly Order[] = [
  { id: 1001, item: 'notebook', quantity: 3, status: 'shipped' },
  { id: 1002, item: 'stapler', quantity: 1, status: 'open' },
];
const INVOICES = [{ id: 'inv-501', order: 1001, total: 12.5, currency: 'EUR' }];
const REPORTS = [{ id: 'r-q3', title: 'Q3 sales', orders: 2 }];
const PROJECTS = new Map([['p-7', { id: 'p-7', name: 'Warehouse move', owner: 'ops' }]]);

/** What the token's `roles` claim holds, as strings only: a claim is the client's word until checked. */
export function rolesOf(payload: Record<string, unknown> | undefined): string[] {
  const roles = payload?.roles;
  return Array.isArray(roles) ? roles.filter((r): r is string => typeof r === 'string') : [];
}

/** The app itself; only runs when this file is the process's entry point. */
async function serve(): Promise<void> {
  const { AbilityBuilder, createMongoAbility } = await import('@casl/ability');
  // express and express-oauth2-jwt-bearer's types need @types/express, which
  // is not a dependency: require() keeps them untyped instead of failing the
  // type check.
  const require = createRequire(import.meta.url);
  type Req = IncomingMessage & {
    params: Record<string, string>;
    body?: unknown;
    auth?: { payload: Record<string, unknown> };
  };
  type Res = ServerResponse & { json(v: unknown): Res; status(code: number): Res };
  type Handler = (req: Req, res: Res, next: (err?: unknown) => void) => void;
  interface App {
    get(path: string, ...h: Handler[]): void;
    post(path: string, ...h: Handler[]): void;
    disable(name: string): void;
    listen(port: number, host: string, cb: () => void): Server;
  }
  const express = require('express') as { (): App; json(o?: object): Handler };
  const jwtBearer = require('express-oauth2-jwt-bearer') as {
    auth(o: { secret: string; tokenSigningAlg: string; issuer: string; audience: string }): Handler;
    requiredScopes(scopes: string | string[]): Handler;
  };

  const secret = process.env[AUDIT_SECRET_ENV];
  if (!secret) throw new Error(`${AUDIT_SECRET_ENV} must be set`);
  const port = Number(process.env[AUDIT_PORT_ENV] ?? 0);

  // Built per request from the caller's roles, as CASL apps do.
  const abilityFor = (roles: string[]) => {
    const { can, build } = new AbilityBuilder(createMongoAbility);
    can('read', 'Order');
    if (roles.includes('admin')) {
      can('read', 'Report');
      can('read', 'Project');
    }
    return build();
  };
  const ability = (req: Req) => abilityFor(rolesOf(req.auth?.payload));

  const app = express();
  app.disable('x-powered-by');
  const authenticated = jwtBearer.auth({
    secret,
    tokenSigningAlg: 'HS256',
    issuer: AUDIT_ISSUER,
    audience: AUDIT_AUDIENCE,
  });
  const needs = (scope: string) => jwtBearer.requiredScopes(scope);

  app.get('/api/health', (_req, res) => {
    res.json({ ok: true });
  });

  app.get('/api/orders', authenticated, needs('read:orders'), (_req, res) => {
    res.json(ORDERS);
  });

  app.get('/api/orders/:orderId', authenticated, needs('read:orders'), (req, res) => {
    const order = ORDERS.find((o) => String(o.id) === req.params.orderId);
    if (!order) {
      res.status(404).json({ error: 'not_found', message: 'Order not found' });
      return;
    }
    res.json(order);
  });

  let nextOrderId = 1003;
  app.post('/api/orders', authenticated, needs('write:orders'), express.json({ limit: '16kb' }), (req, res) => {
    const body = (req.body ?? {}) as { item?: unknown; quantity?: unknown };
    const item = typeof body.item === 'string' ? body.item.slice(0, 100) : 'item';
    const quantity = Number.isInteger(body.quantity) ? (body.quantity as number) : 1;
    // Not kept: every run of the audit sees the same list.
    res.status(201).json({ id: nextOrderId++, item, quantity, status: 'open' });
  });

  // DEFECT: forgets its check. The spec says read:admin; any valid token passes.
  app.get('/api/admin/stats', authenticated, (_req, res) => {
    res.json({ orders: ORDERS.length, invoices: INVOICES.length, users: 2 });
  });

  // DEFECT: demands the wrong scope (the spec and every token say read:invoices).
  app.get('/api/invoices', authenticated, needs('read:invoice'), (_req, res) => {
    res.json(INVOICES);
  });

  // DEFECT: denies with a 200. Only the admin role may read reports.
  app.get('/api/reports', authenticated, (req, res) => {
    if (ability(req).cannot('read', 'Report')) {
      res.json({ error: 'forbidden', message: 'You are not allowed to read reports' });
      return;
    }
    res.json(REPORTS);
  });

  // DEFECT: hides with a 404. Whoever may not read projects is told p-7 does not exist.
  app.get('/api/projects/:projectId', authenticated, (req, res) => {
    const project = PROJECTS.get(req.params.projectId);
    if (!project || ability(req).cannot('read', 'Project')) {
      res.status(404).json({ error: 'not_found', message: 'Project not found' });
      return;
    }
    res.json(project);
  });

  const server = app.listen(port, '127.0.0.1', () => {
    const bound = (server.address() as { port: number }).port;
    process.stdout.write(`${JSON.stringify({ port: bound, origin: `http://127.0.0.1:${bound}` })}\n`);
  });
  const close = () => server.close(() => process.exit(0));
  process.once('SIGTERM', close);
  process.once('SIGINT', close);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  serve().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : String(e));
    process.exit(1);
  });
}
