// The fast local server `bench/scan.ts` points `why403 scan` and autocannon
// at: GET /items/<id> answers a small JSON record, and 403 for every id that
// is a multiple of 10, so both clients see the same one-in-ten denials. It
// does as little as node:http allows (no URL parsing, no framework, bodies
// prebuilt where they do not vary) so that the client, not the server, is
// what the bench compares. Keep-alive is node's default. Prints
// {"port":N} as one line once it listens on 127.0.0.1; runs until killed.
import { createServer } from 'node:http';

const PREFIX = '/items/';
const FORBIDDEN = Buffer.from('{"error":"forbidden"}');
const NOT_FOUND = Buffer.from('{"error":"not found"}');
const JSON_TYPE = 'application/json';

const server = createServer((req, res) => {
  const url = req.url ?? '';
  if (req.method !== 'GET' || !url.startsWith(PREFIX)) {
    res.writeHead(404, { 'content-type': JSON_TYPE, 'content-length': NOT_FOUND.length });
    res.end(NOT_FOUND);
    return;
  }
  const id = url.slice(PREFIX.length);
  // Ids are decimal numbers: the last digit decides, without parsing the number.
  if (id.endsWith('0')) {
    res.writeHead(403, { 'content-type': JSON_TYPE, 'content-length': FORBIDDEN.length });
    res.end(FORBIDDEN);
    return;
  }
  const body = `{"id":"${id}","name":"item ${id}","owner":"team-a"}`;
  res.writeHead(200, { 'content-type': JSON_TYPE, 'content-length': Buffer.byteLength(body) });
  res.end(body);
});
// A client that keeps its connections open between runs must not find them closed under it mid-run.
server.keepAliveTimeout = 30_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('expected a TCP address');
  process.stdout.write(JSON.stringify({ port: address.port, pid: process.pid }) + '\n');
});
process.on('SIGTERM', () => process.exit(0));
