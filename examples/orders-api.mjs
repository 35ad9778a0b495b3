// An Express API whose denials explain themselves (why403/express), for the
// README's middleware example. Run it from a checkout after `npm install`
// (which builds dist/):
//   node examples/orders-api.mjs
// It prints a token without the scope /orders needs, then serves on
// 127.0.0.1:3403 and writes each denial's event to denials.sqlite.
import express from 'express';
import { auth } from 'express-oauth2-jwt-bearer';
import { SignJWT } from 'jose';
import { why403, requireScope, requireRole, jsonLinesSink } from 'why403/express';
import { sqliteSink } from 'why403/sqlite';

const secret = 'an example secret, long enough for HS256';
const app = express();
const w = why403({
  disclosure: 'gap', // tell the caller what was required and what it holds
  sinks: [sqliteSink('denials.sqlite'), jsonLinesSink(process.stdout)],
});

app.use(auth({ secret, tokenSigningAlg: 'HS256', issuer: 'https://auth.example/', audience: 'orders-api' }));
app.get('/orders', w.guard(requireScope('read:orders')), (req, res) => res.json([{ id: 1001 }]));
app.get('/projects/:id', w.guard(requireRole('admin'), { hide: true }), (req, res) => res.json({ id: req.params.id }));
app.use(w.errors()); // express-oauth2-jwt-bearer's own refusals (expired, wrong audience…) explained too

const token = await new SignJWT({ scope: 'read:invoices' })
  .setProtectedHeader({ alg: 'HS256' })
  .setIssuer('https://auth.example/')
  .setAudience('orders-api')
  .setSubject('alice')
  .setExpirationTime('1h')
  .sign(new TextEncoder().encode(secret));
console.error(`TOKEN=${token}`);
app.listen(3403, '127.0.0.1');
