// The Express 5 app `bench/middleware.ts` loads with autocannon, in one of
// two forms on the same route, so the difference is why403's alone:
//   plain   auth() then express-oauth2-jwt-bearer's requiredScopes('read:orders')
//   why403  auth() then why403's requireScope('read:orders') guard, its error
//           middleware, and every denial's event to a JSON-lines sink
//           (a stream that discards, as a log file would take it)
//   node bench/middleware-app.ts plain|why403 SECRET
// Prints {"port":N,"pid":P} once it listens on 127.0.0.1; runs until killed.
import { createRequire } from 'node:module';
import { Writable } from 'node:stream';
import type { Server } from 'node:http';
import { jsonLinesSink, requireScope, why403 } from '../src/middleware/express.ts';

const [form, secret] = process.argv.slice(2);
if ((form !== 'plain' && form !== 'why403') || !secret) {
  process.stderr.write('usage: node bench/middleware-app.ts plain|why403 SECRET\n');
  process.exit(2);
}
type Handler = (req: unknown, res: { json(v: unknown): void }, next: (e?: unknown) => void) => void;
const require = createRequire(import.meta.url);
const express = require('express') as () => {
  get(path: string, ...h: unknown[]): void;
  use(h: unknown): void;
  disable(n: string): void;
  listen(port: number, host: string, cb: () => void): Server;
};
const jwt = require('express-oauth2-jwt-bearer') as {
  auth(o: object): Handler;
  requiredScopes(s: string): Handler;
};

const app = express();
app.disable('x-powered-by');
const auth = jwt.auth({ secret, tokenSigningAlg: 'HS256', issuer: 'https://bench.why403.test/', audience: 'bench' });
const orders = [{ id: 1001, item: 'notebook' }];
const handler: Handler = (_req, res) => res.json(orders);
if (form === 'plain') app.get('/orders', auth, jwt.requiredScopes('read:orders'), handler);
else {
  const discard = new Writable({ write: (_c, _e, cb) => cb() });
  const w = why403({ disclosure: 'gap', sinks: [jsonLinesSink(discard)] });
  app.get('/orders', auth, w.guard(requireScope('read:orders')), handler);
  app.use(w.errors());
}
const server = app.listen(0, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ port: (server.address() as { port: number }).port, pid: process.pid }) + '\n');
});
