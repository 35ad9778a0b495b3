import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { diagnoseResponse, exchangeFromFetch } from './fetch.ts';

async function withServer(handler: http.RequestListener, fn: (base: string) => Promise<void>) {
  const server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    await fn(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  } finally {
    server.closeAllConnections();
    server.close();
  }
}

test('diagnoses a real fetch Response and leaves its body readable', async () => {
  await withServer(
    (_req, res) => {
      res.writeHead(401, {
        'content-type': 'application/json',
        'www-authenticate': 'Bearer realm="api", error="invalid_token", error_description="The access token expired"',
        'set-cookie': ['a=1', 'b=2'],
      });
      res.end('{"error":"invalid_token"}');
    },
    async (base) => {
      const init = { headers: { authorization: 'Bearer not-really-a-token-123' } };
      const res = await fetch(`${base}/reports`, init);
      const ex = await exchangeFromFetch(res, { url: `${base}/reports`, ...init });
      assert.equal(ex.response.status, 401);
      assert.equal(ex.request?.headers.find((h) => h.name === 'authorization')?.value, 'Bearer not-really-a-token-123');
      assert.deepEqual(
        ex.response.headers.filter((h) => h.name === 'set-cookie').map((h) => h.value),
        ['a=1', 'b=2'],
      );
      const report = await diagnoseResponse(res, { url: `${base}/reports`, ...init });
      assert.equal(report.status, 401);
      assert.equal(report.outcome, 'unauthenticated');
      assert.equal(report.source.kind, 'fetch');
      assert.ok(!JSON.stringify(report).includes('not-really-a-token-123'), 'the token is redacted');
      assert.equal(await res.text(), '{"error":"invalid_token"}', 'the caller can still read the body');
    },
  );
});

test('takes a Request object, or just the response URL', async () => {
  await withServer(
    (_req, res) => res.writeHead(403, { 'content-type': 'text/plain' }).end('x'.repeat(5000)),
    async (base) => {
      const req = new Request(`${base}/a`, { method: 'DELETE' });
      const res = await fetch(req);
      const ex = await exchangeFromFetch(res, req, { maxBody: 100 });
      assert.equal(ex.request?.method, 'DELETE');
      assert.equal(ex.response.content.text?.length, 100);
      assert.equal(ex.response.content.truncated, true);
      const bare = await exchangeFromFetch(await fetch(`${base}/b`));
      assert.equal(bare.request?.url, `${base}/b`);
    },
  );
});
