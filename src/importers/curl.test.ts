import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { InputError } from '../errors.ts';
import { headerValue } from '../model/exchange.ts';
import { curlRequests, fromCurl } from './curl.ts';
import { assertChromiumCopyAll, chromium } from './test-support.ts';

const received: { method: string; url: string; headers: [string, string][]; body: string } = chromium.received;

// Chromium's generator leaves these out of the command on purpose (its
// generateCurlCommand skips host, accept-encoding and, with a body,
// content-length), so the command cannot carry them.
const LEFT_OUT_BY_CHROMIUM = new Set(['host', 'accept-encoding', 'content-length']);

async function rejects(command: string, pattern: RegExp): Promise<InputError> {
  try {
    await fromCurl(command);
  } catch (err) {
    assert.ok(err instanceof InputError, `expected InputError, got ${err}`);
    assert.match(err.message, pattern);
    assert.doesNotMatch(err.message, /\n/, 'one line');
    return err;
  }
  assert.fail(`expected ${JSON.stringify(command)} to be rejected`);
}

test("Chromium's Copy as cURL (bash) reads back as the request the server received", async () => {
  assert.match(chromium.bash, /\$'/, "the fixture exercises $'…' quoting");
  const req = await fromCurl(chromium.bash);
  assert.equal(req.method, received.method);
  const url = new URL(req.url);
  assert.equal(url.pathname + url.search, received.url);
  assert.equal(req.postData?.text, received.body, 'quotes, newline, "!" and non-ASCII survive');
  for (const [name, value] of received.headers) {
    if (LEFT_OUT_BY_CHROMIUM.has(name.toLowerCase())) continue;
    assert.equal(headerValue(req.headers, name), value, `header ${name}`);
  }
  assert.deepEqual(req.cookies, [{ name: 'sid', value: 'fake-session-123' }]);
  assert.deepEqual(req.queryString, [
    { name: 'q', value: 'café' },
    { name: 'x', value: '1' },
  ]);
});

test('Copy all as cURL (bash) gives every request', async () => {
  const all = await curlRequests(chromium.bashAll);
  assertChromiumCopyAll(all);
  await rejects(chromium.bashAll, /expected one curl request, found 2/);
});

test("$'…' escapes: \\n, \\', \\\\, \\x and \\u", async () => {
  const req = await fromCurl(String.raw`curl https://api.example.com/x --data-raw $'a\nb \'q\' c\\d \x41 \u00e9'`);
  assert.equal(req.postData?.text, "a\nb 'q' c\\d A é");
  assert.equal(req.method, 'POST');
});

test('curl options a browser or a person uses: -X, -H, -b, --data-binary, -u, --compressed, line continuations', async () => {
  const req = await fromCurl(
    [
      "curl -X PUT 'https://api.example.com/v1/items/7?dry=1' \\",
      "  -H 'Content-Type: application/json' \\",
      "  --cookie 'a=1; b=2' \\",
      '  --data-binary \'{"name":"x"}\' \\',
      '  -u alice:s3cret --compressed',
    ].join('\n'),
  );
  assert.equal(req.method, 'PUT');
  assert.equal(req.url, 'https://api.example.com/v1/items/7?dry=1');
  assert.equal(headerValue(req.headers, 'content-type'), 'application/json');
  assert.equal(headerValue(req.headers, 'cookie'), 'a=1; b=2');
  assert.deepEqual(req.cookies, [
    { name: 'a', value: '1' },
    { name: 'b', value: '2' },
  ]);
  assert.equal(req.postData?.text, '{"name":"x"}');
  assert.equal(req.postData?.mimeType, 'application/json');
  assert.equal(headerValue(req.headers, 'authorization'), `Basic ${Buffer.from('alice:s3cret').toString('base64')}`);
});

test('-d without a Content-Type gets the form type curl sends; no -X with data means POST', async () => {
  const req = await fromCurl("curl http://127.0.0.1:8080/login -d 'user=a&pass=b'");
  assert.equal(req.method, 'POST');
  assert.equal(headerValue(req.headers, 'content-type'), 'application/x-www-form-urlencoded');
  assert.equal(req.postData?.text, 'user=a&pass=b');
});

test('a pasted prompt and a path to curl are accepted', async () => {
  assert.equal((await fromCurl('$ /usr/bin/curl https://example.com/a')).url, 'https://example.com/a');
});

test('a URL without a scheme is http, as curl assumes', async () => {
  const req = await fromCurl('curl example.com/path');
  assert.equal(req.url, 'http://example.com/path');
});

test('-d @file names a file whose bytes are not in the command', async () => {
  const req = await fromCurl('curl https://example.com/ -H "Content-Type: application/json" -d @body.json');
  assert.equal(req.postData?.mimeType, 'application/json');
  assert.equal(req.postData?.text, undefined);
});

test('errors are one line naming the input and what was expected', async () => {
  await rejects('wget https://example.com/', /^curl command: expected a curl command/);
  await rejects('curl --no-such-option https://example.com/', /^curl command: .*--no-such-option/);
  await rejects('curl -H "X: y"', /no URL/);
  await rejects(
    "curl 'https://example.com/",
    /^curl command: not a curl command curl would accept: its shell quoting does not parse \(bash parsing error on line 1; an unclosed quote\?\)$/,
  );
  await rejects('sudo curl https://example.com/', /command should begin with "curl" but instead begins with "sudo"$/);
  const err = await rejects('curl', /no URL/);
  assert.equal(err.input, 'curl command');
});

// --- no native addon ------------------------------------------------------

const root = fileURLToPath(new URL('../../', import.meta.url));

function nodeNoAddons(code: string) {
  return spawnSync(process.execPath, ['--no-addons', '--input-type=module', '-e', code], {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
  });
}

test("curlconverter's own Node entry needs the native addon (so the next test can tell)", () => {
  // --no-addons makes any native addon load throw; the stock entry must trip it.
  const r = nodeNoAddons("await import('curlconverter'); console.log('loaded');");
  assert.notEqual(r.status, 0, 'the stock curlconverter entry loaded without addons: this check proves nothing');
  assert.match(r.stderr, /ERR_DLOPEN_DISABLED/);
  assert.match(r.stderr, /tree-sitter/);
});

test('fromCurl runs with native addons disabled, and no .node file is loaded', () => {
  const r = nodeNoAddons(`
    const { fromCurl } = await import('./src/importers/curl.ts');
    const req = await fromCurl("curl https://example.com/a -H 'X-A: 1' --data-raw $'x\\\\ny'");
    const natives = process.report.getReport().sharedObjects.filter((s) => s.endsWith('.node'));
    console.log(JSON.stringify({ url: req.url, body: req.postData.text, natives }));
  `);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
  assert.equal(out.url, 'https://example.com/a');
  assert.equal(out.body, 'x\ny');
  assert.deepEqual(out.natives, []);
});

test('-X with an empty method is refused in one line, not turned into a request without a method', async () => {
  for (const cmd of [`curl -X '' https://example.test/`, `curl https://example.test/ --request ""`]) {
    await assert.rejects(
      fromCurl(cmd),
      (e: unknown) => e instanceof InputError && /expected a method after -X/.test(e.message),
    );
  }
});

test('commands the bash grammar would take seconds on are refused quickly, in one line', async () => {
  const t0 = performance.now();
  await assert.rejects(
    fromCurl(`curl https://example.test/ -H ${'\\\r'.repeat(5000)}x`),
    (e: unknown) => e instanceof InputError && /backslashes before a carriage return/.test(e.message),
  );
  await assert.rejects(
    fromCurl(`curl https://example.test/ --tls-max ${'.\\\\\\\r\\\n'.repeat(4000)}`),
    (e: unknown) => e instanceof InputError && !e.message.includes('\n'),
  );
  assert.ok(performance.now() - t0 < 5000, `took ${Math.round(performance.now() - t0)} ms`);
  // The parser is usable again after giving up.
  assert.equal((await fromCurl(`curl https://example.test/ok -H 'A: b'`)).url, 'https://example.test/ok');
});
