// For the importers' tests: the Chromium "Copy as cURL" fixture, and the checks
// its requests and the importers' errors are held to.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { InputError } from '../errors.ts';

/** What Chromium's "Copy as cURL" gave for the same requests, bash and cmd, and what the server received. */
export const chromium = JSON.parse(
  readFileSync(new URL('./fixtures/curl/chromium-copy-as-curl.json', import.meta.url), 'utf8'),
);

/** Asserts that `all` are the two requests of Chromium's "Copy all as cURL", in order. */
export function assertChromiumCopyAll(all: { method: string; url: string }[]): void {
  assert.deepEqual(
    all.map((r) => [r.method, new URL(r.url).pathname]),
    [
      ['GET', '/'],
      ['POST', '/api/items'],
    ],
  );
}

/** Asserts that `read` throws an InputError about `name`: one line, matching `pattern`. */
export function throwsInputError(read: () => unknown, name: string, pattern: RegExp): void {
  assert.throws(read, (err: unknown) => {
    assert.ok(err instanceof InputError, String(err));
    assert.match(err.message, pattern);
    assert.ok(err.message.startsWith(`${name}: `), err.message);
    assert.doesNotMatch(err.message, /\n/);
    return true;
  });
}
