// check's reading of a curl command: every option honoured, accepted as
// changing nothing that is sent, or refused in one line that names it.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../errors.ts';
import { headerValue, headerValues } from '../model/exchange.ts';
import { curlForCheck, OPTIONS } from './curl-options.ts';
import { curlRequests } from './curl.ts';

const dir = mkdtempSync(join(tmpdir(), 'why403-curlopts-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, content: string) => {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
};

const check = (...args: string[]) => curlForCheck(['curl', ...args]);

async function refuses(args: string[] | string, pattern: RegExp): Promise<void> {
  await assert.rejects(
    curlForCheck(typeof args === 'string' ? args : ['curl', ...args]),
    (e: unknown) => {
      assert.ok(e instanceof InputError, `expected an InputError, got ${e}`);
      assert.equal(e.exitCode, 2);
      assert.doesNotMatch(e.message, /\n/, 'one line');
      assert.match(e.message, pattern);
      return true;
    },
    `${JSON.stringify(args)} should be refused`,
  );
}

test('options that cannot be honoured are refused, by name, in one line', async () => {
  const cases: [string[], RegExp][] = [
    [
      ['--ntlm', '-u', 'a:b'],
      /^curl command: --ntlm is not supported by check \(NTLM authentication\); run without it or use curl -v and why403 explain$/,
    ],
    [['--digest', '-u', 'a:b'], /--digest is not supported by check \(Digest/],
    [['--negotiate', '-u', ':'], /--negotiate is not supported/],
    [['--anyauth', '-u', 'a:b'], /--anyauth is not supported/],
    [
      ['--aws-sigv4', 'aws:amz:us-east-1:s3', '-u', 'a:b'],
      /--aws-sigv4 is not supported by check \(AWS Signature Version 4/,
    ],
    [['--socks5', '127.0.0.1:1080'], /--socks5 is not supported by check \(SOCKS proxies\)/],
    [['--socks5-hostname', '127.0.0.1:1080'], /--socks5-hostname is not supported/],
    [['-x', 'socks5h://127.0.0.1:1080'], /-x socks5h:\/\/… is not supported by check \(SOCKS proxies\)/],
    [
      ['--proxy', 'https://127.0.0.1:3129'],
      /--proxy https:\/\/… is not supported by check \(TLS to an https:\/\/ proxy\)/,
    ],
    [['--proxy-insecure', '-x', 'http://127.0.0.1:3128'], /--proxy-insecure is not supported/],
    [['--proxy-ntlm', '-x', 'http://127.0.0.1:3128'], /--proxy-ntlm is not supported/],
    [['--preproxy', 'http://127.0.0.1:1'], /--preproxy is not supported/],
    [
      ['--haproxy-clientip', '10.0.0.1'],
      /--haproxy-clientip is not supported by check \(.*never forges a source address\)/,
    ],
    [['--http1.0'], /--http1\.0 is not supported by check \(HTTP\/1\.0\)/],
    [['-0'], /-0 is not supported by check \(HTTP\/1\.0\)/],
    [['--http3'], /--http3 is not supported by check \(HTTP\/3\)/],
    [['--http2-prior-knowledge'], /--http2-prior-knowledge is not supported/],
    [['--http2'], /--http2 with an http:\/\/ URL is not supported/],
    [['-F', 'a=b'], /-F is not supported by check \(multipart form bodies\)/],
    [['-T', '/etc/hostname'], /-T is not supported by check \(uploading a file\)/],
    [['-c', join(dir, 'jar.txt')], /-c is not supported by check \(writing a cookie jar\)/],
    [['--location-trusted'], /--location-trusted is not supported/],
    [['-L', '--post301'], /--post301 is not supported/],
    [['--netrc'], /--netrc is not supported/],
    [['-K', '/dev/null'], /-K is not supported by check \(options read from a config file\)/],
    [['--path-as-is'], /--path-as-is is not supported/],
    [['--local-port', '4000'], /--local-port is not supported/],
    [['--dns-servers', '127.0.0.1'], /--dns-servers is not supported/],
    [['--doh-url', 'https://127.0.0.1/dns'], /--doh-url is not supported/],
    [['--ca-native'], /--ca-native is not supported/],
    [['--crlf'], /--crlf is not supported by check; run without it/],
    [['--ftp-pasv'], /--ftp-pasv is not supported by check; run without it/],
    [['-u', 'alice'], /-u without a password is not supported by check \(curl would ask for it\)/],
    [['-x', 'http://127.0.0.1:3128', '-U', 'bob'], /-U without a password is not supported/],
    [['-d', '@-'], /^curl command: -d @- is not supported by check \(reading standard input\)/],
    [['--cert-type', 'DER', '--cert', '/dev/null'], /--cert-type DER is not supported/],
    [['--interface', 'host!example.com'], /--interface host!example\.com is not supported/],
    [
      ['-L', '--max-redirs', '500'],
      /--max-redirs 500 is not supported by check \(check follows at most 50 redirects\)/,
    ],
    [['-z', join(dir, 'no-such-file')], /-z with a file is not supported/],
    [['-H', '@/etc/hostname'], /-H @FILE \(headers read from a file\) is not supported/],
  ];
  for (const [args, pattern] of cases) await refuses([...args, 'http://127.0.0.1:9/x'], pattern);
});

test('a mistyped option, a prototype-named option, an unknown short letter: "option X: is unknown", not a TypeError', async () => {
  await refuses(['--hëader', 'X: y', 'http://127.0.0.1/'], /option --hëader: is unknown/);
  await refuses(['-ë', 'http://127.0.0.1/'], /option -ë: is unknown/);
  await refuses(['-së', 'http://127.0.0.1/'], /option -ë: is unknown/);
  await refuses(['-9', 'http://127.0.0.1/'], /option -9: is unknown/);
  await refuses(['--constructor', 'http://127.0.0.1/'], /option --constructor: is unknown/);
  await refuses(['--__proto__', 'http://127.0.0.1/'], /option --__proto__: is unknown/);
  await refuses(['--toString', 'http://127.0.0.1/'], /option --toString: is unknown/);
  await refuses("curl --hëader 'X: y' http://127.0.0.1/", /option --hëader: is unknown/);
  await refuses("curl -ë 'http://127.0.0.1/'", /option -ë: is unknown/);
  // The importer that explain uses reads them the same way.
  await assert.rejects(curlRequests("curl -ë 'http://127.0.0.1/'"), /option -ë: is unknown/);
});

test('headers named constructor and __proto__ are headers like any other', async () => {
  for (const name of ['constructor', '__proto__', 'Constructor', '__PROTO__']) {
    const { request } = await check(
      '-H',
      `${name}: x`,
      '-H',
      'Accept: */*',
      'http://127.0.0.1/constructor?__proto__=1',
    );
    assert.deepEqual(
      request.headers.map((h) => [h.name, h.value]),
      [
        [name, 'x'],
        ['Accept', '*/*'],
      ],
    );
    assert.equal(request.url, 'http://127.0.0.1/constructor?__proto__=1');
    const [lenient] = await curlRequests(`curl -H '${name}: x' http://127.0.0.1/`);
    assert.equal(headerValue(lenient!.headers, name), 'x');
  }
  const { request } = await check('-H', 'constructor: a', '-d', 'constructor=1&__proto__=2', 'http://127.0.0.1/');
  assert.equal(request.postData?.text, 'constructor=1&__proto__=2');
});

test('options that change nothing in the request are accepted', async () => {
  const { request, route } = await check(
    '-s',
    '-S',
    '-v',
    '-o',
    '/dev/null',
    '-w',
    '%{http_code}',
    '--retry',
    '3',
    '--connect-timeout',
    '5',
    '-i',
    '--fail',
    'http://127.0.0.1:9/x',
  );
  assert.equal(request.method, 'GET');
  assert.deepEqual(request.headers, []);
  assert.equal(route.describe, undefined);
});

test('every option in the table has a decision, and refusals read as reasons', () => {
  for (const [name, rule] of OPTIONS) {
    assert.ok(name && rule, name);
    if (rule !== 'send' && rule !== 'none') assert.doesNotMatch(rule, /[.;]$/, `${name}: a reason, not a sentence`);
  }
  for (const name of [
    'proxy',
    'insecure',
    'user',
    'resolve',
    'connect-to',
    'cacert',
    'capath',
    'cert',
    'key',
    'http2',
    'http1.1',
    'cookie',
    'location',
    'max-redirs',
    'compressed',
    'get',
    'data-urlencode',
    'user-agent',
    'referer',
    'range',
    'oauth2-bearer',
    'unix-socket',
    'interface',
    'ipv4',
    'ipv6',
    'noproxy',
    'proxy-user',
  ])
    assert.equal(OPTIONS.get(name), 'send', name);
  for (const name of [
    'digest',
    'ntlm',
    'negotiate',
    'aws-sigv4',
    'socks5',
    'http3',
    'http1.0',
    'form',
    'cookie-jar',
    'haproxy-clientip',
  ])
    assert.ok(!['send', 'none', undefined].includes(OPTIONS.get(name)), name);
});

test('-u sends Basic auth; its password is a secret', async () => {
  const { request, secrets } = await check('-u', 'alice:pa:ss', 'http://127.0.0.1/');
  assert.equal(headerValue(request.headers, 'authorization'), `Basic ${Buffer.from('alice:pa:ss').toString('base64')}`);
  assert.deepEqual(secrets, ['pa:ss']);
  const bearer = await check('--oauth2-bearer', 'tok123', 'http://127.0.0.1/');
  assert.equal(headerValue(bearer.request.headers, 'authorization'), 'Bearer tok123');
});

test('-A, -e, -r, -z, --compressed and --json become the headers curl sends', async () => {
  const { request, route } = await check(
    '-A',
    'agent/1',
    '-e',
    'http://ref/;auto',
    '-r',
    '0-99',
    '-z',
    'Tue, 01 Jan 2030 00:00:00 GMT',
    '--compressed',
    'http://127.0.0.1/',
  );
  assert.equal(headerValue(request.headers, 'user-agent'), 'agent/1');
  assert.equal(headerValue(request.headers, 'referer'), 'http://ref/');
  assert.equal(headerValue(request.headers, 'range'), 'bytes=0-99');
  assert.equal(headerValue(request.headers, 'if-modified-since'), 'Tue, 01 Jan 2030 00:00:00 GMT');
  assert.equal(headerValue(request.headers, 'accept-encoding'), 'deflate, gzip, br, zstd');
  assert.equal(route.autoReferer, true);
  const own = await check('--compressed', '-H', 'Accept-Encoding: gzip', 'http://127.0.0.1/');
  assert.deepEqual(
    headerValues(own.request.headers, 'accept-encoding'),
    ['gzip'],
    'your own Accept-Encoding wins, as in curl',
  );
  const json = await check('--json', '{"a":1}', 'http://127.0.0.1/');
  assert.equal(json.request.method, 'POST');
  assert.equal(json.request.postData?.text, '{"a":1}');
  assert.equal(headerValue(json.request.headers, 'content-type'), 'application/json');
});

test('-d @FILE, --data-binary @FILE, --data-urlencode NAME@FILE, -G: the files are read as curl reads them', async () => {
  const f = file('body.txt', 'a=1\r\nb=2\n');
  const d = await check('-d', `@${f}`, '-d', 'c=3', 'http://127.0.0.1/');
  assert.equal(d.request.postData?.text, 'a=1b=2&c=3', '-d strips line breaks');
  const bin = await check('--data-binary', `@${f}`, 'http://127.0.0.1/');
  assert.equal(bin.request.postData?.text, 'a=1\r\nb=2\n');
  const enc = await check('--data-urlencode', `q@${file('q.txt', "it's a b&c")}`, 'http://127.0.0.1/');
  assert.equal(enc.request.postData?.text, 'q=it%27s+a+b%26c');
  const get = await check('-G', '-d', 'x=1', '-d', `@${file('g.txt', 'y=2')}`, 'http://127.0.0.1/p?z=0');
  assert.equal(get.request.method, 'GET');
  assert.equal(get.request.url, 'http://127.0.0.1/p?z=0&x=1&y=2');
  assert.equal(get.request.postData, undefined);
  await refuses(['-d', `@${join(dir, 'missing.txt')}`, 'http://127.0.0.1/'], /-d @.*missing\.txt: no such file$/);
});

test('-b FILE reads a Netscape cookie file: the cookies for the URL, and the engine for redirects', async () => {
  const jar = file(
    'cookies.txt',
    [
      '# Netscape HTTP Cookie File',
      '127.0.0.1\tFALSE\t/\tFALSE\t0\tsession\ts1',
      '127.0.0.1\tFALSE\t/api\tFALSE\t4102444800\tdeep\td1',
      '127.0.0.1\tFALSE\t/other\tFALSE\t4102444800\tnot-here\tx',
      '#HttpOnly_127.0.0.1\tFALSE\t/\tTRUE\t4102444800\tsecure\tsec',
      '127.0.0.1\tFALSE\t/\tFALSE\t1000\texpired\told',
      '.example.com\tTRUE\t/\tFALSE\t4102444800\telsewhere\te',
      '',
    ].join('\n'),
  );
  const { request, route, secrets } = await check('-b', jar, '-b', 'mine=m', 'http://127.0.0.1/api/x');
  assert.equal(
    headerValue(request.headers, 'cookie'),
    'deep=d1; session=s1; secure=sec; mine=m',
    'engine cookies first (longest path first), then -b NAME=VALUE; secure ones go to localhost',
  );
  assert.equal(route.cookieJar?.length, 6);
  assert.ok(secrets.includes('d1'));
  const junk = await check('-j', '-b', jar, 'http://127.0.0.1/api/x');
  assert.equal(headerValue(junk.request.headers, 'cookie'), 'deep=d1; secure=sec', '-j drops session cookies');
  const withHeader = await check('-H', 'Cookie: own=1', '-b', jar, 'http://127.0.0.1/');
  assert.deepEqual(
    headerValues(withHeader.request.headers, 'cookie'),
    ['session=s1; secure=sec', 'own=1'],
    'with a Cookie header of your own, the file cookies go on a line of their own, as curl sends them',
  );
  await refuses(
    ['-b', file('bad.txt', 'this is not a cookie file\n'), 'http://127.0.0.1/'],
    /-b .*bad\.txt: line 1 is not a Netscape cookie file line/,
  );
  await refuses(
    ['-b', join(dir, 'missing-cookies.txt'), 'http://127.0.0.1/'],
    /-b .*missing-cookies\.txt: no such file/,
  );
});

test('-x, -U, --noproxy, -p, --proxy-header: the route; the password appears nowhere but the route', async () => {
  const { route, secrets } = await check(
    '-x',
    'alice:proxy-secret-1@127.0.0.1:3128',
    '-U',
    'bob:pw2',
    '--noproxy',
    'internal.example',
    '-p',
    '--proxy-header',
    'X-Proxy: 1',
    'http://127.0.0.1/',
  );
  assert.equal(route.proxy, 'alice:proxy-secret-1@127.0.0.1:3128');
  assert.deepEqual(route.proxyUser, { user: 'bob', password: 'pw2' });
  assert.equal(route.noProxy, 'internal.example');
  assert.equal(route.proxyTunnel, true);
  assert.deepEqual(route.proxyHeaders, [{ name: 'X-Proxy', value: '1' }]);
  assert.deepEqual(secrets.sort(), ['proxy-secret-1', 'pw2'].sort());
  const shown = route.describe!.join('\n');
  assert.ok(!shown.includes('proxy-secret-1') && !shown.includes('pw2'), shown);
  assert.match(shown, /through the proxy http:\/\/alice:…\(14 chars\)@127\.0\.0\.1:3128 \(-x\)/);
  await refuses(
    ['-x', 'u:secretpass@h:99999', 'http://127.0.0.1/'],
    /^(?!.*secretpass).*-x: "http:\/\/u:…\(10 chars\)@h:99999" is not a proxy address/,
  );
  const off = await check('-x', '', 'http://127.0.0.1/');
  assert.equal(off.route.proxy, '');
  const port = await check('--proxy', '127.0.0.1', 'http://127.0.0.1/');
  assert.match(port.route.describe![0]!, /http:\/\/127\.0\.0\.1:1080/, 'curl assumes port 1080');
});

test('--resolve and --connect-to are parsed as curl reads them; a bad one is refused', async () => {
  const { route } = await check(
    '--resolve',
    'api.test:443:127.0.0.1',
    '--resolve',
    '+v6.test:80:[::1],127.0.0.1',
    '--resolve',
    '-gone.test:80',
    '--connect-to',
    'a.test:443:b.test:8443',
    '--connect-to',
    '::[::1]:',
    'https://api.test/',
  );
  assert.deepEqual(
    route.resolve?.map((e) => [e.host, e.port, e.addresses]),
    [
      ['api.test', 443, ['127.0.0.1']],
      ['v6.test', 80, ['::1', '127.0.0.1']],
    ],
  );
  assert.deepEqual(
    route.connectTo?.map((e) => [e.host, e.port, e.toHost, e.toPort]),
    [
      ['a.test', 443, 'b.test', 8443],
      ['', '', '::1', ''],
    ],
  );
  await refuses(
    ['--resolve', 'api.test:443', 'http://127.0.0.1/'],
    /--resolve api\.test:443: expected HOST:PORT:ADDRESS/,
  );
  await refuses(['--resolve', 'api.test:443:not-an-ip', 'http://127.0.0.1/'], /--resolve .*expected HOST:PORT:ADDRESS/);
  await refuses(['--connect-to', 'a:b', 'http://127.0.0.1/'], /--connect-to a:b: expected HOST1:PORT1:HOST2:PORT2/);
});

test('TLS options: -k, --cacert, --cert/--key/--pass, --tlsv1.2, --tls-max; missing files are named', async () => {
  const pem = file('ca.pem', '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
  const { route, insecure, secrets } = await check(
    '-k',
    '--cacert',
    pem,
    '--cert',
    `${pem}:certpass`,
    '--key',
    pem,
    '--tlsv1.2',
    '--tls-max',
    '1.3',
    '--ciphers',
    'ECDHE-RSA-AES128-GCM-SHA256',
    'https://127.0.0.1/',
  );
  assert.equal(insecure, true);
  assert.equal(route.tls?.ca?.length, 1);
  assert.equal(route.tls?.passphrase, 'certpass');
  assert.equal(route.tls?.minVersion, 'TLSv1.2');
  assert.equal(route.tls?.maxVersion, 'TLSv1.3');
  assert.equal(route.tls?.ciphers, 'ECDHE-RSA-AES128-GCM-SHA256');
  assert.ok(secrets.includes('certpass'));
  assert.ok(!route.describe!.join(' ').includes('certpass'));
  const capath = await check('--capath', dir, 'https://127.0.0.1/');
  assert.ok(capath.route.tls!.ca!.length >= 1);
  await refuses(['--cacert', join(dir, 'nope.pem'), 'https://127.0.0.1/'], /--cacert .*nope\.pem: no such file/);
  await refuses(['--cacert', file('empty.pem', 'nothing'), 'https://127.0.0.1/'], /holds no PEM certificate/);
});

test('-L follows (50 by default, or --max-redirs); -m sets the time limit; --http2 over https; -4/-6; --unix-socket; --interface', async () => {
  assert.equal((await check('http://127.0.0.1/')).maxRedirects, undefined, 'curl does not follow without -L');
  const l = await check('-L', 'http://127.0.0.1/');
  assert.equal(l.maxRedirects, 50);
  assert.equal(l.route.curlRedirects, true);
  assert.equal((await check('-L', '--max-redirs', '2', 'http://127.0.0.1/')).maxRedirects, 2);
  assert.equal((await check('-m', '2.5', 'http://127.0.0.1/')).timeoutMs, 2500);
  assert.equal((await check('--http2', 'https://127.0.0.1/')).route.http2, true);
  assert.equal((await check('--http1.1', 'https://127.0.0.1/')).route.http2, undefined);
  assert.equal((await check('-4', 'http://127.0.0.1/')).route.family, 4);
  assert.equal((await check('-6', 'http://[::1]/')).route.family, 6);
  assert.deepEqual((await check('--unix-socket', '/run/x.sock', 'http://localhost/')).route.unixSocket, {
    path: '/run/x.sock',
    abstract: false,
  });
  assert.deepEqual((await check('--abstract-unix-socket', 'x', 'http://localhost/')).route.unixSocket, {
    path: 'x',
    abstract: true,
  });
  assert.equal((await check('--interface', 'lo', 'http://127.0.0.1/')).route.interface, 'lo');
});

test('a bash copy with shell variables, a URL glob, and several requests are refused', async () => {
  await refuses(
    'curl "https://127.0.0.1/x" -H "Authorization: Bearer $TOKEN"',
    /shell variable or \$\(…\).*why403 check -- curl/,
  );
  await refuses(['http://127.0.0.1/item[1-3]'], /\[ \] or \{ \}.*-g \(--globoff\)/);
  const globoff = await check('-g', 'http://127.0.0.1/item[1-3]');
  assert.equal(globoff.request.url, 'http://127.0.0.1/item[1-3]');
  await refuses(['http://127.0.0.1/a', '--next', 'http://127.0.0.1/b'], /expected one curl request, found 2/);
});

test('a proxy password with a malformed %-escape is kept as written (and redacted), not a URIError', async () => {
  const c = await curlForCheck(['curl', '-x', 'http://u:%zz@127.0.0.1:3128', 'https://example.test/']);
  assert.ok(c.secrets.includes('%zz'));
});
