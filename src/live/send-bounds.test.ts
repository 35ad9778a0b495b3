// Issue 12, points 2 and 8: what a misbehaving server cannot make `check` do.
// Decompression bombs stay within --max-body decoded; secret headers do not
// follow a redirect to another origin; oversized response headers are
// diagnosed, not a network failure; a redirect loop or the hop limit is said.
// Every server is on 127.0.0.1; every test sends a bounded number of requests.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import zlib from 'node:zlib';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import { sendRequest } from './send.ts';
import { decodeBody } from './body.ts';
import { checkRequest } from '../check.ts';
import { renderTerminal } from '../render/terminal.ts';
import { renderMarkdown } from '../render/markdown.ts';
import { createSender } from '../probes/runner.ts';
import { contextFor } from '../probes/test-support.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const servers: net.Server[] = [];
let base = '';
let other = '';
let overflow = '';
const hits = new Map<string, number>();
const atOther: { url: string; headers: http.IncomingHttpHeaders }[] = [];

const MB = 1024 * 1024;
// 100 gzip members of 10 MB of zeros each: about 1 MB on the wire, 1 GB decoded.
const gzipMember = zlib.gzipSync(Buffer.alloc(10 * MB), { level: 9 });
const gzipBomb = Buffer.concat(Array.from({ length: 100 }, () => gzipMember));
// 256 MB of zeros in a few hundred bytes of brotli.
const brBomb = zlib.brotliCompressSync(Buffer.alloc(256 * MB), {
  params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 5 },
});
// zstd frames concatenate: 100 × 10 MB.
const zstdFrame = zlib.zstdCompressSync(Buffer.alloc(10 * MB));
const zstdBomb = Buffer.concat(Array.from({ length: 100 }, () => zstdFrame));
const lines = Array.from({ length: 12000 }, (_, i) => `line ${i} ${(i * 7919) % 10007}\n`).join('');

function listen(server: net.Server): Promise<string> {
  servers.push(server);
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve(`127.0.0.1:${(server.address() as AddressInfo).port}`)),
  );
}

function count(url: string) {
  hits.set(url, (hits.get(url) ?? 0) + 1);
}

before(async () => {
  base = await listen(
    http.createServer((req, res) => {
      const url = req.url!;
      count(url);
      const denied = (headers: http.OutgoingHttpHeaders, body: Buffer | string) =>
        res.writeHead(403, { 'content-type': 'text/plain', ...headers }).end(body);
      if (url === '/gzip-bomb') return denied({ 'content-encoding': 'gzip' }, gzipBomb);
      if (url === '/br-bomb') return denied({ 'content-encoding': 'br' }, brBomb);
      if (url === '/zstd-bomb') return denied({ 'content-encoding': 'zstd' }, zstdBomb);
      if (url === '/gzip-stalls') {
        // A bomb that never ends: check must not wait for the rest.
        res.writeHead(403, { 'content-type': 'text/plain', 'content-encoding': 'gzip' });
        res.write(gzipMember);
        return;
      }
      if (url === '/gzip-br')
        return res
          .writeHead(403, { 'content-type': 'application/json', 'content-encoding': 'gzip, br' })
          .end(zlib.brotliCompressSync(zlib.gzipSync('{"error":"forbidden"}')));
      // A gzip header and then 2 MB of empty stored blocks: bytes that decode to nothing.
      if (url === '/gzip-empty-blocks')
        return denied(
          { 'content-encoding': 'gzip' },
          Buffer.concat([
            Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]),
            Buffer.alloc(400_000 * 5, Buffer.from([0, 0, 0, 0xff, 0xff])),
          ]),
        );
      if (url === '/exact') return denied({ 'content-encoding': 'gzip' }, zlib.gzipSync('a'.repeat(1000)));
      if (url === '/not-gzip') return denied({ 'content-encoding': 'gzip' }, 'forbidden, and not gzip at all');
      if (url === '/not-gzip-big') return denied({ 'content-encoding': 'gzip' }, 'x'.repeat(100_000));
      if (url === '/gzip-corrupt') {
        // Decodes for a while, then fails: its checksum is wrong.
        const gz = zlib.gzipSync(lines);
        gz.writeUInt32LE((gz.readUInt32LE(gz.length - 8) ^ 1) >>> 0, gz.length - 8);
        const half = Math.floor(gz.length / 2);
        res.writeHead(403, { 'content-type': 'text/plain', 'content-encoding': 'gzip' });
        res.write(gz.subarray(0, half));
        setTimeout(() => res.end(gz.subarray(half)), 100);
        return;
      }
      if (url === '/to-other') return res.writeHead(302, { location: `http://${other}/landing` }).end();
      if (url === '/to-same') return res.writeHead(302, { location: '/landing' }).end();
      if (url === '/landing') {
        atOther.push({ url: `same:${url}`, headers: req.headers });
        return res.writeHead(403).end('no');
      }
      if (url === '/loop/a') return res.writeHead(302, { location: '/loop/b' }).end();
      if (url === '/loop/b') return res.writeHead(302, { location: '/loop/a' }).end();
      const chain = /^\/chain\/(\d+)$/.exec(url);
      if (chain) return res.writeHead(302, { location: `/chain/${Number(chain[1]) + 1}` }).end();
      denied({}, 'forbidden');
    }),
  );
  other = await listen(
    http.createServer((req, res) => {
      atOther.push({ url: req.url!, headers: req.headers });
      res.writeHead(403, { 'content-type': 'text/plain' }).end('no');
    }),
  );
  // Writes headers by hand: /big sends 100 KB of them, /huge 400 KB.
  overflow = await listen(
    net.createServer((socket) => {
      socket.on('error', () => {});
      let got = '';
      socket.on('data', (d) => {
        got += d.toString('latin1');
        if (!got.includes('\r\n\r\n')) return;
        const path = got.split(' ')[1];
        count(`overflow:${path}`);
        const n = path === '/big' ? 1000 : 4000;
        const cookies = Array.from(
          { length: n },
          (_, i) => `Set-Cookie: tracking${i}=${'v'.repeat(80)}; Path=/\r\n`,
        ).join('');
        socket.end(
          `${path === '/huge-after-103' ? 'HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n' : ''}HTTP/1.1 403 Forbidden\r\nServer: bigheaders\r\nContent-Type: text/plain\r\n${cookies}Content-Length: 9\r\n\r\nforbidden`,
        );
      });
    }),
  );
});

after(() => {
  for (const s of servers) s.close();
  for (const s of servers) (s as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
});

const get = (path: string, headers: { name: string; value: string }[] = [], host = base) => ({
  method: 'GET',
  url: `http://${host}${path}`,
  headers,
});

test('a gzip bomb keeps exactly --max-body decoded bytes and says the body was cut', async () => {
  const ex = await sendRequest(get('/gzip-bomb'), { env: {} });
  assert.equal(ex.response.content.text!.length, 262144);
  assert.equal(ex.response.content.text, '\0'.repeat(262144));
  assert.equal(ex.response.content.truncated, true);
  assert.ok(
    ex.notes?.some((n) =>
      /The body was cut: it decodes \(Content-Encoding: gzip\) to more than the 262144 bytes kept/.test(n),
    ),
    String(ex.notes),
  );
  const small = await sendRequest(get('/gzip-bomb'), { env: {}, maxBody: 1000 });
  assert.equal(small.response.content.text!.length, 1000);
});

test('brotli and zstd bombs are cut at the limit too', async () => {
  for (const path of ['/br-bomb', '/zstd-bomb']) {
    const ex = await sendRequest(get(path), { env: {}, maxBody: 5000 });
    assert.equal(ex.response.content.text!.length, 5000, path);
    assert.equal(ex.response.content.truncated, true, path);
    assert.ok(
      ex.notes?.some((n) => n.includes('The body was cut')),
      path,
    );
  }
});

test('a bomb that never ends is not waited for', async () => {
  const t0 = Date.now();
  const ex = await sendRequest(get('/gzip-stalls'), { env: {}, timeoutMs: 5000, maxBody: 1000 });
  assert.equal(ex.response.content.text!.length, 1000);
  assert.ok(Date.now() - t0 < 2500, `took ${Date.now() - t0} ms`);
});

test(
  'memory stays near the limit whatever the body expands to (a child process)',
  { skip: process.platform !== 'linux' && 'reads /proc/self/status' },
  async () => {
    const script = `
    import { readFileSync } from 'node:fs';
    import { sendRequest } from ${JSON.stringify(new URL('./send.ts', import.meta.url).href)};
    const kept = [];
    const rss = [];
    for (const p of ['/gzip-bomb', '/br-bomb', '/zstd-bomb']) {
      const ex = await sendRequest({ method: 'GET', url: 'http://${base}' + p, headers: [] }, { env: {} });
      kept.push(ex.response.content.text.length);
      // VmHWM: this process's peak resident size (resourceUsage().maxRSS carries the parent's over from fork).
      rss.push(Number(/VmHWM:\\s+(\\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))[1]) / 1024);
    }
    console.log(JSON.stringify({ kept, rss }));`;
    const out = await new Promise<string>((resolve, reject) =>
      execFile(
        process.execPath,
        ['--input-type=module', '-e', script],
        { cwd: root, timeout: 30000 },
        (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)),
      ),
    );
    const { kept, rss } = JSON.parse(out) as { kept: number[]; rss: number[] };
    const maxRssMB = Math.max(...rss);
    assert.deepEqual(kept, [262144, 262144, 262144]);
    // 1 GB, 256 MB and 1 GB decoded: unbounded, any one of them is far above this.
    assert.ok(maxRssMB < 200, `peak RSS after each: ${rss.join(', ')} MB`);
  },
);

test('several codings are undone in order; a body of exactly the limit is whole', async () => {
  const both = await sendRequest(get('/gzip-br'), { env: {} });
  assert.equal(both.response.content.text, '{"error":"forbidden"}');
  assert.equal(both.notes, undefined);
  const empty = await sendRequest(get('/gzip-empty-blocks'), { env: {}, maxBody: 1000 });
  assert.equal(empty.response.content.text, '');
  assert.equal(empty.response.content.truncated, true);
  assert.ok(
    empty.notes?.some((n) =>
      /^The body was cut: .+ KB of it \(Content-Encoding: gzip\) was read without decoding to more than 0 bytes/.test(
        n,
      ),
    ),
    String(empty.notes),
  );
  const exact = await sendRequest(get('/exact'), { env: {}, maxBody: 1000 });
  assert.equal(exact.response.content.text, 'a'.repeat(1000));
  assert.equal(exact.response.content.truncated, undefined);
  // The synchronous decoder (the scan's) takes several codings and a bound.
  assert.equal(decodeBody(zlib.brotliCompressSync(zlib.gzipSync('x')), 'gzip, br').toString(), 'x');
  const bomb = zlib.gzipSync(Buffer.alloc(MB));
  assert.equal(decodeBody(bomb, 'gzip', 1000), bomb, 'past the bound: the bytes as given');
});

test('a body that does not decode is kept as received, bounded, and the report says so', async () => {
  const ex = await sendRequest(get('/not-gzip'), { env: {} });
  assert.equal(ex.response.content.text, 'forbidden, and not gzip at all');
  assert.ok(
    ex.notes?.some((n) => /Content-Encoding: gzip but does not decode \(.+\): it is kept as received\.$/.test(n)),
    String(ex.notes),
  );
  const big = await sendRequest(get('/not-gzip-big'), { env: {}, maxBody: 1000 });
  assert.equal(big.response.content.text, 'x'.repeat(1000));
  assert.equal(big.response.content.truncated, true);
  assert.ok(
    big.notes?.some((n) => n.includes('kept as received, cut at 1000 bytes')),
    String(big.notes),
  );
  const corrupt = await sendRequest(get('/gzip-corrupt'), { env: {} });
  const text = corrupt.response.content.text!;
  assert.ok(
    text.length > 1000 && lines.startsWith(text) && text.length < lines.length,
    `${text.length} of ${lines.length}`,
  );
  assert.equal(corrupt.response.content.truncated, true);
  assert.ok(
    corrupt.notes?.some((n) =>
      /^The body \(Content-Encoding: gzip\) decoded to .+ KB and then failed \(.+\): the decoded part is kept\.$/.test(
        n,
      ),
    ),
    String(corrupt.notes),
  );
});

test('the terminal and Markdown reports say the body was cut', async () => {
  const report = await checkRequest(get('/gzip-bomb'), { env: {}, probes: false, maxBody: 4096 });
  const flat = (s: string) => s.replace(/\s+/g, ' ');
  assert.match(
    flat(renderTerminal(report)),
    /The body was cut: it decodes \(Content-Encoding: gzip\) to more than the 4096 bytes kept/,
  );
  assert.match(renderMarkdown(report), /The body was cut/);
});

test('X-Api-Key and every other secret header stop at a redirect to another origin', async () => {
  atOther.length = 0;
  const headers = [
    { name: 'X-Api-Key', value: 'key-0123456789abcdef' },
    { name: 'Authorization', value: 'Bearer abc.def.ghi' },
    { name: 'X-Auth-Token', value: 'tok-0123456789' },
    { name: 'X-Custom-Secret', value: 's3cr3t-value' },
    { name: 'Cookie', value: 'sid=1' },
    { name: 'Accept', value: 'text/plain' },
  ];
  const cross = await sendRequest(get('/to-other', headers), { env: {} });
  assert.equal(cross.response.status, 403);
  assert.equal(atOther.length, 1);
  const h = atOther[0].headers;
  for (const name of ['x-api-key', 'authorization', 'x-auth-token', 'x-custom-secret', 'cookie'])
    assert.equal(h[name], undefined, `${name} reached the other origin`);
  assert.equal(h.accept, 'text/plain', 'a header that is no secret follows');
  assert.ok(
    cross.notes?.some((n) =>
      n.includes('X-Api-Key, Authorization, X-Auth-Token, X-Custom-Secret, Cookie were not sent on'),
    ),
    String(cross.notes),
  );
  assert.ok(!cross.request!.headers.some((x) => x.name === 'X-Api-Key'));
  // Same origin: they follow.
  atOther.length = 0;
  await sendRequest(get('/to-same', headers), { env: {} });
  assert.equal(atOther[0].url, 'same:/landing');
  assert.equal(atOther[0].headers['x-api-key'], 'key-0123456789abcdef');
});

test('the probes sender follows no redirect, so a secret header never reaches another origin', async () => {
  const req = get('/to-other', [{ name: 'X-Api-Key', value: 'key-0123456789abcdef' }]);
  const ctx = await contextFor(req);
  atOther.length = 0;
  const sender = createSender(ctx, { env: {} });
  const ex = await sender.send('test', { request: req, removed: [], added: [] });
  assert.equal(ex?.response.status, 302);
  assert.equal(atOther.length, 0);
});

test('100 KB of response headers are read and diagnosed, with a note on their size', async () => {
  const ex = await sendRequest(get('/big', [], overflow), { env: {} });
  assert.equal(ex.response.status, 403);
  assert.equal(ex.response.content.text, 'forbidden');
  assert.ok(
    ex.notes?.some((n) =>
      /^The response's headers are \d+(\.\d)? KB, more than the 16 KB .*1000 of them are Set-Cookie/.test(n),
    ),
    String(ex.notes),
  );
});

test('headers past the limit: the status line and headers received are diagnosed, not a network failure', async () => {
  hits.delete('overflow:/huge');
  const report = await checkRequest(get('/huge', [], overflow), { env: {}, probes: false });
  assert.equal(hits.get('overflow:/huge'), 1);
  assert.equal(report.status, 403);
  assert.equal(report.statusText, 'Forbidden');
  const note = report.notes.find((n) => n.startsWith('The server sent more than 256 KB of response headers'));
  assert.ok(note, String(report.notes));
  assert.match(note, /431, 400 or 403/);
  assert.match(renderTerminal(report).replace(/\s+/g, ' '), /The server sent more than 256 KB of response headers/);
  // An interim 103 before it is skipped: the answer is the 403.
  const after103 = await sendRequest(get('/huge-after-103', [], overflow), { env: {} });
  assert.equal(after103.response.status, 403);
  assert.ok(after103.response.headers.some((h) => h.name === 'server' && h.value === 'bigheaders'));
});

test('a redirect loop is stopped and said, in the report and the terminal', async () => {
  hits.delete('/loop/a');
  hits.delete('/loop/b');
  const report = await checkRequest(get('/loop/a'), { env: {}, probes: false });
  assert.equal(report.status, 302);
  assert.equal(hits.get('/loop/a'), 1);
  assert.equal(hits.get('/loop/b'), 1);
  const a = `http://${base}/loop/a`;
  const b = `http://${base}/loop/b`;
  assert.ok(
    report.notes.some(
      (n) => n.includes(`Redirect loop: ${a} → ${b} → ${a}`) && n.includes('stopped after 1 redirect (limit 5)'),
    ),
    String(report.notes),
  );
  assert.match(renderTerminal(report, { width: 200 }), /Redirect loop: .*loop\/a → .*loop\/b → .*loop\/a/);
});

test('the hop limit is said: stopped after N redirects (limit N)', async () => {
  for (let i = 0; i < 10; i++) hits.delete(`/chain/${i}`);
  const ex = await sendRequest(get('/chain/0'), { env: {} });
  assert.equal(ex.response.status, 302);
  assert.equal(ex.trace!.redirects.length, 6);
  assert.equal([...hits.keys()].filter((k) => k.startsWith('/chain/')).length, 6);
  assert.ok(
    ex.notes?.some((n) =>
      n.startsWith(
        `Following stopped after 5 redirects (limit 5): the answer shown is the 302 to http://${base}/chain/6, not followed.`,
      ),
    ),
    String(ex.notes),
  );
  const two = await sendRequest(get('/chain/0'), { env: {}, maxRedirects: 2 });
  assert.ok(
    two.notes?.some((n) => n.includes('stopped after 2 redirects (limit 2)')),
    String(two.notes),
  );
  const none = await sendRequest(get('/chain/0'), { env: {}, followRedirects: false });
  assert.equal(none.notes, undefined, 'not following by choice is no limit');
});

test('check in a child process: exit code and terminal lines for the loop and the oversized headers', async () => {
  const run = (args: string[]) =>
    new Promise<{ code: number; stdout: string }>((resolve) =>
      execFile(
        process.execPath,
        [`${root}src/cli/bin.ts`, 'check', '--no-probes', ...args],
        { cwd: root, timeout: 30000, env: { ...process.env, NO_COLOR: '1', HTTP_PROXY: '', http_proxy: '' } },
        (err, stdout) =>
          resolve({ code: err ? Number((err as { code?: number }).code) : 0, stdout: stdout.replace(/\s+/g, ' ') }),
      ),
    );
  const loop = await run([`http://${base}/loop/a`]);
  assert.match(
    loop.stdout,
    /Redirect loop: \S+loop\/a → \S+loop\/b → \S+loop\/a\. Following stopped after 1 redirect \(limit 5\)/,
  );
  const huge = await run([`http://${overflow}/huge`]);
  assert.notEqual(huge.code, 3);
  assert.match(huge.stdout, /403 Forbidden/);
  assert.match(huge.stdout, /The server sent more than 256 KB of response headers/);
});
