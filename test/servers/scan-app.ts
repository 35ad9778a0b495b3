// A real Express 5 employee API for `why403 scan` (issue 5), run as its own
// process by test/servers/scan-server.ts:
//   node test/servers/scan-app.ts     (prints {"port":N,"origin":"…"} once listening)
// It imitates the case a scan exists for: every identity may list the
// employees, but some records are refused, and only fetching each one shows
// which. The refusal is a real @casl/ability rule evaluated per request on the
// record itself; the same data is listed through five pagination styles seen
// in real APIs, one record route sits behind a real express-rate-limit, and
// one record can be made slow for the timeout test. A second record route,
// /guarded/employees/:id, refuses for two reasons in one scan, each with its
// own JSON body: a permission the caller lacks (named in words and in a
// `required_permission` field) for Finance records, and a record that is
// locked.
//
// Environment:
//   SCAN_APP_PORT            port on 127.0.0.1 (default 0: a free one)
//   SCAN_APP_RECORDS         number of employees (default 120)
//   SCAN_APP_SLOW_ID         an id whose GET /employees/<id> is delayed
//   SCAN_APP_SLOW_MS         that delay (default 5000)
//   SCAN_APP_RATE_LIMIT      requests per window on /limited/employees/:id (default 10)
//   SCAN_APP_RATE_WINDOW_MS  that window (default 1000)
//
// Importing this file (as scan-server.ts does for the dataset) does not start
// the server: only running it does.
import { createRequire } from 'node:module';
import type { IncomingMessage, ServerResponse, Server } from 'node:http';

export interface Employee {
  id: string;
  name: string;
  department: string;
  country: string;
  level: number;
  active: boolean;
  /** A locked record is refused to everyone on /guarded/employees/:id. */
  status: 'open' | 'locked';
}

/** The identities the app knows, by bearer token. */
export const SCAN_USERS = ['integration', 'admin'] as const;
export type ScanUser = (typeof SCAN_USERS)[number];

// Six departments, so one record in six is HR. The other fields cycle with
// periods coprime to six (5, 7, 11, 29), so every country, level, active and
// status value occurs both in HR and outside it: no field but department
// tells them apart, and a scan that guesses from any other field is wrong.
// One record in 29 is locked: few enough that, on /guarded, Finance records
// are most of all the refused ones, so comparing every refused record at once
// would pin the locked ones on the department too.
const DEPARTMENTS = ['Engineering', 'Sales', 'HR', 'Finance', 'Support', 'Marketing'];
const COUNTRIES = ['DE', 'US', 'FR', 'JP', 'BR'];
const FIRST = ['Ada', 'Bo', 'Chen', 'Dara', 'Elif', 'Femi', 'Gus', 'Hana', 'Ivo', 'Jun', 'Kai', 'Lena', 'Mo'];
const LAST = [
  'Abe',
  'Berg',
  'Costa',
  'Diaz',
  'Eze',
  'Fox',
  'Grün',
  'Hall',
  'Ito',
  'Jones',
  'Kim',
  'Lund',
  'Moss',
  'Nagy',
  'Ortiz',
  'Park',
  'Quinn',
];

/** The dataset, the same on every start for the same n: ids e0001, e0002, … */
export function employees(n: number): Employee[] {
  const width = Math.max(4, String(n).length);
  return Array.from({ length: n }, (_, i) => ({
    id: `e${String(i + 1).padStart(width, '0')}`,
    name: `${FIRST[i % FIRST.length]} ${LAST[i % LAST.length]}`,
    department: DEPARTMENTS[i % DEPARTMENTS.length],
    country: COUNTRIES[i % COUNTRIES.length],
    level: 1 + (i % 7),
    active: i % 11 !== 10,
    status: i % 29 === 28 ? 'locked' : 'open',
  }));
}

/**
 * The ids `user` may not read, from the policy as stated (integration may not
 * read HR, admin reads all) rather than from the app's CASL rules, so a test
 * comparing the two checks the app as well as the scanner.
 */
export function expectedForbidden(n: number, user: ScanUser): string[] {
  return user === 'admin'
    ? []
    : employees(n)
        .filter((e) => e.department === 'HR')
        .map((e) => e.id);
}

/** The permission /guarded/employees/:id requires for Finance records; only admin holds it. */
export const FINANCE_PERMISSION = 'employees:read-finance';

/**
 * What /guarded/employees/:id refuses to `user`, by reason, from the policy as
 * stated: Finance records need FINANCE_PERMISSION (checked first), and
 * locked records are refused to everyone.
 */
export function expectedGuarded(n: number, user: ScanUser): { permission: string[]; locked: string[] } {
  const data = employees(n);
  const permission = user === 'admin' ? [] : data.filter((e) => e.department === 'Finance');
  const locked = data.filter((e) => e.status === 'locked' && !permission.includes(e));
  return { permission: permission.map((e) => e.id), locked: locked.map((e) => e.id) };
}

const intEnv = (name: string, fallback: number): number => {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < 0)
    throw new Error(`${name} must be a non-negative integer, got ${JSON.stringify(raw)}`);
  return v;
};

/** The app itself; only runs when this file is the process's entry point. */
async function serve(): Promise<void> {
  const { AbilityBuilder, createMongoAbility, ForbiddenError, subject } = await import('@casl/ability');
  // express and express-rate-limit's types need @types/express, which is not
  // a dependency: require() keeps them untyped instead of failing the type check.
  const require = createRequire(import.meta.url);
  type Req = IncomingMessage & {
    params: Record<string, string>;
    query: Record<string, string | string[] | undefined>;
    user?: ScanUser;
  };
  type Res = ServerResponse & {
    json(v: unknown): Res;
    status(code: number): Res;
    set(name: string, value: string): Res;
  };
  type Next = (err?: unknown) => void;
  type Handler = (req: Req, res: Res, next: Next) => void;
  interface App {
    get(path: string, ...h: Handler[]): void;
    delete(path: string, ...h: Handler[]): void;
    disable(name: string): void;
    listen(port: number, host: string, cb: () => void): Server;
  }
  const express = require('express') as () => App;
  const { rateLimit } = require('express-rate-limit') as {
    rateLimit(o: {
      windowMs: number;
      limit: number;
      standardHeaders: string;
      legacyHeaders: boolean;
      message: unknown;
    }): Handler;
  };

  const total = intEnv('SCAN_APP_RECORDS', 120);
  const data = employees(total);
  const byId = new Map(data.map((e) => [e.id, e]));
  const slowId = process.env.SCAN_APP_SLOW_ID || undefined;
  const slowMs = intEnv('SCAN_APP_SLOW_MS', 5000);
  const rateLimitCount = intEnv('SCAN_APP_RATE_LIMIT', 10);
  const rateWindowMs = intEnv('SCAN_APP_RATE_WINDOW_MS', 1000);

  const hits = new Map<string, number>();
  const count = (key: string) => hits.set(key, (hits.get(key) ?? 0) + 1);

  // Built per request from the caller's identity, as CASL apps do, and asked
  // about the record itself: the app holds no list of refused ids.
  const abilityFor = (user: ScanUser) => {
    const { can, cannot, build } = new AbilityBuilder(createMongoAbility);
    can('read', 'Employee');
    if (user !== 'admin') cannot('read', 'Employee', { department: 'HR' });
    return build();
  };

  const app = express();
  app.disable('x-powered-by');
  let origin = '';

  const authenticate: Handler = (req, res, next) => {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    const user = m && (SCAN_USERS as readonly string[]).includes(m[1]) ? (m[1] as ScanUser) : undefined;
    if (user) {
      req.user = user;
      next();
      return;
    }
    // RFC 6750 section 3: no error code when no credential came, invalid_token for one the app does not know.
    res.set('WWW-Authenticate', m ? 'Bearer realm="employees", error="invalid_token"' : 'Bearer realm="employees"');
    res.status(401).json({ error: 'Unauthorized', message: m ? 'Unknown bearer token' : 'A bearer token is required' });
  };

  const countRecord: Handler = (req, _res, next) => {
    count(req.params.id);
    next();
  };
  const countList: Handler = (_req, _res, next) => {
    count('__lists');
    next();
  };

  const slow: Handler = (req, res, next) => {
    if (!slowId || req.params.id !== slowId) return next();
    const timer = setTimeout(next, slowMs);
    // A client that gave up (the scan's timeout) leaves no timer behind.
    res.once('close', () => clearTimeout(timer));
  };

  const readRecord: Handler = (req, res) => {
    const record = byId.get(req.params.id);
    if (!record) {
      res.status(404).json({ error: 'Not Found', message: `No employee ${req.params.id}` });
      return;
    }
    try {
      // A copy: subject() tags the object it is given with its type.
      ForbiddenError.from(abilityFor(req.user!)).throwUnlessCan('read', subject('Employee', { ...record }));
    } catch (e) {
      if (!(e instanceof ForbiddenError)) throw e;
      res.status(403).json({ error: 'Forbidden', message: e.message });
      return;
    }
    res.json(record);
  };

  // Express answers HEAD with the GET route, without the body.
  app.get('/employees/:id', countRecord, slow, authenticate, readRecord);
  const limiter = rateLimit({
    windowMs: rateWindowMs,
    limit: rateLimitCount,
    standardHeaders: 'draft-6',
    legacyHeaders: false,
    message: { error: 'Too Many Requests', message: 'Too many requests, please try again later.' },
  });
  app.get('/limited/employees/:id', countRecord, limiter, authenticate, readRecord);

  // Two rules, two answers: a missing permission (in words and in a field, as
  // many APIs name it), then the record's own state.
  const permissionsOf = (user: ScanUser) => (user === 'admin' ? [FINANCE_PERMISSION] : []);
  const readGuarded: Handler = (req, res) => {
    const record = byId.get(req.params.id);
    if (!record) {
      res.status(404).json({ error: 'Not Found', message: `No employee ${req.params.id}` });
      return;
    }
    if (record.department === 'Finance' && !permissionsOf(req.user!).includes(FINANCE_PERMISSION)) {
      res.status(403).json({
        error: 'Forbidden',
        message: `You do not have the permission ${FINANCE_PERMISSION} required to read employee ${record.id}`,
        required_permission: FINANCE_PERMISSION,
      });
      return;
    }
    if (record.status === 'locked') {
      res.status(403).json({ error: 'Forbidden', message: `Record ${record.id} is locked and cannot be read` });
      return;
    }
    res.json(record);
  };
  app.get('/guarded/employees/:id', countRecord, authenticate, readGuarded);

  // --- lists: every identity may list every employee ------------------------

  class BadRequest extends Error {}
  const first = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);
  const intParam = (
    req: Req,
    names: string[],
    fallback: number,
    min: number,
    max = Number.MAX_SAFE_INTEGER,
  ): number => {
    for (const name of names) {
      const raw = first(req.query[name]);
      if (raw === undefined || raw === '') continue;
      const v = Number(raw);
      if (!Number.isInteger(v) || v < min) throw new BadRequest(`${name} must be an integer >= ${min}`);
      return Math.min(v, max);
    }
    return fallback;
  };
  // Page size from limit or per_page (and Google's pageSize), 25 unless given, at most 100 as GitHub caps it.
  const pageSize = (req: Req) => intParam(req, ['limit', 'per_page', 'pageSize'], 25, 1, 100);
  const list =
    (handler: Handler): Handler =>
    (req, res, next) => {
      try {
        handler(req, res, next);
      } catch (e) {
        if (!(e instanceof BadRequest)) throw e;
        res.status(400).json({ error: 'Bad Request', message: e.message });
      }
    };
  /** The request's own URL on this server with `changes` applied (null deletes a parameter). */
  const selfUrl = (req: Req, changes: Record<string, string | number | null>): string => {
    const u = new URL(req.url ?? '/', origin);
    for (const [k, v] of Object.entries(changes)) {
      if (v === null) u.searchParams.delete(k);
      else u.searchParams.set(k, String(v));
    }
    return u.href;
  };

  // 1. GitHub: a bare array, the pages in the Link header (RFC 8288).
  app.get(
    '/link/employees',
    countList,
    authenticate,
    list((req, res) => {
      const size = pageSize(req);
      const page = intParam(req, ['page'], 1, 1);
      const last = Math.max(1, Math.ceil(data.length / size));
      const links: string[] = [];
      if (page > 1) links.push(`<${selfUrl(req, { page: Math.min(page - 1, last) })}>; rel="prev"`);
      if (page < last)
        links.push(
          `<${selfUrl(req, { page: page + 1 })}>; rel="next"`,
          `<${selfUrl(req, { page: last })}>; rel="last"`,
        );
      if (page > 1) links.push(`<${selfUrl(req, { page: 1 })}>; rel="first"`);
      if (links.length) res.set('Link', links.join(', '));
      res.json(data.slice((page - 1) * size, page * size));
    }),
  );

  // 2. Django REST Framework PageNumberPagination: next/previous as absolute URLs.
  app.get(
    '/next/employees',
    countList,
    authenticate,
    list((req, res) => {
      const size = pageSize(req);
      const page = intParam(req, ['page'], 1, 1);
      const pages = Math.max(1, Math.ceil(data.length / size));
      if (page > pages) {
        // DRF answers a page past the end with 404 and this body.
        res.status(404).json({ detail: 'Invalid page.' });
        return;
      }
      res.json({
        count: data.length,
        next: page < pages ? selfUrl(req, { page: page + 1 }) : null,
        // DRF drops the page parameter for page 1.
        previous: page > 1 ? selfUrl(req, { page: page === 2 ? null : page - 1 }) : null,
        results: data.slice((page - 1) * size, page * size),
      });
    }),
  );

  // 3. Google APIs: an opaque nextPageToken, absent on the last page. The
  // token is standard base64 (with + / =), so a client must URL-encode it.
  const encodeToken = (after: string) => Buffer.from(JSON.stringify({ after, v: 1 })).toString('base64');
  const decodeToken = (token: string): number => {
    let after: unknown;
    try {
      after = (JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as { after?: unknown }).after;
    } catch {
      after = undefined;
    }
    const i = typeof after === 'string' ? data.findIndex((e) => e.id === after) : -1;
    if (i < 0) throw new BadRequest('Invalid page token');
    return i + 1;
  };
  app.get('/cursor/employees', countList, authenticate, (req, res) => {
    let start = 0;
    let size = 25;
    try {
      size = pageSize(req);
      const token = first(req.query.pageToken);
      if (token) start = decodeToken(token);
    } catch (e) {
      if (!(e instanceof BadRequest)) throw e;
      res.status(400).json({ error: { code: 400, message: e.message, status: 'INVALID_ARGUMENT' } });
      return;
    }
    const items = data.slice(start, start + size);
    const more = start + size < data.length;
    res.json(more ? { items, nextPageToken: encodeToken(items[items.length - 1].id) } : { items });
  });

  // 4. Page number with a page count; a page past the end is an empty list.
  app.get(
    '/page/employees',
    countList,
    authenticate,
    list((req, res) => {
      const size = pageSize(req);
      const page = intParam(req, ['page'], 1, 1);
      res.json({
        employees: data.slice((page - 1) * size, page * size),
        page,
        total_pages: Math.ceil(data.length / size),
      });
    }),
  );

  // 5. Offset and limit with a total.
  app.get(
    '/offset/employees',
    countList,
    authenticate,
    list((req, res) => {
      const size = pageSize(req);
      const offset = intParam(req, ['offset'], 0, 0);
      res.json({ records: data.slice(offset, offset + size), offset, limit: size, total: data.length });
    }),
  );

  // --- test-only counters, no credential ------------------------------------
  app.get('/__hits', (_req, res) => {
    res.json(Object.fromEntries(hits));
  });
  app.delete('/__hits', (_req, res) => {
    hits.clear();
    res.status(204).end();
  });

  const server = app.listen(intEnv('SCAN_APP_PORT', 0), '127.0.0.1', () => {
    const port = (server.address() as { port: number }).port;
    origin = `http://127.0.0.1:${port}`;
    process.stdout.write(`${JSON.stringify({ port, origin })}\n`);
  });
  // A slow request still pending must not hold the stop: drop every socket at once.
  const close = () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
    setTimeout(() => process.exit(0), 500).unref();
  };
  process.once('SIGTERM', close);
  process.once('SIGINT', close);
}

if (import.meta.main) await serve();
