// The audit's pace and safety against a loopback server that counts what it
// receives: a 429 with Retry-After is waited out and the request sent again
// (safe methods); an unsafe request is sent once, never again — not after a
// 429, not after a dropped connection; a server that never answers stops the
// audit with exit 3 instead of waiting out every cell.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { AuditResult } from '../../src/audit/model.ts';
import { runCli } from './helpers.ts';

describe('why403 audit: pace and unsafe methods (a counting server on 127.0.0.1)', { timeout: 60_000 }, () => {
  let server: http.Server;
  let base: string;
  let dir: string;
  const received = new Map<string, number>();

  before(async () => {
    server = http.createServer((req, res) => {
      const key = `${req.method} ${req.url}`;
      const n = (received.get(key) ?? 0) + 1;
      received.set(key, n);
      if (req.url === '/busy' && n === 1) {
        res.writeHead(429, { 'retry-after': '1', 'content-type': 'application/json' });
        res.end('{"error":"slow down"}');
      } else if (req.url === '/busy-write') {
        res.writeHead(429, { 'retry-after': '1' });
        res.end();
      } else if (req.url === '/slow') {
        setTimeout(() => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end('{"ok":true}');
        }, 300);
      } else if (req.url?.startsWith('/drop')) {
        req.socket.destroy();
      } else {
        res.writeHead(req.method === 'POST' ? 201 : 200, { 'content-type': 'application/json' });
        res.end('{"ok":true}');
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    dir = mkdtempSync(join(tmpdir(), 'why403-audit-pace-'));
  });
  after(() => {
    server.closeAllConnections();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const file = (requests: string[]) => {
    const path = join(dir, `audit-${received.size}-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(path, [`baseUrl: ${base}`, 'identities:', '  - name: anyone', 'requests:', ...requests].join('\n'));
    return path;
  };

  it('a 429 with Retry-After is waited out, then the GET is sent again and judged', async () => {
    const r = await runCli([
      'audit',
      '--file',
      file(['  - { path: /busy, expect: { allow: "*" } }']),
      '--json',
      '--quiet',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const result = JSON.parse(r.stdout) as AuditResult;
    assert.deepEqual(
      result.cells.map((c) => [c.verdict, c.status]),
      [['allowed', 200]],
    );
    assert.equal(result.requests.rateLimitWaits, 1);
    assert.equal(received.get('GET /busy'), 2);
  });

  it('an unsafe request is sent once: not again after a 429, nor after a dropped connection', async () => {
    const r = await runCli([
      'audit',
      '--file',
      file([
        '  - { method: POST, path: /busy-write, expect: { allow: "*" } }',
        '  - { method: DELETE, path: /drop, expect: { allow: "*" } }',
        '  - { method: POST, path: /fine, expect: { allow: "*" } }',
      ]),
      '--allow-unsafe',
      '--json',
      '--quiet',
      '--concurrency',
      '1',
    ]);
    assert.equal(r.code, 1, r.stderr);
    const result = JSON.parse(r.stdout) as AuditResult;
    assert.deepEqual(
      result.requests.unsafe.map((u) => [u.method, new URL(u.url).pathname, u.status]),
      [
        ['POST', '/busy-write', 429],
        ['DELETE', '/drop', null],
        ['POST', '/fine', 201],
      ],
    );
    assert.deepEqual(
      [received.get('POST /busy-write'), received.get('DELETE /drop'), received.get('POST /fine')],
      [1, 1, 1],
    );
    assert.deepEqual(
      result.findings.map((f) => [f.kind, f.operation]),
      [
        ['error', 'POST /busy-write'],
        ['error', 'DELETE /drop'],
      ],
    );
  });

  it('without --allow-unsafe nothing unsafe is sent', async () => {
    const before = received.get('POST /never') ?? 0;
    const r = await runCli([
      'audit',
      '--file',
      file(['  - { method: POST, path: /never, expect: { allow: "*" } }']),
      '--json',
      '--quiet',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const result = JSON.parse(r.stdout) as AuditResult;
    assert.deepEqual(
      result.cells.map((c) => c.verdict),
      ['skipped'],
    );
    assert.equal(received.get('POST /never') ?? 0, before);
  });

  it("findings come in the plan's order, whichever operation finished first", async () => {
    // /slow is first in the plan and answers last; both are allowed where a deny was expected.
    const r = await runCli([
      'audit',
      '--file',
      file([
        '  - { name: slow, path: /slow, expect: { deny: "*" } }',
        '  - { name: fast, path: /fine, expect: { deny: "*" } }',
      ]),
      '--json',
      '--quiet',
      '--concurrency',
      '2',
    ]);
    assert.equal(r.code, 1, r.stderr);
    const result = JSON.parse(r.stdout) as AuditResult;
    assert.deepEqual(
      result.findings.map((f) => [f.kind, f.operation]),
      [
        ['open', 'slow'],
        ['open', 'fast'],
      ],
    );
    assert.deepEqual(
      result.cells.map((c) => [c.operation, c.finding]),
      [
        ['slow', 0],
        ['fast', 1],
      ],
    );
  });

  it('a server that answers nothing stops the audit after 20 requests in a row, exit 3', async () => {
    const requests = Array.from(
      { length: 30 },
      (_, i) => `  - { name: r${i}, path: /drop?${i}, expect: { allow: "*" } }`,
    );
    const r = await runCli([
      'audit',
      '--file',
      file(requests),
      '--json',
      '--quiet',
      '--retries',
      '0',
      '--concurrency',
      '1',
    ]);
    assert.equal(r.code, 3, r.stderr);
    const result = JSON.parse(r.stdout) as AuditResult;
    assert.match(result.requests.stopped ?? '', /20 requests in a row got no answer/);
    assert.equal(result.requests.sent, 20);
  });
});
