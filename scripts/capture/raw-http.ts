// Captures the raw-HTTP importer's fixtures from real programs on 127.0.0.1:
//  - `curl -v` output (curl writes verbose lines to stderr and the body to
//    stdout; both are merged as a terminal shows them) against nginx over
//    HTTP/1.1 and over TLS + HTTP/2;
//  - `curl -i` output (a response alone);
//  - the exact bytes on the wire, recorded by a TCP relay between curl and the
//    server, as an intercepting proxy such as Burp shows them.
// Usage: node scripts/capture/raw-http.ts   (needs nginx, curl and openssl)
// Writes src/importers/fixtures/raw/*.json and fixtures/json/nginx-deny-shorthand.json;
// every file names what produced it.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { createServer, Socket, type Server } from 'node:net';
import { createServer as createHttpServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const outDir = new URL('../../src/importers/fixtures/raw/', import.meta.url).pathname;
mkdirSync(outDir, { recursive: true });
mkdirSync(join(outDir, '..', 'json'), { recursive: true });
const work = mkdtempSync(join(tmpdir(), 'why403-raw-'));

function version(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return (r.stdout + r.stderr).split('\n')[0]!.trim();
}
const curlVersion = version('curl', ['--version']);
const nginxVersion = version('nginx', ['-v']).replace(/^nginx version: /, '');

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 10_000 });
  if (r.error) throw r.error;
  return r.stdout;
}

/** `curl …` with stderr merged into stdout the way `2>&1` shows both. */
function curlMerged(args: string[]): string {
  const r = spawnSync('sh', ['-c', 'curl "$@" 2>&1', 'curl', ...args], { encoding: 'utf8', timeout: 10_000 });
  if (r.error) throw r.error;
  return r.stdout;
}

function save(file: string, source: string, input: string, extra: Record<string, unknown> = {}): void {
  writeFileSync(join(outDir, file), JSON.stringify({ source, ...extra, input }, null, 2) + '\n');
  console.log('wrote', file);
}

const children: ChildProcess[] = [];
try {
  const httpPort = await freePort();
  const tlsPort = await freePort();
  run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=localhost',
    '-addext',
    'subjectAltName=DNS:localhost',
    '-keyout',
    join(work, 'key.pem'),
    '-out',
    join(work, 'cert.pem'),
  ]);
  mkdirSync(join(work, 'html', 'private'), { recursive: true });
  writeFileSync(join(work, 'html', 'private', 'a.txt'), 'secret\n');
  writeFileSync(
    join(work, 'nginx.conf'),
    `
daemon off;
worker_processes 1;
pid ${work}/nginx.pid;
error_log ${work}/error.log;
events {}
http {
  access_log off;
  client_body_temp_path ${work}/body;
  server {
    listen 127.0.0.1:${httpPort};
    root ${work}/html;
    location /private/ { deny all; }
    location = /old { return 302 /private/a.txt; }
  }
  server {
    listen 127.0.0.1:${tlsPort} ssl http2;
    server_name localhost;
    ssl_certificate ${work}/cert.pem;
    ssl_certificate_key ${work}/key.pem;
    root ${work}/html;
    location /private/ { deny all; }
  }
}
`,
  );
  const nginx = spawn('nginx', ['-p', work, '-c', join(work, 'nginx.conf')], { stdio: 'inherit' });
  children.push(nginx);
  await sleep(700);

  const nginxDesc = `${nginxVersion} on 127.0.0.1, \`location /private/ { deny all; }\``;
  const base = `captured by scripts/capture/raw-http.ts: ${curlVersion.split(' ').slice(0, 2).join(' ')} against ${nginxDesc}`;

  save(
    'curl-v-http1.json',
    `${base}; \`curl -v URL -H 'Authorization: Bearer …' -b 'sid=…' 2>&1\` (stdout not a terminal, so curl's progress meter is in it)`,
    curlMerged([
      '-v',
      `http://127.0.0.1:${httpPort}/private/a.txt?x=1`,
      '-H',
      'Authorization: Bearer fake-token-123',
      '-b',
      'sid=fake-session',
    ]),
  );

  save(
    'curl-v-h2-tls.json',
    `${base}, over TLS with http2 (self-signed certificate for localhost); \`curl -sv -k URL 2>&1\``,
    curlMerged(['-sv', '-k', `https://localhost:${tlsPort}/private/a.txt`]),
  );

  save(
    'curl-v-post.json',
    `${base}; \`curl -sv --data-raw 'name=caf%C3%A9&x=1' URL 2>&1\` (curl -v does not print the request body)`,
    curlMerged(['-sv', '--data-raw', 'name=caf%C3%A9&x=1', `http://127.0.0.1:${httpPort}/private/form`]),
  );

  save(
    'curl-v-redirect.json',
    `${base} and \`location = /old { return 302 /private/a.txt; }\`; \`curl -sv -L URL 2>&1\` (two exchanges: the redirect, then the denial)`,
    curlMerged(['-sv', '-L', `http://127.0.0.1:${httpPort}/old`]),
  );

  save(
    'curl-i-response.json',
    `${base}; \`curl -si URL\` (the response alone: status line, headers, body)`,
    run('curl', ['-si', `http://127.0.0.1:${httpPort}/private/a.txt`]),
  );

  // The JSON importer's shorthand form ({request, response}, headers as an
  // object, "body" for the text), filled from what node:http's client saw.
  {
    const { request: httpRequest } = await import('node:http');
    const url = `http://127.0.0.1:${httpPort}/private/a.txt`;
    const reqHeaders = {
      'User-Agent': `node/${process.version}`,
      Accept: '*/*',
      Authorization: 'Bearer fake-token-123',
    };
    const res = await new Promise<import('node:http').IncomingMessage>((resolve, reject) =>
      httpRequest(url, { headers: reqHeaders }, resolve).on('error', reject).end(),
    );
    const chunks: Buffer[] = [];
    for await (const c of res) chunks.push(c as Buffer);
    const headers: Record<string, string | string[]> = {};
    for (let i = 0; i < res.rawHeaders.length; i += 2) {
      const [n, v] = [res.rawHeaders[i]!, res.rawHeaders[i + 1]!];
      const prev = headers[n];
      headers[n] = prev === undefined ? v : [...(Array.isArray(prev) ? prev : [prev]), v];
    }
    const exchange = {
      request: { method: 'GET', url, headers: reqHeaders },
      response: {
        status: res.statusCode,
        statusText: res.statusMessage,
        headers,
        body: Buffer.concat(chunks).toString('utf8'),
      },
    };
    writeFileSync(
      join(outDir, '..', 'json', 'nginx-deny-shorthand.json'),
      JSON.stringify(
        {
          source: `captured by scripts/capture/raw-http.ts: Node ${process.version}'s node:http client against ${nginxDesc}; the request sent and the response's status, raw headers and body, written in the {request, response} shorthand (headers as an object, "body" for the text)`,
          input: exchange,
        },
        null,
        2,
      ) + '\n',
    );
    console.log('wrote ../json/nginx-deny-shorthand.json');
  }

  // The wire, through a relay: what an intercepting proxy shows.
  async function relayCapture(
    targetPort: number,
    curlArgs: (port: number) => string[],
  ): Promise<{ request: string; response: string }> {
    let request = Buffer.alloc(0);
    let response = Buffer.alloc(0);
    const relayPort = await freePort();
    const relay: Server = createServer((client) => {
      const upstream = new Socket();
      upstream.connect(targetPort, '127.0.0.1');
      client.on('data', (d: Buffer) => {
        request = Buffer.concat([request, d]);
        upstream.write(d);
      });
      upstream.on('data', (d: Buffer) => {
        response = Buffer.concat([response, d]);
        client.write(d);
      });
      upstream.on('end', () => client.end());
      upstream.on('error', (e) => {
        console.error('relay:', e.message);
        client.destroy();
      });
      client.on('error', () => upstream.destroy());
      client.on('end', () => upstream.end());
    });
    await new Promise<void>((r) => relay.listen(relayPort, '127.0.0.1', r));
    // Async: a synchronous spawn would block the relay this process runs.
    const c = spawn('curl', ['-s', '-o', '/dev/null', '--max-time', '10', ...curlArgs(relayPort)], {
      stdio: 'inherit',
    });
    await new Promise((r) => c.on('exit', r));
    await new Promise((r) => relay.close(r));
    return { request: request.toString('utf8'), response: response.toString('utf8') };
  }

  const post = await relayCapture(httpPort, (p) => [
    '-X',
    'POST',
    `http://127.0.0.1:${p}/private/form`,
    '-H',
    'Content-Type: application/json',
    '-H',
    'Authorization: Bearer fake-token-123',
    '--data-raw',
    '{"note":"café"}',
  ]);
  save(
    'wire-post-nginx.json',
    `${base}; the bytes on the wire recorded by a TCP relay between \`curl -X POST --data-raw '{"note":"café"}' …\` and nginx, request then response, joined by the blank line a person adds when pasting the two panes of an intercepting proxy`,
    `${post.request}\r\n\r\n${post.response}`,
  );

  // node:http answers without Content-Length, so the body goes out chunked.
  const nodePort = await freePort();
  const nodeServer = createHttpServer((req, res) => {
    res.statusCode = 403;
    res.setHeader('Content-Type', 'application/json');
    res.write('{"error":"forbidden",');
    res.end('"reason":"missing scope read:items"}');
  });
  await new Promise<void>((r) => nodeServer.listen(nodePort, '127.0.0.1', r));
  const chunked = await relayCapture(nodePort, (p) => [
    `http://127.0.0.1:${p}/api/items`,
    '-H',
    'Authorization: Bearer fake-token-123',
  ]);
  await new Promise((r) => nodeServer.close(r));
  save(
    'wire-chunked-node.json',
    `captured by scripts/capture/raw-http.ts: the bytes on the wire recorded by a TCP relay between ${curlVersion.split(' ').slice(0, 2).join(' ')} and a Node ${process.version} node:http server on 127.0.0.1 that answers 403 with two res.write calls (so Transfer-Encoding: chunked), request then response joined by a blank line`,
    `${chunked.request}\r\n\r\n${chunked.response}`,
  );
} finally {
  for (const c of children) if (c.pid) process.kill(c.pid, 'SIGQUIT');
  await sleep(300);
  rmSync(work, { recursive: true, force: true });
}
