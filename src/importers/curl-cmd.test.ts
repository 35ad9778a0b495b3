import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InputError } from '../errors.ts';
import { headerValue } from '../model/exchange.ts';
import { fromCurl } from './curl.ts';
import { cmdUnescape, crtArgv, curlCmdRequests, fromCurlCmd, tokenizeCmd } from './curl-cmd.ts';
import { assertChromiumCopyAll, chromium } from './test-support.ts';

test('cmd.exe layer: carets escape the next character, quotes make carets literal', () => {
  const cases: [string, string][] = [
    ['a^&b', 'a&b'],
    ['^"x y^"', '"x y"'],
    ['^\\^"', '\\"'],
    ['^^', '^'],
    ['100^%^done', '100%done'],
    ['"a^b"', '"a^b"'], // inside cmd quotes a caret is an ordinary character
    ['a ^\n  b', 'a   b'], // continuation: the break goes, the next line's first character is literal
    ['^"line^\n\nnext^"', '"line\nnext"'], // ^ + two breaks: one break joins, the other is kept
    ['x\r\ny', 'x'], // first command only: the break ends it
  ];
  for (const [input, want] of cases) assert.equal(cmdUnescape(input)[0], want, JSON.stringify(input));
  assert.deepEqual(cmdUnescape('curl a &\r\ncurl b'), ['curl a ', 'curl b']);
  assert.deepEqual(cmdUnescape('curl a > out.txt'), ['curl a ']);
});

test('C runtime layer: argv splitting with quotes and backslashes', () => {
  const cases: [string, string[]][] = [
    ['a b\tc', ['a', 'b', 'c']],
    ['"a b" c', ['a b', 'c']],
    ['"a \\"q\\" b"', ['a "q" b']],
    ['a\\\\b', ['a\\\\b']], // backslashes not before a quote are literal
    ['"a\\\\" b', ['a\\', 'b']], // 2n backslashes + quote: n backslashes, quote closes
    ['"a\\\\\\"b"', ['a\\"b']], // 2n+1 backslashes + quote: n backslashes and a literal quote
    ['"say ""hi"""', ['say "hi"']], // "" inside quotes is a quote
    ['""', ['']],
    ['  x  ', ['x']],
  ];
  for (const [input, want] of cases) assert.deepEqual(crtArgv(input), want, JSON.stringify(input));
});

test("Chromium's Copy as cURL (cmd) reads as the same request as its bash copy", async () => {
  assert.match(chromium.cmd, /\^\\\^"/, 'the fixture exercises ^\\^"');
  assert.match(chromium.cmd, / \^\n/, 'the fixture exercises caret line continuations');
  const cmd = await fromCurlCmd(chromium.cmd);
  const bash = await fromCurl(chromium.bash);
  assert.equal(cmd.method, bash.method);
  assert.equal(cmd.url, bash.url);
  assert.deepEqual(cmd.headers, bash.headers);
  assert.deepEqual(cmd.cookies, bash.cookies);
  // Chromium's cmd quoting replaces every non-ASCII character with a space
  // (its escape function ends with .replace(/[^ -~\r\n]/g, " ")), so the body
  // matches the bash copy up to those characters.
  assert.equal(cmd.postData?.text, bash.postData!.text!.replace(/[^ -~\r\n]/g, ' '));
  assert.match(cmd.postData!.text!, /it's "quoted" & 100%done \^caret!\nsecond line/);
});

test('Copy all as cURL (cmd) gives every request', async () => {
  const all = await curlCmdRequests(chromium.cmdAll);
  assertChromiumCopyAll(all);
});

test('a hand-written cmd command with plain double quotes and curl.exe', async () => {
  const req = await fromCurlCmd(
    'curl.exe -X DELETE "https://api.example.com/items/1" -H "Authorization: Bearer abc" -b "s=1"',
  );
  assert.equal(req.method, 'DELETE');
  assert.equal(req.url, 'https://api.example.com/items/1');
  assert.equal(headerValue(req.headers, 'authorization'), 'Bearer abc');
  assert.deepEqual(req.cookies, [{ name: 's', value: '1' }]);
});

test("Chromium's Copy as PowerShell is refused with a clear line", () => {
  assert.match(chromium.powershell, /Invoke-WebRequest/);
  assert.throws(
    () => tokenizeCmd(chromium.powershell),
    (err: unknown) =>
      err instanceof InputError && /PowerShell .* not supported/.test(err.message) && !err.message.includes('\n'),
  );
});

test('a command that is not curl is refused', async () => {
  await assert.rejects(
    fromCurlCmd('wget ^"https://example.com^"'),
    (err: unknown) =>
      err instanceof InputError && /expected a curl command, found a command starting with "wget"/.test(err.message),
  );
  await assert.rejects(
    fromCurlCmd('  ^\n '),
    (err: unknown) => err instanceof InputError && /found none/.test(err.message),
  );
});
