// The local API `bench/audit.ts` audits: GET /r/<n> needs scope s<n mod 20>,
// read from the bearer JWT's payload (decoded once per token, not verified:
// the bench measures the client), answering a small JSON record or a 403
// with RFC 6750's insufficient_scope challenge; no token is a 401. Every
// 25th resource forgets its check (it answers 200 to any token), so the audit
// has findings to diagnose as it would on a real API. Prints {"port":N} as
// one line once it listens on 127.0.0.1; runs until killed.
import { createServer } from 'node:http';

const JSON_TYPE = 'application/json';
const UNAUTHORIZED = Buffer.from('{"error":"unauthorized"}');
const scopesOf = new Map<string, Set<string>>();

function scopes(auth: string): Set<string> {
  let s = scopesOf.get(auth);
  if (!s) {
    const payload = auth.slice(7).split('.')[1] ?? '';
    let scope = '';
    try {
      scope = (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { scope?: string }).scope ?? '';
    } catch {
      // not a JWT: no scope
    }
    s = new Set(scope.split(' ').filter(Boolean));
    scopesOf.set(auth, s);
  }
  return s;
}

const server = createServer((req, res) => {
  const url = req.url ?? '';
  const n = Number(url.slice(3));
  const auth = req.headers.authorization;
  if (!auth) {
    res.writeHead(401, {
      'content-type': JSON_TYPE,
      'www-authenticate': 'Bearer realm="bench"',
      'content-length': UNAUTHORIZED.length,
    });
    res.end(UNAUTHORIZED);
    return;
  }
  const needed = `s${n % 20}`;
  if (n % 25 !== 0 && !scopes(auth).has(needed)) {
    const body = `{"error":"insufficient_scope","scope":"${needed}"}`;
    res.writeHead(403, {
      'content-type': JSON_TYPE,
      'www-authenticate': `Bearer error="insufficient_scope", scope="${needed}"`,
      'content-length': Buffer.byteLength(body),
    });
    res.end(body);
    return;
  }
  const body = `{"id":${n},"name":"resource ${n}"}`;
  res.writeHead(200, { 'content-type': JSON_TYPE, 'content-length': Buffer.byteLength(body) });
  res.end(body);
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 }) + '\n');
});
