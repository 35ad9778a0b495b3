// Captures real HAR files from headless Chromium for the HAR importer's tests.
//
//   node scripts/capture/chromium-har.mjs            (from the repository root)
//
// The HAR is written by Chromium's own DevTools front end: the one bundled in
// the browser (devtools://devtools/bundled/devtools_app.html), attached to a
// page, records its network traffic, and its HAR writer — the code behind
// Network → "Export HAR (sanitized)" and "Export HAR (with sensitive data)" —
// produces both files. Nothing here writes HAR itself. Everything is driven
// over the DevTools protocol (Node's built-in WebSocket); no other tool.
//
// The page is served on 127.0.0.1 by real products: express 5 serves the page
// and assets, express-oauth2-jwt-bearer answers 401 to an expired token, csurf
// answers 403 to a POST without a CSRF token. The token is signed with a key
// made for this run, so every credential in the output is fake.
//
// Output: src/importers/fixtures/har/chromium-<version>-{sensitive,sanitized}.har
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

process.env.NODE_ENV = 'production'; // express's error page then omits stack traces (local paths)
// Express logs every error it answers; the 401 and 403 are the ones this capture asks for.
const logError = console.error;
console.error = (...args) => {
  const e = args[0];
  if (
    e?.status === 401 ||
    e?.status === 403 ||
    /invalid csrf token|claim timestamp check failed/.test(String(e?.stack ?? e))
  )
    return;
  logError(...args);
};
const { default: express } = await import('express');
const { default: cookieParser } = await import('cookie-parser');
const { default: csrf } = await import('csurf');
const { auth } = await import('express-oauth2-jwt-bearer');
const { SignJWT, exportJWK, generateKeyPair } = await import('jose');

const ROOT = join(import.meta.dirname, '..', '..');
const OUT = join(ROOT, 'src', 'importers', 'fixtures', 'har');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
// The last flag lets the bundled DevTools page open the debugging WebSocket (Chromium checks its origin).
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const DEADLINE_MS = 60_000;

// ---------------------------------------------------------------------------
// The site.

async function startSite() {
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'capture-key', alg: 'RS256', use: 'sig' };
  const app = express();
  const server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const origin = `http://127.0.0.1:${server.address().port}`;
  const audience = 'https://orders.example.test';
  // Expired an hour ago: the API must refuse it with 401 invalid_token.
  const now = Math.floor(Date.now() / 1000);
  const token = await new SignJWT({ scope: 'orders:read' })
    .setProtectedHeader({ alg: 'RS256', kid: 'capture-key', typ: 'JWT' })
    .setIssuer(`${origin}/`)
    .setAudience(audience)
    .setSubject('user-1234')
    .setIssuedAt(now - 7200)
    .setExpirationTime(now - 3600)
    .sign(privateKey);

  app.get('/.well-known/jwks.json', (_req, res) => res.json({ keys: [jwk] }));
  app.use(cookieParser());
  const csrfProtection = csrf({ cookie: true });
  app.get('/', csrfProtection, (req, res) => {
    res.cookie('session', 'fake-session-7f3a9c', { httpOnly: true, sameSite: 'lax', path: '/' });
    res.type('html').send(`<!doctype html>
<html><head><meta charset="utf-8"><title>Orders</title>
<meta name="token" content="${token}"><meta name="csrf" content="${req.csrfToken()}">
<link rel="stylesheet" href="/static/app.css"></head>
<body><h1>Orders</h1><ul id="orders"></ul><script src="/static/app.js"></script></body></html>`);
  });
  app.get('/static/app.css', (_req, res) =>
    res.type('css').send('body{font-family:sans-serif;margin:2em}h1{color:#333}\n'),
  );
  app.get('/static/app.js', (_req, res) =>
    res.type('js').send(`(async () => {
  const token = document.querySelector('meta[name=token]').content;
  await fetch('/api/profile');
  await fetch('/api/orders', { headers: { Authorization: 'Bearer ' + token } });
  await fetch('/api/transfer', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ to: 'acct-2', amount: 10 }) });
  document.title = 'done';
})();
`),
  );
  app.get('/api/profile', (req, res) => res.json({ user: 'user-1234', session: Boolean(req.cookies.session) }));
  app.get(
    '/api/orders',
    auth({ issuer: `${origin}/`, audience, jwksUri: `${origin}/.well-known/jwks.json`, tokenSigningAlg: 'RS256' }),
    (_req, res) => res.json({ orders: [] }),
  );
  app.post('/api/transfer', express.json(), csrfProtection, (_req, res) => res.json({ ok: true }));
  return { origin, close: () => new Promise((r) => server.close(r)) };
}

// ---------------------------------------------------------------------------
// A minimal DevTools protocol client (flat sessions over one WebSocket).

class Cdp {
  #ws;
  #id = 0;
  #pending = new Map();
  static async connect(url) {
    const c = new Cdp();
    c.#ws = new WebSocket(url);
    await new Promise((resolve, reject) => {
      c.#ws.onopen = resolve;
      c.#ws.onerror = () => reject(new Error(`cannot connect to ${url}`));
    });
    c.#ws.onmessage = (ev) => {
      const m = JSON.parse(ev.data);
      const p = m.id && c.#pending.get(m.id);
      if (!p) return;
      c.#pending.delete(m.id);
      if (m.error) p.reject(new Error(`${m.error.message} ${m.error.data ?? ''}`));
      else p.resolve(m.result);
    };
    return c;
  }
  send(method, params = {}, sessionId) {
    const id = ++this.#id;
    this.#ws.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
    return new Promise((resolve, reject) => this.#pending.set(id, { resolve, reject }));
  }
  async evaluate(expression, sessionId) {
    const r = await this.send('Runtime.evaluate', { expression, awaitPromise: true, returnByValue: true }, sessionId);
    if (r.exceptionDetails)
      throw new Error(`evaluation failed: ${r.exceptionDetails.exception?.description ?? r.exceptionDetails.text}`);
    return r.result.value;
  }
  close() {
    this.#ws.close();
  }
}

async function waitFor(what, fn) {
  const until = Date.now() + DEADLINE_MS;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

// ---------------------------------------------------------------------------

const site = await startSite();
const profile = mkdtempSync(join(tmpdir(), 'why403-chromium-'));
const chrome = spawn(
  CHROMIUM,
  [
    ...FLAGS,
    '--remote-debugging-address=127.0.0.1',
    '--remote-debugging-port=0',
    '--remote-allow-origins=devtools://devtools',
    `--user-data-dir=${profile}`,
    'about:blank',
  ],
  { stdio: 'ignore' },
);
let cdp;
try {
  const port = await waitFor(
    'Chromium to start',
    async () =>
      existsSync(join(profile, 'DevToolsActivePort')) &&
      readFileSync(join(profile, 'DevToolsActivePort'), 'utf8').split('\n')[0],
  );
  const version = await (await fetch(`http://127.0.0.1:${port}/json/version`)).json();
  cdp = await Cdp.connect(version.webSocketDebuggerUrl);

  // The page to record, and DevTools attached to it, as a user would open them.
  const { targetId: page } = await cdp.send('Target.createTarget', { url: 'about:blank' });
  const { targetId: devtools } = await cdp.send('Target.createTarget', {
    url: `devtools://devtools/bundled/devtools_app.html?ws=127.0.0.1:${port}/devtools/page/${page}`,
  });
  const { sessionId: dt } = await cdp.send('Target.attachToTarget', { targetId: devtools, flatten: true });
  await waitFor('DevTools to connect to the page', () =>
    cdp.evaluate(
      `(async () => { const sdk = await import('./core/sdk/sdk.js'); return Boolean(sdk.TargetManager.TargetManager.instance().primaryPageTarget()); })()`,
      dt,
    ),
  );
  await sleep(500);

  const { sessionId: pg } = await cdp.send('Target.attachToTarget', { targetId: page, flatten: true });
  await cdp.send('Page.enable', {}, pg);
  await cdp.send('Page.navigate', { url: `${site.origin}/` }, pg);
  await waitFor('the page to finish its requests', async () => (await cdp.evaluate('document.title', pg)) === 'done');
  await sleep(500);

  const har = (sanitize) => `(async () => {
    const HAR = await import('./models/har/har.js');
    const Logs = await import('./models/logs/logs.js');
    const Common = await import('./core/common/common.js');
    const requests = Logs.NetworkLog.NetworkLog.instance().requests().filter((r) => r.url().startsWith('${site.origin}/'));
    const progress = new Common.Progress.CompositeProgress(new Common.Progress.Progress());
    return HAR.Writer.Writer.harStringForRequests(requests, { sanitize: ${sanitize} }, progress);
  })()`;
  const sensitive = await cdp.evaluate(har(false), dt);
  const sanitized = await cdp.evaluate(har(true), dt);
  const browser = version.Browser.replace('Chrome/', 'chromium-');
  mkdirSync(OUT, { recursive: true });
  for (const f of readdirSync(OUT)) if (/^chromium-.*\.har$/.test(f)) rmSync(join(OUT, f));
  for (const [kind, text] of [
    ['sensitive', sensitive],
    ['sanitized', sanitized],
  ]) {
    const file = join(OUT, `${browser}-${kind}.har`);
    writeFileSync(file, `${text}\n`);
    const entries = JSON.parse(text).log.entries;
    console.log(
      `wrote ${file}: ${entries.length} entries (${entries.map((e) => e.response.status).join(' ')}), ${text.length} bytes`,
    );
  }
} finally {
  cdp?.close();
  chrome.kill();
  await site.close();
  await new Promise((r) => chrome.once('exit', r)).catch(() => {});
  rmSync(profile, { recursive: true, force: true });
}
