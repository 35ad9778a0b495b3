import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cookiesFor, parseCookieFile, storeSetCookies, type StoredCookie } from './cookies.ts';

const NOW = Date.parse('2026-12-01T00:00:00Z');
const LATER = Math.floor(NOW / 1000) + 3600;
const EARLIER = Math.floor(NOW / 1000) - 3600;

function jarOf(text: string): StoredCookie[] {
  const parsed = parseCookieFile(text);
  assert.ok('cookies' in parsed, `not a cookie file: line ${'badLine' in parsed ? parsed.badLine : '?'}`);
  return parsed.cookies;
}

const names = (jar: StoredCookie[], url: string) =>
  cookiesFor(jar, new URL(url), NOW).map((c) => `${c.name}=${c.value}`);

test('a Netscape cookie file: comments, #HttpOnly_ lines, a leading dot, and the number of a line that is not a cookie', () => {
  const jar = jarOf(
    [
      '# Netscape HTTP Cookie File',
      '',
      `#HttpOnly_app.example.test\tFALSE\t/\tFALSE\t${LATER}\tsid\tabc`,
      `.example.test\tTRUE\t/\tTRUE\t0\tpref\tdark`,
    ].join('\n'),
  );
  assert.deepEqual(
    jar.map((c) => [c.domain, c.subdomains, c.secure, c.name]),
    [
      ['app.example.test', false, false, 'sid'],
      ['example.test', true, true, 'pref'],
    ],
  );
  assert.deepEqual(parseCookieFile('# comment\nnot a cookie line\n'), { badLine: 2 });
  assert.deepEqual(parseCookieFile(`x.test\tMAYBE\t/\tFALSE\t0\ta\tb`), { badLine: 1 });
});

test('the cookies for a URL: host-only or subdomains, path prefix, Secure, expiry, longest path first', () => {
  const jar = jarOf(
    [
      `app.example.test\tFALSE\t/\tFALSE\t${LATER}\thost\t1`,
      `example.test\tTRUE\t/\tFALSE\t0\tsite\t2`,
      `example.test\tTRUE\t/api\tFALSE\t0\tapi\t3`,
      `example.test\tTRUE\t/\tTRUE\t0\tsecure\t4`,
      `example.test\tTRUE\t/\tFALSE\t${EARLIER}\texpired\t5`,
    ].join('\n'),
  );
  assert.deepEqual(names(jar, 'http://app.example.test/api/v1'), ['api=3', 'host=1', 'site=2']);
  // curl's order: longest path, then longest domain, then longest name.
  assert.deepEqual(names(jar, 'https://app.example.test/apix'), ['host=1', 'secure=4', 'site=2']);
  assert.deepEqual(names(jar, 'http://other.example.test/'), ['site=2']);
  assert.deepEqual(names(jar, 'http://example.test.evil/'), []);
});

test('Set-Cookie from a followed redirect: kept for its host, replaced, deleted by Max-Age=0', () => {
  const jar: StoredCookie[] = [];
  const url = new URL('http://app.example.test/login/step');
  storeSetCookies(jar, url, ['a=1; Path=/', 'b=2; Domain=example.test', 'c=3; Max-Age=60'], NOW);
  // Without Path the default is the directory of the URL's path: /login.
  assert.deepEqual(names(jar, 'http://app.example.test/login/x'), ['c=3', 'b=2', 'a=1']);
  assert.deepEqual(names(jar, 'http://www.example.test/login/'), ['b=2']);
  storeSetCookies(jar, url, ['a=new; Path=/', 'c=; Max-Age=0'], NOW);
  assert.deepEqual(names(jar, 'http://app.example.test/login/x'), ['b=2', 'a=new']);
});

test('Set-Cookie for another site or for a top-level domain is refused, as curl refuses it', () => {
  const jar: StoredCookie[] = [];
  const url = new URL('http://a.example.test/');
  storeSetCookies(jar, url, ['other=1; Domain=elsewhere.test', 'tld=1; Domain=test', 'dot=1; Domain=.test'], NOW);
  assert.deepEqual(jar, []);
  storeSetCookies(jar, new URL('http://localhost:8080/'), ['local=1; Domain=localhost'], NOW);
  assert.deepEqual(names(jar, 'http://localhost:8080/'), ['local=1']);
});
