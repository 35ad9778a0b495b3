// Captures Chromium's own "Copy as cURL (bash)", "Copy as cURL (cmd)",
// "Copy all as cURL" and "Copy as PowerShell" text, and its HAR entry, for a
// real request.
//
// How: a headless Chromium serves its bundled DevTools frontend at
// /devtools/inspector.html; we open that frontend in a tab, attached over
// its WebSocket transport to a second tab, let the second tab load a page
// from a Node server on 127.0.0.1 that sets a cookie and POSTs with an
// Authorization header and a body holding quotes, a newline, "!" and
// non-ASCII characters. Then, inside the frontend, we call the very code
// behind the context-menu items — NetworkLogView.generateCurlCommand(request,
// 'unix' | 'win'), generateAllCurlCommand and generatePowerShellCommand — on
// the request the frontend recorded. The server records what it received, so
// a test can check an importer against the request as it really arrived.
//
// Usage: node scripts/capture/chromium-curl.ts   (needs /usr/bin/chromium)
// Writes src/importers/fixtures/curl/chromium-copy-as-curl.json.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const outDir = new URL('../../src/importers/fixtures/curl/', import.meta.url).pathname;
mkdirSync(outDir, { recursive: true });

// The body the page sends: a single quote, double quotes, a newline, "!" (which
// makes bash quoting switch to $'…'), a percent sign before a letter (cmd's
// %VAR% escape), a caret, an ampersand, and non-ASCII text.
const BODY = 'note=it\'s "quoted" & 100%done ^caret!\nsecond line: café ✓';
const AUTH = 'Bearer fake-token-for-why403-tests';

interface Received {
  method: string;
  url: string;
  headers: [string, string][];
  body: string;
}
const received: Received[] = [];

function collect(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

const page = `<!doctype html><meta charset="utf-8"><title>why403 capture</title>
<script>
addEventListener('load', async () => {
  const r = await fetch('/api/items?q=caf%C3%A9&x=1', {
    method: 'POST',
    headers: { 'Authorization': ${JSON.stringify(AUTH)}, 'Content-Type': 'text/plain;charset=UTF-8', 'X-Empty': '' },
    body: ${JSON.stringify(BODY)},
  });
  document.title = 'done ' + r.status;
});
</script>`;

const server = createServer(async (req, res) => {
  const body = await collect(req);
  const pairs: [string, string][] = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) pairs.push([req.rawHeaders[i]!, req.rawHeaders[i + 1]!]);
  received.push({ method: req.method!, url: req.url!, headers: pairs, body });
  if (req.url === '/') {
    res.writeHead(200, {
      'Content-Type': 'text/html; charset=utf-8',
      'Set-Cookie': 'sid=fake-session-123; Path=/; SameSite=Lax',
    });
    res.end(page);
  } else if (req.url!.startsWith('/api/items')) {
    res.writeHead(403, { 'Content-Type': 'application/json' });
    res.end('{"error":"insufficient_scope","required":"items:write"}');
  } else {
    res.writeHead(404);
    res.end();
  }
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const appPort = (server.address() as { port: number }).port;

const profile = mkdtempSync(join(tmpdir(), 'why403-chromium-'));
const chromium = spawn(
  CHROMIUM,
  [
    '--headless=new',
    '--no-sandbox',
    '--disable-gpu',
    '--no-first-run',
    '--remote-debugging-address=127.0.0.1',
    '--remote-debugging-port=0',
    `--user-data-dir=${profile}`,
    'about:blank',
  ],
  { stdio: ['ignore', 'ignore', 'pipe'] },
);
let chromiumLog = '';
chromium.stderr!.on('data', (d: Buffer) => (chromiumLog += d.toString()));

/** A minimal CDP client over Node's built-in WebSocket. */
class Cdp {
  private ws: WebSocket;
  private nextId = 1;
  private pending = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();
  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.addEventListener('message', (ev) => {
      const msg = JSON.parse(String(ev.data));
      const p = msg.id !== undefined ? this.pending.get(msg.id) : undefined;
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.error) p.reject(new Error(`${msg.error.message} ${msg.error.data ?? ''}`));
      else p.resolve(msg.result);
    });
  }
  static open(url: string): Promise<Cdp> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      ws.addEventListener('open', () => resolve(new Cdp(ws)));
      ws.addEventListener('error', () => reject(new Error(`cannot open ${url}`)));
    });
  }
  send(method: string, params: object = {}): Promise<any> {
    const id = this.nextId++;
    this.ws.send(JSON.stringify({ id, method, params }));
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      setTimeout(() => {
        if (this.pending.delete(id)) reject(new Error(`${method}: no answer in 20 s`));
      }, 20_000);
    });
  }
  close(): void {
    this.ws.close();
  }
}

async function until<T>(what: string, f: () => Promise<T | undefined> | T | undefined, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n${chromiumLog.slice(-2000)}`);
    await sleep(200);
  }
}

try {
  const portFile = join(profile, 'DevToolsActivePort');
  const devtoolsPort = await until('DevToolsActivePort', () =>
    existsSync(portFile) && readFileSync(portFile, 'utf8').includes('\n')
      ? Number(readFileSync(portFile, 'utf8').split('\n')[0])
      : undefined,
  );
  const base = `http://127.0.0.1:${devtoolsPort}`;
  const version = (await (await fetch(`${base}/json/version`)).json()) as { Browser: string };
  const list = async () =>
    (await (await fetch(`${base}/json/list`)).json()) as {
      id: string;
      type: string;
      url: string;
      webSocketDebuggerUrl: string;
    }[];
  const target = await until('the about:blank tab', async () =>
    (await list()).find((t) => t.type === 'page' && t.url === 'about:blank'),
  );

  // Chromium's bundled DevTools frontend, attached to the target tab.
  const frontendUrl = `${base}/devtools/inspector.html?ws=127.0.0.1:${devtoolsPort}/devtools/page/${target.id}`;
  const browserWs = ((await (await fetch(`${base}/json/version`)).json()) as { webSocketDebuggerUrl: string })
    .webSocketDebuggerUrl;
  const browser = await Cdp.open(browserWs);
  await browser.send('Target.createTarget', { url: frontendUrl });
  const frontendTarget = await until('the DevTools frontend tab', async () =>
    (await list()).find((t) => t.url.startsWith(`${base}/devtools/inspector.html`)),
  );
  const frontend = await Cdp.open(frontendTarget.webSocketDebuggerUrl);
  const evaluate = async (expression: string): Promise<any> => {
    const r = await frontend.send('Runtime.evaluate', { expression, awaitPromise: true, returnByValue: true });
    if (r.exceptionDetails)
      throw new Error(`frontend: ${r.exceptionDetails.exception?.description ?? r.exceptionDetails.text}`);
    return r.result.value;
  };
  // The frontend is ready once its network log exists and is listening.
  await until('the frontend network log', async () => {
    try {
      return (
        (await evaluate(
          `import('${base}/devtools/models/logs/logs.js').then(m => !!m.NetworkLog.NetworkLog.instance())`,
        )) || undefined
      );
    } catch {
      return undefined;
    }
  });
  await sleep(1000);

  const pageCdp = await Cdp.open(target.webSocketDebuggerUrl);
  await pageCdp.send('Page.navigate', { url: `http://127.0.0.1:${appPort}/` });
  await until('the page to POST', () => (received.some((r) => r.method === 'POST') ? true : undefined));
  await sleep(1000);

  const out = await evaluate(`(async () => {
    const Logs = await import('${base}/devtools/models/logs/logs.js');
    const Network = await import('${base}/devtools/panels/network/network.js');
    const V = Network.NetworkLogView.NetworkLogView;
    const reqs = Logs.NetworkLog.NetworkLog.instance().requests();
    const api = reqs.find((r) => r.url().includes('/api/items'));
    const doc = reqs.find((r) => r.url() === 'http://127.0.0.1:${appPort}/');
    if (!api || !doc) return { error: 'requests not recorded: ' + reqs.map((r) => r.url()).join(' ') };
    const self = { filterOutBlobRequests: (rs) => rs };
    return {
      bash: await V.generateCurlCommand(api, 'unix'),
      cmd: await V.generateCurlCommand(api, 'win'),
      bashAll: await V.prototype.generateAllCurlCommand.call(self, [doc, api], 'unix'),
      cmdAll: await V.prototype.generateAllCurlCommand.call(self, [doc, api], 'win'),
      powershell: await V.prototype.generatePowerShellCommand.call(self, api),
      // What "Save all as HAR (with sensitive data)" writes, for this one request:
      // the frontend's HAR writer with a progress sink that only counts.
      harText: await (await import('${base}/devtools/models/har/har.js')).Writer.Writer.harStringForRequests(
        [api], { sanitize: false }, { createSubProgress: () => ({}) }),
    };
  })()`);
  if (out.error) throw new Error(out.error);
  pageCdp.close();
  frontend.close();
  browser.close();

  const api = received.find((r) => r.method === 'POST')!;
  const fixture = {
    source:
      `captured by scripts/capture/chromium-curl.ts: ${version.Browser} (Debian ${spawnSync('sh', ['-c', '. /etc/os-release; echo $VERSION_ID'], { encoding: 'utf8' }).stdout.trim()}), headless. ` +
      'Its bundled DevTools frontend (served by Chromium at /devtools/inspector.html) was attached to a tab that loaded a page from a Node server on 127.0.0.1; ' +
      'the page set a cookie and POSTed with an Authorization header and a body holding quotes, a newline, "!" and non-ASCII text. ' +
      'The commands are the return values of the frontend\'s own NetworkLogView.generateCurlCommand(request, "unix"|"win"), generateAllCurlCommand and generatePowerShellCommand ' +
      '(the code behind the Network panel\'s "Copy as cURL (bash)", "Copy as cURL (cmd)", "Copy all as cURL" and "Copy as PowerShell") called on the request the frontend recorded; ' +
      '"harText" is the string the frontend\'s HAR.Writer.harStringForRequests([request], { sanitize: false }) returns, the code behind "Save all as HAR (with sensitive data)", for this request alone. ' +
      '"received" is the request as the server read it. The token and cookie are fake.',
    received: api,
    receivedDocument: received.find((r) => r.url === '/'),
    ...out,
  };
  writeFileSync(join(outDir, 'chromium-copy-as-curl.json'), JSON.stringify(fixture, null, 2) + '\n');
  console.log('wrote chromium-copy-as-curl.json');
  console.log(out.bash);
  console.log(out.cmd);
} finally {
  chromium.kill('SIGTERM');
  await new Promise((r) => chromium.once('exit', r).once('error', r));
  server.close();
  rmSync(profile, { recursive: true, force: true });
}
