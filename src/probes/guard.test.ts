import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ExchangeRequest } from '../model/exchange.ts';
import type { ProbeContext, ProbeRequest } from './define.ts';
import { assertProbeSafe, ProbeRefused } from './guard.ts';
import { withHeader, withoutHeaders, withoutCookies, withoutQuery } from './vary.ts';
import { createSender } from './runner.ts';
import { diagnose } from '../diagnose.ts';
import { sendRequest } from '../live/send.ts';

// The user's own credential, the one they named with --as, and their page's origin.
const FIRST = { name: 'Authorization', value: 'Bearer first-identity-token' };
const SECOND = { name: 'Authorization', value: 'Bearer second-identity' };
const APP_ORIGIN = { name: 'Origin', value: 'https://app.example.test' };

const original: ExchangeRequest = {
  method: 'POST',
  url: 'https://api.example.test/v1/items?id=7&token=abc',
  headers: [
    FIRST,
    { name: 'Cookie', value: 'sid=1; theme=dark' },
    APP_ORIGIN,
    { name: 'Content-Type', value: 'application/x-www-form-urlencoded' },
  ],
  postData: { mimeType: 'application/x-www-form-urlencoded', text: 'a=1&_csrf=xyz' },
};

function ctx(over: Partial<ProbeContext['options']> = {}, req = original): ProbeContext {
  return {
    original: req,
    first: {
      request: req,
      response: { status: 403, statusText: 'Forbidden', headers: [], content: {} },
      source: { kind: 'live', name: req.url },
    },
    report: {} as ProbeContext['report'],
    standing: [],
    options: {
      budget: 12,
      allowUnsafe: false,
      identities: [{ label: '--as', header: SECOND }],
      env: {},
      ...over,
    },
  };
}

const asGet = (p: ProbeRequest): ProbeRequest => ({
  ...p,
  request: { ...p.request, method: 'GET', postData: undefined },
});
const refused = (c: ProbeContext, p: ProbeRequest, pattern: RegExp) =>
  assert.throws(
    () => assertProbeSafe(c, p),
    (e: unknown) => e instanceof ProbeRefused && pattern.test(e.message),
  );

test('removals and swaps of what the user named pass', () => {
  const c = ctx();
  assertProbeSafe(c, asGet(withoutHeaders(original, (h) => h.name === 'Authorization')));
  assertProbeSafe(c, asGet(withoutCookies(original, ['sid'])));
  assertProbeSafe(c, asGet(withoutQuery(original, ['token'])));
  assertProbeSafe(c, asGet(withHeader(original, SECOND, '--as')));
  const preflight: ProbeRequest = {
    request: {
      method: 'OPTIONS',
      url: original.url,
      headers: [APP_ORIGIN, { name: 'Access-Control-Request-Method', value: 'POST' }],
    },
    removed: [],
    added: ['header:Access-Control-Request-Method'],
  };
  assertProbeSafe(c, preflight);
  assertProbeSafe(ctx({ allowUnsafe: true }), {
    request: { ...original, postData: { mimeType: original.postData!.mimeType, text: 'a=1' } },
    removed: ['form:_csrf'],
    added: [],
  });
});

test('forged addresses, guessed credentials, other paths and unsafe methods are refused', () => {
  const c = ctx();
  refused(c, asGet(withHeader(original, { name: 'X-Forwarded-For', value: '10.0.0.1' }, 'x')), /client address/);
  refused(
    c,
    asGet(withHeader(original, { name: 'Authorization', value: 'Bearer guessed' }, 'x')),
    /neither sent by the user nor named/,
  );
  refused(
    c,
    asGet({
      ...withoutHeaders(original, () => false),
      request: { ...original, url: 'https://api.example.test/v1/items/../admin' },
    }),
    /keep the user's URL/,
  );
  refused(
    c,
    asGet({
      ...withoutHeaders(original, () => false),
      request: { ...original, url: 'https://api.example.test/v1/items?id=8' },
    }),
    /query parameter id/,
  );
  refused(
    c,
    withoutHeaders(original, () => false),
    /--allow-unsafe/,
  );
  refused(
    ctx({ allowUnsafe: true }),
    { request: { ...original, method: 'DELETE' }, removed: [], added: [] },
    /user's own method/,
  );
  refused(
    ctx({ allowUnsafe: true }),
    {
      request: { ...original, postData: { mimeType: original.postData!.mimeType, text: 'a=2' } },
      removed: [],
      added: [],
    },
    /body/,
  );
  refused(
    c,
    {
      request: { method: 'OPTIONS', url: original.url, headers: [{ name: 'Origin', value: 'https://evil.example' }] },
      removed: [],
      added: [],
    },
    /Origin/,
  );
});

test('the sender keeps to the budget, records every request, and stops at the first rate-limit sign', async () => {
  let hits = 0;
  const server = http.createServer((req, res) => {
    hits++;
    if (req.headers['x-limit']) return res.writeHead(429, { 'retry-after': '30' }).end();
    res.writeHead(403).end('no');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/x`;
  try {
    const req: ExchangeRequest = {
      method: 'GET',
      url,
      headers: [FIRST, { name: 'X-Limit', value: '1' }],
    };
    const first = await sendRequest({ ...req, headers: [req.headers[0]] }, { env: {} });
    const c: ProbeContext = { ...ctx({ budget: 2 }, req), first, report: await diagnose(first) };
    hits = 0;
    const sender = createSender(c, { env: {} });
    const without = withoutHeaders(req, (h) => h.name === 'X-Limit');
    const anonymous = withoutHeaders(req, () => true);
    assert.equal((await sender.send('a', without))?.response.status, 403);
    assert.equal((await sender.send('b', without))?.response.status, 403, 'an identical request is answered again');
    assert.equal(sender.log[1].reused, 'a');
    assert.equal((await sender.send('a', anonymous))?.response.status, 403);
    assert.equal(
      await sender.send(
        'a',
        withoutHeaders(req, (h) => h.name === 'Authorization'),
      ),
      undefined,
      'budget spent',
    );
    assert.match(sender.probing.stopped ?? '', /budget of 2/);
    assert.equal(hits, 2, 'the repeated request was not sent twice');
    assert.equal(sender.probing.sent, 2);

    const limited = createSender({ ...c, options: { ...c.options, budget: 5 } }, { env: {} });
    assert.equal(
      (
        await limited.send(
          'b',
          withoutHeaders(req, () => false),
        )
      )?.response.status,
      429,
    );
    assert.equal(await limited.send('b', without), undefined, 'nothing after a 429');
    assert.match(limited.probing.stopped ?? '', /rate-limit sign \(429.*Retry-After: 30/);
    assert.equal(hits, 3);
  } finally {
    server.close();
    server.closeAllConnections();
  }
});
