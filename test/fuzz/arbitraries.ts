// fast-check arbitraries for the fuzz properties: random text, and inputs that
// are structured but wrong (HAR-like objects with the wrong types, raw HTTP
// with random header and status lines, curl commands assembled from random
// options and quoting, JWT-like tokens with random segments, exchanges with
// random statuses, headers and bodies).
import fc from 'fast-check';
import type { Exchange, NameValue } from '../../src/model/exchange.ts';

// ---- pieces ------------------------------------------------------------------

/**
 * A short pattern repeated thousands of times, then one odd character: the
 * inputs that make a backtracking regular expression take seconds.
 */
export const longRun: fc.Arbitrary<string> = fc
  .tuple(
    fc.string({
      unit: fc.constantFrom(
        ' ',
        '\t',
        'a',
        '=',
        ',',
        '"',
        '\\',
        '<',
        '-',
        '0',
        ':',
        ';',
        '.',
        '/',
        '%',
        'A',
        '\n',
        '\r\n',
      ),
      minLength: 1,
      maxLength: 3,
    }),
    fc.integer({ min: 1_000, max: 20_000 }),
    fc.string({ maxLength: 2 }),
    fc.constantFrom('', 'Bearer ', 'https://a.test/', '<html><title>', '{"error":"', 'HTTP/1.1 403 '),
  )
  .map(([unit, n, tail, head]) => head + unit.repeat(Math.ceil(n / unit.length)) + tail);

/** Text of every kind: ASCII, any code unit (lone surrogates too), whole code points; now and then a long run. */
export const anyText = (maxLength = 60): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 1, arbitrary: longRun },
    { weight: 6, arbitrary: fc.string({ maxLength }) },
    { weight: 6, arbitrary: fc.string({ unit: 'binary', maxLength }) },
    { weight: 6, arbitrary: fc.string({ unit: 'grapheme', maxLength }) },
    {
      weight: 6,
      arbitrary: fc.string({
        unit: fc.constantFrom(
          '\r',
          '\n',
          '\t',
          ' ',
          ':',
          ';',
          ',',
          '=',
          '"',
          "'",
          '\\',
          '^',
          '%',
          '$',
          '`',
          '&',
          '|',
          '<',
          '>',
          '{',
          '}',
          '[',
          ']',
          '\u0000',
          '\uFEFF',
          '\u202e',
          'é',
          '😀',
        ),
        maxLength,
      }),
    },
  );

/** Header names the engine and the credential inspectors look at, and random ones. */
export const HEADER_NAMES = [
  'Authorization',
  'authorization',
  'Proxy-Authorization',
  'Cookie',
  'Set-Cookie',
  'Host',
  'Content-Type',
  'content-type',
  'Content-Length',
  'Transfer-Encoding',
  'WWW-Authenticate',
  'www-authenticate',
  'Proxy-Authenticate',
  'Server',
  'Date',
  'Via',
  'X-Api-Key',
  'Api-Key',
  'X-Amz-Date',
  'X-Amz-Security-Token',
  'X-Amz-Content-Sha256',
  'x-amzn-ErrorType',
  'x-amz-request-id',
  'x-ms-date',
  'x-ms-version',
  'x-ms-error-code',
  'CF-RAY',
  'cf-mitigated',
  'X-Cache',
  'X-Served-By',
  'X-Request-Id',
  'X-CSRF-Token',
  'X-XSRF-TOKEN',
  'Origin',
  'Referer',
  'User-Agent',
  'Location',
  'Retry-After',
  'Access-Control-Allow-Origin',
  'X-Frame-Options',
  'X-GitHub-SSO',
  'X-Accepted-OAuth-Scopes',
  'X-OAuth-Scopes',
  'Docker-Distribution-Api-Version',
  'X-Kong-Response-Latency',
  'X-Envoy-Upstream-Service-Time',
  'x-goog-iam-authorization-token',
  'DPoP',
  'Expect',
  'constructor',
  '__proto__',
  'toString',
];

export const headerName: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...HEADER_NAMES) },
  { weight: 1, arbitrary: anyText(20) },
);

const base64url = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');
const b64json = (v: unknown) => Buffer.from(JSON.stringify(v) ?? 'null', 'utf8').toString('base64url');

/** Claims with the names inspection reads, of the right types and of wrong ones. */
const claims: fc.Arbitrary<Record<string, unknown>> = fc.record(
  {
    exp: fc.oneof(
      fc.integer({ min: -2, max: 4_102_444_800 }),
      fc.double(),
      fc.constant(1.8e12),
      fc.string(),
      fc.constant(null),
    ),
    nbf: fc.oneof(fc.integer({ min: 0, max: 4_102_444_800 }), fc.double(), fc.string()),
    iat: fc.oneof(fc.integer({ min: 0, max: 4_102_444_800 }), fc.double(), fc.jsonValue()),
    iss: fc.oneof(fc.webUrl(), fc.constant('https://kc.example.test/realms/demo'), fc.string(), fc.jsonValue()),
    aud: fc.oneof(fc.string(), fc.array(fc.jsonValue(), { maxLength: 3 }), fc.jsonValue()),
    sub: fc.oneof(fc.string(), fc.jsonValue()),
    scope: fc.oneof(fc.string(), fc.array(fc.string(), { maxLength: 3 }), fc.jsonValue()),
    scp: fc.oneof(fc.string(), fc.array(fc.string(), { maxLength: 3 })),
    roles: fc.oneof(fc.array(fc.string(), { maxLength: 3 }), fc.jsonValue()),
    groups: fc.jsonValue(),
    permissions: fc.jsonValue(),
    realm_access: fc.oneof(fc.record({ roles: fc.jsonValue() }), fc.jsonValue()),
    resource_access: fc.oneof(
      fc.dictionary(fc.string({ maxLength: 8 }), fc.oneof(fc.record({ roles: fc.jsonValue() }), fc.jsonValue()), {
        maxKeys: 3,
      }),
      fc.jsonValue(),
    ),
    tid: fc.jsonValue(),
    'cognito:groups': fc.jsonValue(),
  },
  { requiredKeys: [] },
);

const joseHeader: fc.Arbitrary<Record<string, unknown>> = fc.record(
  {
    alg: fc.oneof(fc.constantFrom('RS256', 'HS256', 'none', 'ES256', 'dir', 'RSA-OAEP'), fc.jsonValue()),
    typ: fc.oneof(fc.constant('JWT'), fc.jsonValue()),
    kid: fc.jsonValue(),
    enc: fc.constantFrom('A256GCM', 'A128CBC-HS256'),
  },
  { requiredKeys: [] },
);

/** Nesting depths: mostly shallow, sometimes past what recursion (JSON.stringify, a recursive walk) survives. */
const depth: fc.Arbitrary<number> = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: 1, max: 100 }) },
  { weight: 1, arbitrary: fc.integer({ min: 5_000, max: 20_000 }) },
);

/** JSON nested deeper than recursion goes (arrays, objects, or both), with a leaf inside. */
export const deepJson: fc.Arbitrary<string> = fc
  .tuple(depth, fc.constantFrom('[', '{"a":', '[{"b":'), fc.constantFrom('1', '"x"', 'null', '{}'))
  .map(([n, open, leaf]) => {
    const close = open === '[' ? ']' : open === '{"a":' ? '}' : '}]';
    return open.repeat(n) + leaf + close.repeat(n);
  });

/** JWT-like strings: "eyJ" headers with random claims, random base64 segments, wrong segment counts. */
export const jwtLike: fc.Arbitrary<string> = fc.oneof(
  fc
    .tuple(joseHeader, claims, fc.uint8Array({ maxLength: 40 }))
    .map(([h, c, s]) => `${b64json(h)}.${b64json(c)}.${base64url(s)}`),
  fc
    .tuple(joseHeader, fc.jsonValue(), fc.uint8Array({ maxLength: 40 }))
    .map(([h, c, s]) => `${b64json(h)}.${b64json(c)}.${base64url(s)}`),
  fc
    .array(fc.uint8Array({ maxLength: 30 }), { minLength: 1, maxLength: 6 })
    .map((segs) => `eyJ${segs.map(base64url).join('.')}`),
  fc
    .array(fc.oneof(fc.uint8Array({ maxLength: 30 }).map(base64url), fc.string({ maxLength: 12 })), {
      minLength: 2,
      maxLength: 5,
    })
    .map((s) => s.join('.')),
  fc
    .tuple(joseHeader, fc.array(fc.uint8Array({ maxLength: 24 }), { minLength: 4, maxLength: 4 }))
    .map(([h, segs]) => [b64json(h), ...segs.map(base64url)].join('.')),
  fc
    .tuple(deepJson, fc.constantFrom('{"scope":"a","x":$}', '{"resource_access":{"c":$},"exp":1}', '{"aud":$}', '$'))
    .map(
      ([deep, shape]) =>
        `${b64json({ alg: 'RS256' })}.${Buffer.from(shape.replace('$', deep)).toString('base64url')}.c2ln`,
    ),
);

/** Credentials as they appear in an Authorization header, a cookie or a query string. */
export const credentialValue: fc.Arbitrary<string> = fc.oneof(
  jwtLike,
  jwtLike.map((t) => `Bearer ${t}`),
  fc
    .tuple(
      fc.constantFrom(
        'Bearer',
        'bearer',
        'Basic',
        'Token',
        'JWT',
        'DPoP',
        'Digest',
        'Negotiate',
        'NTLM',
        'SharedKey',
        'AWS4-HMAC-SHA256',
        'Bogus',
        '',
      ),
      fc.constantFrom(' ', '  ', '\t', ':', ''),
      fc.oneof(
        jwtLike,
        fc.string({ maxLength: 40 }),
        fc.uint8Array({ maxLength: 30 }).map((b) => Buffer.from(b).toString('base64')),
      ),
    )
    .map(([s, sep, v]) => `${s}${sep}${v}`),
  fc
    .tuple(fc.string({ maxLength: 10 }), fc.string({ maxLength: 10 }))
    .map(([u, p]) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`),
  fc
    .tuple(
      fc.string({ maxLength: 20 }),
      fc.stringMatching(/^[0-9]{8}$/),
      fc.stringMatching(/^[a-f0-9]{0,64}$/),
      fc.string({ maxLength: 20 }),
    )
    .map(
      ([key, date, sig, headers]) =>
        `AWS4-HMAC-SHA256 Credential=${key}/${date}/us-east-1/s3/aws4_request, SignedHeaders=${headers}, Signature=${sig}`,
    ),
  anyText(80),
);

/** Query strings of pre-signed URLs and SAS tokens, with random values. */
export const signedQuery: fc.Arbitrary<string> = fc
  .array(
    fc.tuple(
      fc.constantFrom(
        'X-Amz-Algorithm',
        'X-Amz-Credential',
        'X-Amz-Date',
        'X-Amz-Expires',
        'X-Amz-Signature',
        'X-Amz-SignedHeaders',
        'X-Goog-Algorithm',
        'X-Goog-Credential',
        'X-Goog-Date',
        'X-Goog-Expires',
        'X-Goog-Signature',
        'sv',
        'se',
        'st',
        'sp',
        'sig',
        'spr',
        'sr',
        'skoid',
        'access_token',
        'api_key',
        'token',
        'Signature',
        'Expires',
        'AWSAccessKeyId',
        'code',
        'key',
      ),
      fc.oneof(
        fc.string({ maxLength: 30 }),
        fc.constantFrom(
          'AWS4-HMAC-SHA256',
          '20260601T120000Z',
          '2026-06-01T12:00:00Z',
          '604800',
          '-1',
          '99999999999999999999',
          'rwdl',
          'https',
          'b',
        ),
        jwtLike,
      ),
    ),
    { maxLength: 8 },
  )
  .map((kv) => kv.map(([k, v]) => `${k}=${encodeURIComponent(v).replace(/%3D/g, '=')}`).join('&'));

/** Absolute http(s) URLs: random ones, and signed ones of the clouds credential inspection knows. */
export const goodUrl: fc.Arbitrary<string> = fc.oneof(
  fc.webUrl({ withQueryParameters: true, withFragments: true }),
  fc
    .tuple(
      fc.constantFrom(
        'https://bucket.s3.amazonaws.com/key',
        'https://acct.blob.core.windows.net/c/b',
        'https://storage.googleapis.com/b/o',
        'http://[::1]:8080/a',
        'https://api.example.test/v1/items',
        'https://d111111abcdef8.cloudfront.net/x',
      ),
      signedQuery,
    )
    .map(([u, q]) => `${u}?${q}`),
);

/** URLs: well-formed, signed, odd, and any text. */
export const url: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: goodUrl },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.constantFrom('https://', 'http://', '', 'ftp://', 'HTTPS://', 'http:/', '//'), anyText(40))
      .map(([s, r]) => s + r),
  },
);

/** Header values: credentials for credential headers, any text otherwise. */
const headerValueFor = (name: string): fc.Arbitrary<string> => {
  const n = name.toLowerCase();
  if (n === 'authorization' || n === 'proxy-authorization') return credentialValue;
  if (n === 'cookie')
    return fc
      .array(
        fc.tuple(
          fc.constantFrom('session', 'sid', 'JSESSIONID', 'csrftoken', 'access_token', '__Host-id', ''),
          fc.oneof(jwtLike, fc.string({ maxLength: 20 })),
        ),
        { maxLength: 4 },
      )
      .map((c) => c.map(([k, v]) => `${k}=${v}`).join('; '));
  if (n === 'www-authenticate' || n === 'proxy-authenticate')
    return fc.oneof(
      fc.constantFrom(
        'Bearer realm="api", error="invalid_token", error_description="The access token expired"',
        'Bearer error="insufficient_scope", scope="read write"',
        'Basic realm="x", charset="UTF-8"',
        'Negotiate',
        'Digest realm="a", nonce="b", qop="auth"',
        'Bearer realm="x',
        'Bearer ,,,=="',
        'Bearer abc== , Basic',
      ),
      anyText(60),
    );
  if (n === 'date')
    return fc.oneof(
      fc.date({ noInvalidDate: true }).map((d) => d.toUTCString()),
      anyText(30),
    );
  if (n === 'content-type')
    return fc.oneof(
      fc.constantFrom(
        'application/json',
        'text/html; charset=utf-8',
        'application/xml',
        'text/xml',
        'text/plain',
        'application/problem+json',
        'application/x-www-form-urlencoded',
        '',
      ),
      anyText(30),
    );
  if (n === 'content-length') return fc.oneof(fc.nat().map(String), fc.string({ maxLength: 10 }));
  if (n === 'transfer-encoding') return fc.constantFrom('chunked', 'gzip, chunked', 'identity', '');
  if (n === 'server')
    return fc.oneof(
      fc.constantFrom(
        'nginx',
        'cloudflare',
        'AmazonS3',
        'Apache/2.4.58',
        'Microsoft-IIS/10.0',
        'envoy',
        'Varnish',
        'AkamaiGHost',
        'gunicorn',
        'Kestrel',
      ),
      anyText(20),
    );
  return anyText(60);
};

export const header: fc.Arbitrary<NameValue> = headerName.chain((name) =>
  headerValueFor(name).map((value) => ({ name, value })),
);
export const headers: fc.Arbitrary<NameValue[]> = fc.array(header, { maxLength: 8 });

/** Bodies: JSON, XML, HTML (denial pages look like these), and any text. */
export const body: fc.Arbitrary<string> = fc.oneof(
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc
    .record(
      {
        error: fc.jsonValue(),
        message: fc.string(),
        code: fc.oneof(fc.string(), fc.integer()),
        errors: fc.array(fc.jsonValue(), { maxLength: 2 }),
      },
      { requiredKeys: [] },
    )
    .map((v) => JSON.stringify(v)),
  fc
    .tuple(
      fc.constantFrom(
        'AccessDenied',
        'SignatureDoesNotMatch',
        'AuthorizationPermissionMismatch',
        'ExpiredToken',
        'RequestTimeTooSkewed',
        'x',
      ),
      anyText(30),
    )
    .map(
      ([code, msg]) =>
        `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${msg}</Message></Error>`,
    ),
  fc
    .tuple(anyText(30), anyText(30))
    .map(([t, h]) => `<html><head><title>${t}</title></head><body><h1>${h}</h1><center>nginx</center></body></html>`),
  deepJson,
  fc
    .tuple(depth, fc.constantFrom('a', 'Error', 'x:y'))
    .map(([n, tag]) => `<${tag}>`.repeat(n) + 'AccessDenied' + `</${tag}>`.repeat(n)),
  fc.constantFrom(
    '<',
    '<a>',
    '<?xml',
    '{',
    '[',
    '<html><title>',
    '<h1><h1><h1>',
    'Access denied | example.test used Cloudflare to restrict access',
    'Request blocked. Incident ID: 123',
  ),
  anyText(200),
);

const statusCode: fc.Arbitrary<number> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(401, 403, 407) },
  { weight: 1, arbitrary: fc.integer({ min: 100, max: 999 }) },
);

/** Well-typed exchanges with random contents. */
export const exchange: fc.Arbitrary<Exchange> = fc
  .record(
    {
      request: fc.record(
        {
          method: fc.oneof(
            fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'HEAD', 'PATCH', 'get'),
            fc.string({ minLength: 1, maxLength: 10 }),
          ),
          url,
          headers,
          cookies: fc.array(
            fc.record({ name: fc.string({ maxLength: 12 }), value: fc.oneof(jwtLike, fc.string({ maxLength: 30 })) }),
            { maxLength: 3 },
          ),
          queryString: fc.array(
            fc.record({
              name: fc.constantFrom('access_token', 'api_key', 'sig', 'X-Amz-Signature', 'q'),
              value: fc.oneof(jwtLike, fc.string({ maxLength: 30 })),
            }),
            { maxLength: 3 },
          ),
          httpVersion: fc.constantFrom('HTTP/1.1', 'HTTP/2', 'h3', ''),
          postData: fc.record(
            {
              mimeType: fc.constantFrom('application/x-www-form-urlencoded', 'application/json', ''),
              text: fc.oneof(signedQuery, fc.string({ maxLength: 40 })),
            },
            { requiredKeys: ['mimeType'] },
          ),
        },
        { requiredKeys: ['method', 'url', 'headers'] },
      ),
      response: fc.record(
        {
          status: statusCode,
          statusText: fc.oneof(fc.constantFrom('Forbidden', 'Unauthorized', ''), anyText(20)),
          headers,
          content: fc.record(
            {
              size: fc.integer(),
              mimeType: fc.constantFrom('application/json', 'text/html', 'application/xml', ''),
              text: body,
              encoding: fc.constantFrom('base64', 'utf-8', ''),
            },
            { requiredKeys: [] },
          ),
          httpVersion: fc.constantFrom('HTTP/1.1', 'HTTP/2'),
        },
        { requiredKeys: ['status', 'statusText', 'headers', 'content'] },
      ),
      startedDateTime: fc.oneof(
        fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
        fc.string({ maxLength: 20 }),
      ),
      serverIPAddress: fc.constantFrom('203.0.113.7', '::1', 'nonsense'),
      notes: fc.array(fc.string({ maxLength: 20 }), { maxLength: 2 }),
      credentialsStripped: fc.boolean(),
      source: fc.record({
        kind: fc.constantFrom('har', 'raw', 'curl', 'json', 'live', 'fetch'),
        name: fc.string({ maxLength: 10 }),
      }),
    },
    { requiredKeys: ['response', 'source'] },
  )
  .map((e) => e as Exchange);

// ---- raw HTTP -------------------------------------------------------------------

const httpVersion = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('1.1', '1.0', '2', '3') },
  { weight: 1, arbitrary: fc.constantFrom('2.0', '9', 'x', '') },
);
const statusLine = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .tuple(httpVersion, statusCode, fc.constantFrom('Forbidden', 'Unauthorized', '', 'OK'))
      .map(([v, c, t]) => `HTTP/${v} ${c}${t ? ` ${t}` : ''}`),
  },
  fc
    .tuple(
      httpVersion,
      fc.oneof(statusCode.map(String), fc.constantFrom('100', '103', '000', '99', '1000', '40x')),
      fc.constantFrom(' ', '\t', '  '),
      anyText(20),
    )
    .map(([v, c, sp, t]) => `HTTP/${v}${sp}${c} ${t}`),
  statusCode.map((c) => `:status: ${c}`),
  anyText(20).map((t) => `HTTP/1.1 ${t}`),
);
const requestLine = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .tuple(fc.constantFrom('GET', 'POST', 'PUT', 'DELETE'), goodUrl, httpVersion)
      .map(([m, u, v]) => `${m} ${u.replace(/\s/g, '%20')} HTTP/${v}`),
  },
  {
    weight: 3,
    arbitrary: fc
      .tuple(fc.constantFrom('GET', 'POST'), fc.webPath(), httpVersion)
      .map(([m, p, v]) => `${m} ${p || '/'} HTTP/${v}`),
  },
  fc
    .tuple(
      fc.constantFrom('GET', 'POST', 'CONNECT', 'OPTIONS', 'get', 'X_Y-Z'),
      fc.oneof(
        fc.constantFrom('/', '/a?b=c', '*', 'example.test:443', 'https://example.test/x', 'http://[::1/'),
        anyText(20).map((t) => t.replace(/\s/g, '')),
      ),
      httpVersion,
    )
    .map(([m, t, v]) => `${m} ${t} HTTP/${v}`),
  fc.tuple(fc.constantFrom(':method', ':path', ':scheme', ':authority'), anyText(20)).map(([n, v]) => `${n}: ${v}`),
);
const rawHeaderLine = fc.oneof(
  {
    weight: 20,
    arbitrary: header.map((h) => `${h.name.replace(/[\s:]/g, '') || 'X'}: ${h.value.replace(/[\r\n]/g, ' ')}`),
  },
  { weight: 4, arbitrary: fc.webUrl().map((u) => `Host: ${new URL(u).host}`) },
  { weight: 1, arbitrary: anyText(40).map((t) => ` ${t}`) },
  { weight: 1, arbitrary: anyText(40) },
);
const rawBlock = (start: fc.Arbitrary<string>) =>
  fc
    .tuple(start, fc.array(rawHeaderLine, { maxLength: 6 }), fc.option(body, { nil: undefined }))
    .map(([s, hs, b]) => [s, ...hs, ...(b === undefined ? [] : ['', b])]);
const rawLine = fc.oneof(
  rawHeaderLine,
  statusLine,
  requestLine,
  fc.constantFrom(
    '',
    ' ',
    '* Connected to example.test (203.0.113.7) port 443',
    '* TLSv1.3 (IN)',
    '{ [5 bytes data]',
    '0',
    '5',
    'hello',
    '> ',
    '< ',
  ),
);

/** Raw HTTP as curl -v or Burp shows it, with random header and status lines, and text with random lines. */
export const rawHttp: fc.Arbitrary<string> = fc.oneof(
  // plain message pair (or one of them)
  {
    weight: 3,
    arbitrary: fc
      .tuple(
        fc.option(rawBlock(requestLine), { nil: undefined }),
        fc.option(rawBlock(statusLine), { nil: undefined }),
        fc.option(rawBlock(statusLine), { nil: undefined }),
        fc.constantFrom('\n', '\r\n'),
      )
      .map(([q, s1, s2, eol]) =>
        [...(q ?? []), ...(q ? [''] : []), ...(s1 ?? []), ...(s1 ? [''] : []), ...(s2 ?? [])].join(eol),
      ),
  },
  // curl -v
  {
    weight: 3,
    arbitrary: fc
      .tuple(
        fc.option(rawBlock(requestLine), { nil: undefined }),
        rawBlock(statusLine),
        fc.array(fc.constantFrom('* ', '> ', '< ', ''), { minLength: 1, maxLength: 4 }),
        fc.constantFrom('\n', '\r\n'),
      )
      .map(([q, s, prefixes, eol]) =>
        [
          ...(q ?? []).map((l, i) => (l ? `> ${l}` : prefixes[i % prefixes.length] + l)),
          ...s.map((l, i) => (i < s.length - 1 ? `< ${l}` : l)),
        ].join(eol),
      ),
  },
  // random lines
  fc.tuple(fc.array(rawLine, { maxLength: 12 }), fc.constantFrom('\n', '\r\n', '\r')).map(([ls, eol]) => ls.join(eol)),
  anyText(200),
);

// ---- JSON and HAR -----------------------------------------------------------------

/** A value that is often of the right type and sometimes any JSON value. */
const mostly = <T>(right: fc.Arbitrary<T>): fc.Arbitrary<unknown> =>
  fc.oneof({ weight: 12, arbitrary: right }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) });

const jsonNameValues = mostly(
  fc.oneof(
    fc.array(mostly(fc.record({ name: mostly(headerName), value: mostly(fc.string({ maxLength: 30 })) })), {
      maxLength: 4,
    }),
    fc.dictionary(headerName, mostly(fc.string({ maxLength: 30 })), { maxKeys: 4 }),
  ),
);

const jsonRequest = fc.record(
  {
    method: mostly(
      fc.oneof(
        { weight: 8, arbitrary: fc.constantFrom('GET', 'POST', 'get', 'PROPFIND') },
        { weight: 1, arbitrary: fc.constantFrom('', 'G E T', '1') },
      ),
    ),
    url: mostly(fc.oneof({ weight: 8, arbitrary: goodUrl }, { weight: 1, arbitrary: url })),
    headers: jsonNameValues,
    cookies: jsonNameValues,
    queryString: jsonNameValues,
    httpVersion: mostly(fc.constantFrom('HTTP/1.1', 'HTTP/2', 'http/2.0')),
    headersSize: mostly(fc.integer({ min: -1, max: 2000 })),
    bodySize: mostly(fc.integer({ min: -1, max: 2000 })),
    postData: mostly(
      fc.record(
        { mimeType: mostly(fc.string()), text: mostly(fc.string()), params: jsonNameValues },
        { requiredKeys: [] },
      ),
    ),
    body: fc.jsonValue({ maxDepth: 2 }),
  },
  { requiredKeys: [] },
);

const jsonResponse = fc.record(
  {
    status: mostly(
      fc.oneof(
        { weight: 8, arbitrary: fc.oneof(statusCode, statusCode.map(String)) },
        { weight: 1, arbitrary: fc.constantFrom(0, -1, 99, 1000, 403.5, 1e21, '４０３') },
      ),
    ),
    statusText: mostly(fc.string({ maxLength: 20 })),
    httpVersion: mostly(fc.constantFrom('HTTP/1.1', 'HTTP/2', 'http/2.0')),
    headers: jsonNameValues,
    cookies: jsonNameValues,
    headersSize: mostly(fc.integer({ min: -1, max: 2000 })),
    content: mostly(
      fc.record(
        {
          size: mostly(fc.integer()),
          mimeType: mostly(fc.string({ maxLength: 20 })),
          text: mostly(body),
          encoding: mostly(fc.constantFrom('base64', '')),
        },
        { requiredKeys: [] },
      ),
    ),
    body: mostly(body),
    redirectURL: mostly(url),
  },
  { requiredKeys: [] },
);

const jsonEntry = fc.record(
  {
    request: mostly(jsonRequest),
    response: mostly(jsonResponse),
    startedDateTime: mostly(fc.date({ noInvalidDate: true }).map((d) => d.toISOString())),
    serverIPAddress: mostly(fc.constantFrom('203.0.113.7', '')),
    time: fc.jsonValue({ maxDepth: 1 }),
  },
  { requiredKeys: [] },
);

/** {request, response} objects and lists of them with wrong types here and there, and any JSON value. */
export const jsonExchangeValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 8, arbitrary: jsonEntry },
  { weight: 1, arbitrary: fc.array(jsonEntry, { maxLength: 3 }) },
  { weight: 1, arbitrary: fc.jsonValue() },
  { weight: 1, arbitrary: fc.record({ log: fc.record({ entries: fc.array(jsonEntry, { maxLength: 2 }) }) }) },
);

/** JSON text: the values above serialised, then sometimes cut or spliced with random text. */
export const jsonExchangeText: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 1,
    arbitrary: fc
      .tuple(
        deepJson,
        fc.constantFrom(
          '{"response":{"status":403,"body":$}}',
          '{"response":{"status":401,"content":{"text":$}}}',
          '{"request":$,"response":{"status":403}}',
          '{"request":{"url":"https://a.test/","headers":[$]},"response":{"status":403}}',
          '{"request":{"url":"https://a.test/","body":$},"response":{"status":403,"headers":{"x":$}}}',
          '[$]',
          '$',
        ),
      )
      .map(([deep, shape]) => shape.replace(/\$/g, deep)),
  },
  { weight: 3, arbitrary: jsonExchangeValue.map((v) => JSON.stringify(v) ?? 'null') },
  {
    weight: 1,
    arbitrary: fc
      .tuple(
        jsonExchangeValue.map((v) => JSON.stringify(v) ?? ''),
        fc.nat(),
        anyText(10),
      )
      .map(([s, at, t]) => s.slice(0, at % (s.length + 1)) + t),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(
        fc.constantFrom('\uFEFF', ' ', '\n'),
        jsonExchangeValue.map((v) => JSON.stringify(v, null, 1) ?? ''),
      )
      .map(([p, s]) => p + s),
  },
  { weight: 1, arbitrary: fc.json() },
  { weight: 1, arbitrary: anyText(100) },
);

const harLog = fc.record(
  {
    version: mostly(fc.constant('1.2')),
    creator: mostly(
      fc.record(
        {
          name: mostly(
            fc.constantFrom('WebInspector', 'Firefox', 'Charles Proxy', 'Fiddler', 'HAR sanitizer', 'mitmproxy'),
          ),
          version: fc.string({ maxLength: 6 }),
        },
        { requiredKeys: [] },
      ),
    ),
    pages: fc.jsonValue({ maxDepth: 2 }),
    entries: mostly(fc.array(mostly(jsonEntry), { maxLength: 4 })),
  },
  { requiredKeys: [] },
);

/** HAR-like objects with wrong types, serialised; sometimes truncated, spliced or given as random bytes. */
export const harInput: fc.Arbitrary<string | Uint8Array> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ log: mostly(harLog) }, { requiredKeys: [] }).map((v) => JSON.stringify(v)) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(
        fc.record({ log: harLog }).map((v) => JSON.stringify(v, null, 2)),
        fc.nat(),
        anyText(8),
      )
      .map(([s, at, t]) => s.slice(0, at % (s.length + 1)) + t),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(
        fc.record({ log: harLog }).map((v) => JSON.stringify(v)),
        fc.nat(),
        fc.uint8Array({ maxLength: 8 }),
      )
      .map(([s, at, b]) => {
        const buf = Buffer.from(s);
        const i = at % (buf.length + 1);
        return new Uint8Array(Buffer.concat([buf.subarray(0, i), b, buf.subarray(i)]));
      }),
  },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }) },
  { weight: 1, arbitrary: fc.json().map((j) => `{"log":${j}}`) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(
        deepJson,
        fc.constantFrom(
          '{"log":{"entries":[{"request":{"url":"https://a.test/","x":$},"response":{"status":403,"content":{"text":"","y":$}}}]}}',
          '{"log":{"entries":[$]}}',
          '{"log":$}',
          '$',
        ),
      )
      .map(([deep, shape]) => shape.replace(/\$/g, deep)),
  },
  { weight: 1, arbitrary: anyText(100) },
);

// ---- curl ----------------------------------------------------------------------

/** Options curl has (with and without a value), options it lacks, and prototype names. */
export const CURL_OPTIONS_WITH_VALUE = [
  '-H',
  '--header',
  '-d',
  '--data',
  '--data-raw',
  '--data-binary',
  '--data-urlencode',
  '--json',
  '-X',
  '--request',
  '-u',
  '--user',
  '-b',
  '--cookie',
  '-A',
  '--user-agent',
  '-e',
  '--referer',
  '-F',
  '--form',
  '--url',
  '-x',
  '--proxy',
  '-U',
  '--proxy-user',
  '--oauth2-bearer',
  '-m',
  '--max-time',
  '--resolve',
  '--connect-to',
  '--max-redirs',
  '--cacert',
  '--capath',
  '--cert',
  '--key',
  '--tls-max',
  '--ciphers',
  '--noproxy',
  '--proxy-header',
  '--unix-socket',
  '--abstract-unix-socket',
  '--interface',
  '-o',
  '-w',
  '--url-query',
  '-r',
  '--range',
  '-z',
  '--aws-sigv4',
  '--cert-type',
  '-K',
  '--config',
];
export const CURL_FLAGS = [
  '-k',
  '--insecure',
  '-L',
  '--location',
  '-s',
  '-S',
  '-v',
  '-i',
  '-I',
  '--head',
  '-G',
  '--get',
  '--compressed',
  '--http1.1',
  '--http2',
  '--http3',
  '-g',
  '--globoff',
  '--digest',
  '--ntlm',
  '--negotiate',
  '--anyauth',
  '--basic',
  '-4',
  '-6',
  '--proxytunnel',
  '-sSLk',
  '-XPOST',
  '-Hx:y',
  '--next',
  '-:',
  '--path-as-is',
  '--no-alpn',
  '-f',
  '-N',
  '--no-buffer',
  '--',
  '-Q',
  '-j',
  '--constructor',
  '--__proto__',
  '-\u00e9',
  '-😀',
  '--toString',
  '-',
];

/** A word of a bash command, quoted one of the ways a shell reads. */
const bashWord = (w: fc.Arbitrary<string>): fc.Arbitrary<string> =>
  fc.tuple(w, fc.constantFrom('bare', 'single', 'double', 'dollar', 'broken')).map(([s, q]) => {
    switch (q) {
      case 'bare':
        return s.replace(/[\s'"\\$`;&|<>()]/g, (c) => `\\${c}`);
      case 'single':
        return `'${s.replace(/'/g, `'\\''`)}'`;
      case 'double':
        return `"${s.replace(/["\\$`]/g, (c) => `\\${c}`)}"`;
      case 'dollar':
        return `$'${s.replace(/[\\']/g, (c) => `\\${c}`).replace(/\n/g, '\\n')}'`;
      default:
        return s;
    }
  });

const curlValue: fc.Arbitrary<string> = fc.oneof(
  url,
  header.map((h) => `${h.name}: ${h.value}`),
  fc.constantFrom(
    'GET',
    'POST',
    'user:pass',
    'a=b&c=d',
    '@-',
    '@/dev/null',
    '@nonexistent-file',
    'file=@x',
    'name=value',
    '{"a":1}',
    '1',
    '0',
    '-1',
    'abc',
    '1.3',
    'example.test:443:203.0.113.7',
    '::',
    ':8080::',
    'http://u:p@proxy:3128',
    'socks5://p',
    '$HOME',
    '$(id)',
    '`id`',
    '${X}',
    '[1-3]',
    '{a,b}',
    '',
  ),
  fc
    .tuple(
      fc.constantFrom('http://', 'https://', 'socks5://', ''),
      anyText(8),
      anyText(8),
      fc.constantFrom('proxy.example.test:3128', '[::1]:8080', 'p', ''),
    )
    .map(([s, u, p, h]) => `${s}${u}:${p}@${h}`),
  anyText(40),
);

/** curl argvs assembled from random options and values ("curl" first). */
export const curlArgv: fc.Arbitrary<string[]> = fc
  .tuple(
    fc.oneof(
      { weight: 12, arbitrary: fc.constant('curl') },
      { weight: 1, arbitrary: fc.constantFrom('curl.exe', '/usr/bin/curl', 'CURL') },
    ),
    fc.oneof({ weight: 6, arbitrary: goodUrl.map((u) => [u]) }, { weight: 1, arbitrary: fc.constant([]) }),
    fc.array(
      fc.oneof(
        {
          weight: 6,
          arbitrary: fc.tuple(fc.constantFrom(...CURL_OPTIONS_WITH_VALUE), curlValue).map(([o, v]) => [o, v]),
        },
        { weight: 4, arbitrary: fc.constantFrom(...CURL_FLAGS).map((f) => [f]) },
        {
          weight: 1,
          arbitrary: fc.oneof(
            url.map((u) => [u]),
            anyText(20).map((t) => [t]),
          ),
        },
      ),
      { maxLength: 8 },
    ),
  )
  .chain(([c, u, parts]) =>
    fc.nat({ max: parts.length }).map((at) => [c, ...parts.slice(0, at).flat(), ...u, ...parts.slice(at).flat()]),
  );

/** curl commands in bash quoting (prompts, continuations, several commands, broken quotes, unicode). */
export const curlBash: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc
      .tuple(
        fc.constantFrom('', '$ ', '> ', '  '),
        curlArgv.chain((argv) =>
          fc.tuple(...argv.slice(1).map((a) => bashWord(fc.constant(a)))).map((ws) => [argv[0]!, ...ws]),
        ),
        fc.constantFrom(' ', ' \\\n  ', '\t', '  '),
      )
      .map(([p, ws, sep]) => p + ws.join(sep)),
  },
  {
    weight: 1,
    arbitrary: fc
      .array(
        curlArgv.map((a) => a.map((w, i) => (i ? `'${w.replace(/'/g, `'\\''`)}'` : w)).join(' ')),
        { minLength: 2, maxLength: 3 },
      )
      .chain((cmds) => fc.constantFrom(';\n', ' && ', '\n', ' | ', ' ; ').map((s) => cmds.join(s))),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.constantFrom('curl ', 'curl', 'curl -H ', "curl 'https://example.test/' "), anyText(80))
      .map(([a, b]) => a + b),
  },
);

/** curl commands in cmd.exe quoting: ^"…^", carets, continuations, &, |, redirections. */
export const curlCmd: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .tuple(curlArgv, fc.constantFrom(' ', ' ^\n  ', ' ^\r\n  '))
      .map(([argv, sep]) =>
        [
          argv[0],
          ...argv.slice(1).map((a) => `^"${a.replace(/[\^"&|<>%\\]/g, (c) => (c === '"' ? '\\^"' : `^${c}`))}^"`),
        ].join(sep),
      ),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(
        curlArgv,
        fc.array(fc.constantFrom('^', '"', '^"', '&', '|', '>', '<', '\\', '%', '\n', '\r\n', '^\n'), { maxLength: 5 }),
      )
      .map(([argv, junk]) => argv.map((a, i) => a + (junk[i % (junk.length || 1)] ?? '')).join(' ')),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.constantFrom('curl ^"', 'curl.exe ', 'curl ', 'Invoke-WebRequest '), anyText(80))
      .map(([a, b]) => a + b),
  },
);

// ---- tokens ---------------------------------------------------------------------

/** What `why403 token` is given: JWTs, header lines, Basic, URLs, query strings, any text. */
export const tokenInput: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: jwtLike },
  { weight: 2, arbitrary: credentialValue },
  {
    weight: 1,
    arbitrary: fc
      .tuple(
        fc.constantFrom('Authorization', 'Proxy-Authorization', 'Cookie', 'X-Api-Key', 'authorization', 'X-Whatever'),
        fc.constantFrom(': ', ':', ' : '),
        credentialValue,
      )
      .map(([n, s, v]) => n + s + v),
  },
  { weight: 1, arbitrary: url },
  { weight: 1, arbitrary: signedQuery },
  {
    weight: 1,
    arbitrary: fc
      .tuple(jwtLike, fc.nat(), fc.constantFrom(' ', '\n', '\t', '\u00a0', '\r\n'))
      .map(([t, at, ws]) => t.slice(0, at % (t.length + 1)) + ws + t.slice(at % (t.length + 1))),
  },
  { weight: 1, arbitrary: anyText(100) },
);

/** Any text for format detection: every format's inputs, and random text. */
export const anyInputText: fc.Arbitrary<string> = fc.oneof(
  rawHttp,
  jsonExchangeText,
  harInput.map((h) => (typeof h === 'string' ? h : Buffer.from(h).toString('utf8'))),
  curlBash,
  curlCmd,
  anyText(120),
);

/** Files as bytes: any input as UTF-8, UTF-16LE and UTF-16BE with a byte order mark, random bytes, binary magic. */
export const fileBytes: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 3, arbitrary: anyInputText.map((t) => new Uint8Array(Buffer.from(t, 'utf8'))) },
  {
    weight: 1,
    arbitrary: anyInputText.map(
      (t) => new Uint8Array(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(t, 'utf16le')])),
    ),
  },
  {
    weight: 1,
    arbitrary: anyInputText.map(
      (t) => new Uint8Array(Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(t, 'utf16le').swap16()])),
    ),
  },
  {
    weight: 1,
    arbitrary: anyInputText.map(
      (t) => new Uint8Array(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(t, 'utf8')])),
    ),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(
        fc.constantFrom('\x1f\x8b', 'PK\x03\x04', '\x89PNG', '%PDF-', 'SQLite format 3\x00', '\xff\xd8\xff', ''),
        fc.uint8Array({ maxLength: 100 }),
      )
      .map(([m, b]) => new Uint8Array(Buffer.concat([Buffer.from(m, 'latin1'), b]))),
  },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }) },
);
