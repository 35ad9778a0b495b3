// Writes a browser-shaped HAR for the benchmark: entries laid out the way
// Chromium DevTools exports them (JSON.stringify(…, null, 2), the same keys,
// HTTP/2 pseudo-headers, sec-ch-ua with escaped quotes, cookies, timings,
// base64 images and escaped JSON/JS/HTML text bodies of varied sizes), about
// 4 KB per entry on average, ~3% of them denied with 401/403 bodies shaped
// like the ones real producers send. Output is a pure function of (entries,
// seed), so every run of the benchmark reads the same bytes.
//
//   node bench/generate-har.ts [--entries 100000] [--seed 403] [--out FILE]
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { dirname, join } from 'node:path';

export interface GeneratedHar {
  file: string;
  entries: number;
  denials: number;
  bytes: number;
  seed: number;
}

export function defaultHarPath(entries: number, seed: number): string {
  return join(import.meta.dirname, 'out', `browser-${entries}-seed${seed}.har`);
}

/** mulberry32: small, fast, good enough for test data. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export async function generateHar(opts: { entries: number; seed: number; file?: string }): Promise<GeneratedHar> {
  const { entries, seed } = opts;
  const file = opts.file ?? defaultHarPath(entries, seed);
  mkdirSync(dirname(file), { recursive: true });
  const rand = rng(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rand() * a.length)];
  const normal = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const logNormal = (median: number, sigma: number, max: number) =>
    Math.min(max, Math.round(median * Math.exp(sigma * normal())));
  const hex = (n: number) => {
    let s = '';
    for (let i = 0; i < n; i++) s += '0123456789abcdef'[Math.floor(rand() * 16)];
    return s;
  };
  const b64chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const token = (n: number) => {
    let s = '';
    for (let i = 0; i < n; i++) s += b64chars[Math.floor(rand() * 64)];
    return s;
  };

  // Pools sliced at random offsets: building every body byte by byte would make generation, not reading, the slow part.
  const binary = Buffer.alloc(4 << 20);
  for (let i = 0; i < binary.length; i++) binary[i] = Math.floor(rand() * 256);
  const words = [
    'id',
    'name',
    'status',
    'created_at',
    'updated_at',
    'owner',
    'items',
    'total',
    'price',
    'currency',
    'tags',
    'enabled',
    'url',
    'title',
    'description',
    'count',
    'next',
    'region',
    'plan',
    'role',
  ];
  const jsonPool = (() => {
    const items: unknown[] = [];
    for (let i = 0; i < 4000; i++) {
      const o: Record<string, unknown> = {};
      for (let k = int(3, 9); k > 0; k--) {
        const w = pick(words);
        o[w] = rand() < 0.4 ? int(0, 99999) : rand() < 0.2 ? rand() < 0.5 : `${pick(words)}-${token(int(4, 18))}`;
      }
      items.push(o);
    }
    return JSON.stringify(items);
  })();
  const jsPool = (() => {
    let s = '';
    for (let i = 0; i < 6000; i++)
      s += `function ${pick(words)}_${hex(4)}(e,t){var n=e.${pick(words)}||"${token(8)}";if(t&&t.${pick(words)}){return n+"/"+t.${pick(words)}}return window.__app["${pick(words)}"](n,${int(0, 999)})}\n`;
    return s;
  })();
  const htmlPool = (() => {
    let s =
      '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Dashboard</title><link rel="stylesheet" href="/static/app.css"></head><body>\n';
    for (let i = 0; i < 3000; i++)
      s += `<div class="row ${pick(words)}"><a href="/${pick(words)}/${int(1, 9999)}" data-id="${hex(8)}">${pick(words)} ${token(10)}</a><span>${int(0, 500)}</span></div>\n`;
    return s;
  })();
  const cssPool = (() => {
    let s = '';
    for (let i = 0; i < 5000; i++)
      s += `.${pick(words)}-${hex(3)}{margin:${int(0, 24)}px;color:#${hex(6)};display:${pick(['flex', 'block', 'grid', 'none'])}}\n`;
    return s;
  })();
  const slice = (pool: string, n: number) => {
    const start = int(0, Math.max(0, pool.length - n - 1));
    return pool.slice(start, start + n);
  };
  const jsonBody = (n: number) => {
    const start = jsonPool.indexOf('{', int(1, Math.max(1, jsonPool.length - n - 2)));
    let end = jsonPool.indexOf('},{', start + n);
    if (end < 0) end = jsonPool.length - 2;
    return `{"data":[${jsonPool.slice(start, end + 1)}],"next":${rand() < 0.5 ? int(2, 40) : 'null'}}`;
  };
  const base64Of = (n: number) => {
    const start = int(0, binary.length - n - 1);
    return binary.subarray(start, start + n).toString('base64');
  };

  const chromeUA =
    'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36';
  const secChUa = '"Chromium";v="156", "Not-A.Brand";v="24", "Google Chrome";v="156"';
  const site = 'https://app.example.com';
  const hosts = {
    document: ['app.example.com'],
    script: ['app.example.com', 'cdn.example.net', 'static.example.org'],
    stylesheet: ['app.example.com', 'cdn.example.net'],
    image: ['cdn.example.net', 'img.example.org', 'app.example.com'],
    font: ['fonts.example.net'],
    fetch: ['api.example.com', 'app.example.com'],
    xhr: ['api.example.com'],
  } as const;
  type Kind = keyof typeof hosts;
  const kinds: Array<[Kind, number]> = [
    ['document', 0.03],
    ['script', 0.12],
    ['stylesheet', 0.06],
    ['image', 0.27],
    ['font', 0.03],
    ['fetch', 0.3],
    ['xhr', 0.19],
  ];
  const pickKind = (): Kind => {
    let r = rand();
    for (const [k, p] of kinds) if ((r -= p) < 0) return k;
    return 'xhr';
  };
  const sessionCookie = `sid=${token(32)}`;
  const csrfCookie = `csrftoken=${token(32)}`;
  const jwt = () => `eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.${token(int(140, 260))}.${token(342)}`;

  // Denial responses shaped like what each producer sends.
  const denials: Array<
    () => { status: number; statusText: string; headers: [string, string][]; mimeType: string; text: string }
  > = [
    () => ({
      status: 403,
      statusText: 'Forbidden',
      headers: [
        ['server', 'nginx/1.22.1'],
        ['content-type', 'text/html'],
      ],
      mimeType: 'text/html',
      text: '<html>\r\n<head><title>403 Forbidden</title></head>\r\n<body>\r\n<center><h1>403 Forbidden</h1></center>\r\n<hr><center>nginx/1.22.1</center>\r\n</body>\r\n</html>\r\n',
    }),
    () => {
      const id = hex(16).toUpperCase();
      const host = token(76);
      return {
        status: 403,
        statusText: 'Forbidden',
        headers: [
          ['server', 'AmazonS3'],
          ['content-type', 'application/xml'],
          ['x-amz-request-id', id],
          ['x-amz-id-2', host],
        ],
        mimeType: 'application/xml',
        text: `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>Access Denied</Message><RequestId>${id}</RequestId><HostId>${host}</HostId></Error>`,
      };
    },
    () => ({
      status: 403,
      statusText: 'Forbidden',
      headers: [
        ['content-type', 'application/json'],
        ['x-amzn-requestid', `${hex(8)}-${hex(4)}-${hex(4)}-${hex(4)}-${hex(12)}`],
        ['x-amzn-errortype', 'ForbiddenException'],
        ['x-amz-apigw-id', token(16)],
      ],
      mimeType: 'application/json',
      text: '{"message":"Forbidden"}',
    }),
    () => ({
      status: 401,
      statusText: 'Unauthorized',
      headers: [
        ['content-type', 'application/json; charset=utf-8'],
        ['www-authenticate', 'Bearer realm="api", error="invalid_token", error_description="The access token expired"'],
      ],
      mimeType: 'application/json',
      text: JSON.stringify({ error: 'invalid_token', error_description: 'The access token expired' }),
    }),
    () => {
      const ray = `${hex(16)}-FRA`;
      return {
        status: 403,
        statusText: 'Forbidden',
        headers: [
          ['server', 'cloudflare'],
          ['cf-ray', ray],
          ['content-type', 'text/html; charset=UTF-8'],
        ],
        mimeType: 'text/html',
        text: `<!DOCTYPE html>\n<html lang="en-US"><head><title>Access denied | app.example.com used Cloudflare to restrict access</title></head><body><div id="cf-wrapper"><h1><span class="cf-error-type">Error</span> <span class="cf-error-code">1020</span></h1><h2 class="cf-subheadline">Access denied</h2><p>This website is using a security service to protect itself from online attacks.</p><p>The site owner may have set restrictions that prevent you from accessing the site.</p><span>Cloudflare Ray ID: <strong>${ray.slice(0, 16)}</strong></span></div></body></html>`,
      };
    },
    () => ({
      status: 403,
      statusText: 'Forbidden',
      headers: [
        ['server', 'github.com'],
        ['content-type', 'application/json; charset=utf-8'],
        ['x-github-request-id', `${hex(4).toUpperCase()}:${hex(6).toUpperCase()}:${hex(7).toUpperCase()}`],
        ['x-accepted-github-permissions', 'issues=write'],
      ],
      mimeType: 'application/json',
      text: JSON.stringify({
        message: 'Resource not accessible by integration',
        documentation_url: 'https://docs.github.com/rest/issues/issues#create-an-issue',
        status: '403',
      }),
    }),
    () => ({
      status: 403,
      statusText: 'Forbidden',
      headers: [
        ['server', 'Apache/2.4.62 (Debian)'],
        ['content-type', 'text/html; charset=iso-8859-1'],
      ],
      mimeType: 'text/html',
      text: '<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">\n<html><head>\n<title>403 Forbidden</title>\n</head><body>\n<h1>Forbidden</h1>\n<p>You don\'t have permission to access this resource.</p>\n<hr>\n<address>Apache/2.4.62 (Debian) Server at app.example.com Port 443</address>\n</body></html>\n',
    }),
    () => ({
      status: 403,
      statusText: 'Forbidden',
      headers: [
        ['x-powered-by', 'Express'],
        ['content-type', 'text/html; charset=utf-8'],
      ],
      mimeType: 'text/html',
      text: '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>Error</title>\n</head>\n<body>\n<pre>ForbiddenError: invalid csrf token</pre>\n</body>\n</html>\n',
    }),
    () => ({
      status: 401,
      statusText: 'Unauthorized',
      headers: [
        ['content-type', 'text/plain; charset=utf-8'],
        ['www-authenticate', 'Basic realm="Restricted"'],
      ],
      mimeType: 'text/plain',
      text: 'Unauthorized',
    }),
  ];

  const out = createWriteStream(file, { highWaterMark: 4 << 20 });
  let bytes = 0;
  let pending = '';
  const write = async (s: string) => {
    pending += s;
    if (pending.length < 1 << 20) return;
    const data = pending;
    pending = '';
    bytes += Buffer.byteLength(data);
    if (!out.write(data)) await once(out, 'drain');
  };

  const pages = Math.max(1, Math.ceil(entries / 400));
  const t0 = Date.UTC(2026, 2, 14, 9, 30, 0);
  let header =
    '{\n  "log": {\n    "version": "1.2",\n    "creator": {\n      "name": "WebInspector",\n      "version": "537.36"\n    },\n    "pages": [';
  for (let p = 0; p < pages; p++)
    header += `${p ? ',' : ''}\n      {\n        "startedDateTime": "${new Date(t0 + p * 60000).toISOString()}",\n        "id": "page_${p + 1}",\n        "title": "${site}/${pick(words)}/${p}",\n        "pageTimings": {\n          "onContentLoad": ${(200 + rand() * 800).toFixed(3)},\n          "onLoad": ${(400 + rand() * 1600).toFixed(3)}\n        }\n      }`;
  header += '\n    ],\n    "entries": [';
  await write(header);

  let denialCount = 0;
  for (let i = 0; i < entries; i++) {
    const page = Math.min(pages, Math.floor(i / 400) + 1);
    const denied = rand() < 0.03;
    const kind: Kind = denied ? pick(['fetch', 'xhr', 'document', 'image'] as const) : pickKind();
    const host = pick(hosts[kind]);
    const path =
      kind === 'image'
        ? `/img/${pick(words)}/${hex(12)}.${pick(['png', 'webp', 'jpg'])}`
        : kind === 'script'
          ? `/static/js/${pick(words)}.${hex(8)}.js`
          : kind === 'stylesheet'
            ? `/static/css/${pick(words)}.${hex(8)}.css`
            : kind === 'font'
              ? `/s/inter/v${int(10, 20)}/${token(12)}.woff2`
              : kind === 'document'
                ? `/${pick(words)}/${int(1, 9999)}`
                : `/api/v2/${pick(words)}/${int(1, 99999)}${rand() < 0.5 ? `?page=${int(1, 40)}&limit=${pick([20, 50, 100])}` : ''}`;
    const url = `https://${host}${path}`;
    const u = new URL(url);
    const post = (kind === 'fetch' || kind === 'xhr') && rand() < 0.25;
    const sameSite = host.endsWith('example.com');
    // Chromium lists HTTP/2 pseudo-headers; HTTP/1.1 hosts get Host and Connection instead.
    const h2 = host !== 'api.example.com' && host !== 'img.example.org';
    const reqHeaders: [string, string][] = h2
      ? [
          [':authority', host],
          [':method', post ? 'POST' : 'GET'],
          [':path', u.pathname + u.search],
          [':scheme', 'https'],
        ]
      : [
          ['Host', host],
          ['Connection', 'keep-alive'],
        ];
    reqHeaders.push(
      [
        'accept',
        kind === 'image'
          ? 'image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8'
          : kind === 'document'
            ? 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8'
            : '*/*',
      ],
      ['accept-encoding', 'gzip, deflate, br, zstd'],
      ['accept-language', 'en-GB,en;q=0.9,de;q=0.8'],
    );
    if (kind === 'xhr') reqHeaders.push(['authorization', `Bearer ${jwt()}`]);
    if (sameSite)
      reqHeaders.push([
        'cookie',
        `${sessionCookie}; ${csrfCookie}; _ga=GA1.1.${int(1e8, 9e8)}.${int(1.7e9, 1.8e9)}; theme=dark`,
      ]);
    if (post) reqHeaders.push(['content-type', 'application/json'], ['origin', site]);
    if (h2) reqHeaders.push(['priority', kind === 'image' ? 'i' : 'u=1, i']);
    reqHeaders.push(
      ['referer', `${site}/${pick(words)}/${int(1, 99)}`],
      ['sec-ch-ua', secChUa],
      ['sec-ch-ua-mobile', '?0'],
      ['sec-ch-ua-platform', '"Linux"'],
      ['sec-fetch-dest', kind === 'fetch' || kind === 'xhr' ? 'empty' : kind === 'stylesheet' ? 'style' : kind],
      ['sec-fetch-mode', kind === 'document' ? 'navigate' : kind === 'image' ? 'no-cors' : 'cors'],
      ['sec-fetch-site', host === 'app.example.com' ? 'same-origin' : sameSite ? 'same-site' : 'cross-site'],
      ['user-agent', chromeUA],
    );

    let status = 200;
    let statusText = '';
    let resHeaders: [string, string][];
    let mimeType: string;
    let text: string | undefined;
    let encoding: string | undefined;
    if (denied) {
      const d = pick(denials)();
      denialCount++;
      status = d.status;
      statusText = d.statusText;
      mimeType = d.mimeType;
      text = d.text;
      resHeaders = [
        ...d.headers,
        ['date', new Date(t0 + i * 37).toUTCString()],
        ['content-length', String(Buffer.byteLength(d.text))],
      ];
    } else {
      const roll = rand();
      if (roll < 0.04) status = 304;
      else if (roll < 0.06) status = 204;
      else if (roll < 0.075) status = 404;
      else if (roll < 0.08) status = 500;
      else if (roll < 0.09) status = 302;
      switch (kind) {
        case 'image':
          mimeType = `image/${u.pathname.endsWith('png') ? 'png' : u.pathname.endsWith('webp') ? 'webp' : 'jpeg'}`;
          text = base64Of(logNormal(500, 1.2, 400_000));
          encoding = 'base64';
          break;
        case 'font':
          mimeType = 'font/woff2';
          text = base64Of(logNormal(3000, 0.6, 200_000));
          encoding = 'base64';
          break;
        case 'script':
          mimeType = 'application/javascript';
          text = slice(jsPool, logNormal(900, 1.2, 900_000));
          break;
        case 'stylesheet':
          mimeType = 'text/css';
          text = slice(cssPool, logNormal(800, 1.0, 300_000));
          break;
        case 'document':
          mimeType = 'text/html';
          text = slice(htmlPool, logNormal(4000, 0.8, 400_000));
          break;
        default:
          mimeType = 'application/json';
          text = jsonBody(logNormal(350, 1.1, 500_000));
      }
      if (status === 304 || status === 204) text = undefined;
      else if (status >= 400) {
        mimeType = 'text/html';
        text = `<!doctype html><title>${status}</title><h1>${status === 404 ? 'Not Found' : 'Internal Server Error'}</h1>`;
      }
      resHeaders = [
        ['cache-control', kind === 'fetch' || kind === 'xhr' ? 'no-store' : 'public, max-age=31536000, immutable'],
        ['content-encoding', 'br'],
        ['content-type', mimeType],
        ['date', new Date(t0 + i * 37).toUTCString()],
        ['etag', `"${hex(16)}"`],
        ['server', pick(['nginx', 'cloudflare', 'envoy'])],
        ['x-request-id', `${hex(8)}-${hex(4)}-${hex(4)}-${hex(4)}-${hex(12)}`],
      ];
      if (kind !== 'image')
        resHeaders.push(
          ['strict-transport-security', 'max-age=63072000; includeSubDomains; preload'],
          ['vary', 'Accept-Encoding'],
        );
      if (status === 302) resHeaders.push(['location', `${site}/login?next=${encodeURIComponent(u.pathname)}`]);
      if (kind === 'document' || rand() < 0.02)
        resHeaders.push(['set-cookie', `sid=${token(32)}; Path=/; Secure; HttpOnly; SameSite=Lax`]);
    }
    const bodySize = text === undefined ? 0 : encoding ? Math.floor((text.length * 3) / 4) : Buffer.byteLength(text);
    const timings = {
      blocked: +(rand() * 4).toFixed(3),
      dns: -1,
      ssl: -1,
      connect: -1,
      send: +(rand() * 0.4).toFixed(3),
      wait: +(5 + rand() * 180).toFixed(3),
      receive: +(rand() * 30).toFixed(3),
      _blocked_queueing: +(rand() * 3).toFixed(3),
    };
    const entry = {
      _connectionId: String(int(10000, 99999)),
      _initiator:
        kind === 'fetch' || kind === 'xhr'
          ? {
              type: 'script',
              stack: {
                callFrames: [
                  {
                    functionName: pick(words),
                    scriptId: String(int(10, 300)),
                    url: `${site}/static/js/main.${hex(8)}.js`,
                    lineNumber: int(0, 2),
                    columnNumber: int(1000, 90000),
                  },
                ],
              },
            }
          : { type: 'parser', url: `${site}/${pick(words)}`, lineNumber: int(1, 400) },
      _priority: kind === 'image' ? 'Low' : 'High',
      _resourceType: kind,
      cache: {},
      connection: '443',
      pageref: `page_${page}`,
      request: {
        method: post ? 'POST' : 'GET',
        url,
        httpVersion: h2 ? 'http/2.0' : 'HTTP/1.1',
        headers: reqHeaders.map(([name, value]) => ({ name, value })),
        queryString: [...u.searchParams].map(([name, value]) => ({ name, value })),
        cookies: sameSite
          ? [
              {
                name: 'sid',
                value: sessionCookie.slice(4),
                path: '/',
                domain: '.example.com',
                expires: '1969-12-31T23:59:59.000Z',
                httpOnly: true,
                secure: true,
                sameSite: 'Lax',
              },
              {
                name: 'csrftoken',
                value: csrfCookie.slice(10),
                path: '/',
                domain: '.example.com',
                expires: '2027-03-14T09:30:00.000Z',
                httpOnly: false,
                secure: true,
                sameSite: 'Lax',
              },
            ]
          : [],
        headersSize: -1,
        bodySize: post ? 0 : 0,
        ...(post
          ? {
              postData: {
                mimeType: 'application/json',
                text: JSON.stringify({ [pick(words)]: token(int(8, 40)), [pick(words)]: int(0, 999) }),
              },
            }
          : {}),
      },
      response: {
        status,
        statusText,
        httpVersion: h2 ? 'http/2.0' : 'HTTP/1.1',
        headers: resHeaders.map(([name, value]) => ({ name, value })),
        cookies: [],
        content: {
          size: bodySize,
          mimeType,
          ...(text !== undefined ? { text } : {}),
          ...(encoding ? { encoding } : {}),
        },
        redirectURL: status === 302 ? `${site}/login` : '',
        headersSize: -1,
        bodySize: -1,
        _transferSize: bodySize + int(200, 600),
        _error: null,
        _fetchedViaServiceWorker: false,
      },
      serverIPAddress: `203.0.113.${int(1, 254)}`,
      startedDateTime: new Date(t0 + i * 37).toISOString(),
      time: +(timings.blocked + timings.send + timings.wait + timings.receive).toFixed(3),
      timings,
    };
    await write(`${i ? ',' : ''}\n      ${JSON.stringify(entry, null, 2).replaceAll('\n', '\n      ')}`);
  }
  await write('\n    ]\n  }\n}\n');
  bytes += Buffer.byteLength(pending);
  out.end(pending);
  await once(out, 'finish');
  const result: GeneratedHar = { file, entries, denials: denialCount, bytes, seed };
  writeFileSync(`${file}.meta.json`, `${JSON.stringify(result, null, 2)}\n`);
  return result;
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  const arg = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const entries = Number(arg('--entries') ?? 100_000);
  const seed = Number(arg('--seed') ?? 403);
  const t = performance.now();
  const r = await generateHar({ entries, seed, file: arg('--out') });
  console.log(
    `wrote ${r.file}: ${r.entries} entries, ${r.denials} denied, ${(r.bytes / 1e6).toFixed(1)} MB in ${((performance.now() - t) / 1000).toFixed(1)} s`,
  );
}
