// The package as users get it: `npm pack`, then installed with production
// dependencies only — globally into a temporary prefix, and into a fresh
// scratch project — and used from there, by package name, with the
// checkout's node_modules out of reach (other working directory, PATH without
// node_modules/.bin, no NODE_PATH). Traffic goes to a server on 127.0.0.1.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import http from 'node:http';
import { gzipSync } from 'node:zlib';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  engines: { node: string };
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
/** Installed size with production dependencies, the aim (MiB). */
const SIZE_AIM_MIB = 25;

let work: string;
let tarball: string;
let prefix: string;
let project: string;
let server: http.Server;
let base: string;

/** PATH for the installed command: this Node and the prefix's bin, then the system's; never the checkout's node_modules/.bin. */
function installedEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NO_COLOR: '1',
    NO_PROXY: '127.0.0.1,localhost',
    no_proxy: '127.0.0.1,localhost',
  };
  for (const k of Object.keys(env)) if (/^(npm_|NODE_PATH$|INIT_CWD$|HTTPS?_PROXY$|ALL_PROXY$)/i.test(k)) delete env[k];
  env.PATH = [dirname(process.execPath), join(prefix, 'bin'), '/usr/local/bin', '/usr/bin', '/bin'].join(':');
  return env;
}

function npm(args: string[], cwd: string): string {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
  };
  const r = spawnSync('npm', args, { cwd, env, encoding: 'utf8', timeout: 300_000 });
  assert.equal(r.status, 0, `npm ${args.join(' ')} failed:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** Runs a command without blocking this process: the loopback server answers from this event loop. */
function run(
  cmd: string,
  argv: string[],
  cwd: string,
  extraEnv: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { cwd, env: { ...installedEnv(), ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}

/** nginx's error-log time stamp for a moment, in this process's time zone (as the server would write it). */
function localStamp(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}/${p(d.getMonth() + 1)}/${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

function why403(args: string[], opts: { node?: string; env?: NodeJS.ProcessEnv } = {}) {
  return opts.node
    ? run(opts.node, [join(prefix, 'bin', 'why403'), ...args], project, opts.env)
    : run('why403', args, project, opts.env);
}

function duBytes(path: string): number {
  let total = 0;
  const st = lstatSync(path);
  if (st.isSymbolicLink()) return 0;
  if (!st.isDirectory()) return st.size;
  for (const e of readdirSync(path)) total += duBytes(join(path, e));
  return total;
}

/** Every package.json under a node_modules tree. */
function packagesUnder(
  nodeModules: string,
): { dir: string; json: { name?: string; scripts?: Record<string, string>; gypfile?: boolean } }[] {
  const out: { dir: string; json: { name?: string; scripts?: Record<string, string>; gypfile?: boolean } }[] = [];
  if (!existsSync(nodeModules)) return out;
  for (const e of readdirSync(nodeModules)) {
    if (e.startsWith('.')) continue;
    const dirs = e.startsWith('@')
      ? readdirSync(join(nodeModules, e)).map((s) => join(nodeModules, e, s))
      : [join(nodeModules, e)];
    for (const dir of dirs) {
      const file = join(dir, 'package.json');
      if (existsSync(file)) out.push({ dir, json: JSON.parse(readFileSync(file, 'utf8')) });
      out.push(...packagesUnder(join(dir, 'node_modules')));
    }
  }
  return out;
}

describe('the packed package, installed with production dependencies only', { timeout: 600_000 }, () => {
  before(async () => {
    work = realpathSync(mkdtempSync(join(tmpdir(), 'why403-installed-')));
    // npm pack runs the prepare script: the tarball holds a fresh build.
    const packed = JSON.parse(npm(['pack', '--json', '--pack-destination', work], ROOT)) as { filename: string }[];
    tarball = join(work, packed[0].filename);
    prefix = join(work, 'prefix');
    project = join(work, 'project');
    mkdirSync(prefix);
    mkdirSync(project);
    npm(['install', '--global', '--prefix', prefix, '--omit=dev', '--no-package-lock', tarball], work);
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify({ name: 'scratch', version: '1.0.0', private: true, type: 'module' }, null, 2),
    );
    npm(['install', '--omit=dev', tarball], project);

    server = http.createServer((req, res) => {
      if (req.url?.startsWith('/items/')) {
        const id = Number(req.url.slice('/items/'.length));
        res.writeHead(id % 2 ? 403 : 200, { 'content-type': 'application/json' });
        res.end(id % 2 ? '{"message":"You do not have permission to view this item"}' : `{"id":${id}}`);
        return;
      }
      res.writeHead(403, { server: 'nginx/1.22.1', 'content-type': 'text/html' });
      res.end(
        '<html>\r\n<head><title>403 Forbidden</title></head>\r\n<body>\r\n<center><h1>403 Forbidden</h1></center>\r\n<hr><center>nginx/1.22.1</center>\r\n</body>\r\n</html>\r\n',
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(() => {
    server?.closeAllConnections();
    server?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('ships the build and nothing of the checkout: no sources, tests, fixtures or scripts', () => {
    const files = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).trim().split('\n');
    assert.ok(
      files.includes('package/dist/cli.js') &&
        files.includes('package/dist/index.js') &&
        files.includes('package/dist/types/index.d.ts'),
      files.join('\n'),
    );
    assert.ok(
      files.includes('package/LICENSE') && files.includes('package/README.md'),
      'LICENSE and README are in the tarball',
    );
    const stray = files.filter((f) =>
      /\.test\.|\/fixtures\/|^package\/(src|test|bench|scripts|examples)\/|\.metafile/.test(f),
    );
    assert.deepEqual(stray, []);
  });

  it('holds only production dependencies, none with an install script or a native addon, within the size aim', (t) => {
    for (const root of [join(prefix, 'lib', 'node_modules'), join(project, 'node_modules')]) {
      const installed = packagesUnder(root);
      const names = new Set(installed.map((p) => p.json.name));
      for (const dev of Object.keys(pkg.devDependencies))
        assert.ok(!names.has(dev), `${root}: devDependency ${dev} is installed`);
      for (const native of ['tree-sitter', 'tree-sitter-bash', 'node-gyp-build', 'node-addon-api'])
        assert.ok(!names.has(native), `${root}: ${native} is installed`);
      for (const p of installed) {
        const scripts = p.json.scripts ?? {};
        for (const hook of ['preinstall', 'install', 'postinstall'])
          assert.equal(scripts[hook], undefined, `${p.json.name} has an ${hook} script`);
        assert.ok(!p.json.gypfile && !existsSync(join(p.dir, 'binding.gyp')), `${p.json.name} builds a native addon`);
      }
    }
    const bytes = duBytes(join(prefix, 'lib', 'node_modules', 'why403'));
    const mib = bytes / 1048576;
    t.diagnostic(`installed size with production dependencies: ${mib.toFixed(1)} MiB (${bytes} bytes)`);
    assert.ok(mib < SIZE_AIM_MIB, `installed size ${mib.toFixed(1)} MiB is over the ${SIZE_AIM_MIB} MiB aim`);
  });

  it('why403 --help and --version', async () => {
    const help = await why403(['--help']);
    assert.equal(help.code, 0, help.err);
    assert.match(help.out, /^why403 /);
    const v = await why403(['--version']);
    assert.equal(v.out.trim(), `why403 ${pkg.version}`);
  });

  it('explain on a saved exchange', async () => {
    const file = join(work, 'saved.http');
    writeFileSync(
      file,
      'GET /private/a.txt HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nHTTP/1.1 403 Forbidden\r\nServer: nginx/1.22.1\r\nContent-Type: text/html\r\n\r\n<html>\r\n<head><title>403 Forbidden</title></head>\r\n<body>\r\n<center><h1>403 Forbidden</h1></center>\r\n<hr><center>nginx/1.22.1</center>\r\n</body>\r\n</html>\r\n',
    );
    const r = await why403(['explain', '--json', file]);
    assert.equal(r.code, 1, r.err);
    const report = JSON.parse(r.out) as { deniedBy: { product: string }; causes: { id: string }[] };
    assert.equal(report.deniedBy.product, 'nginx');
    assert.ok(
      ['path-forbidden', 'ip-restricted', 'filesystem-permission'].includes(report.causes[0].id),
      report.causes[0].id,
    );
  });

  it('logs on a gzipped access log and its error log', async () => {
    const access = join(work, 'access.log.gz');
    writeFileSync(
      access,
      gzipSync('127.0.0.1 - - [05/Dec/2026:14:00:00 +0000] "GET /files/ HTTP/1.1" 403 153 "-" "curl/7.88.1"\n'),
    );
    const error = join(work, 'error.log');
    writeFileSync(
      error,
      `${localStamp(new Date('2026-12-05T14:00:00Z'))} [error] 7#7: *1 directory index of "/srv/www/files/" is forbidden, client: 127.0.0.1, server: localhost, request: "GET /files/ HTTP/1.1", host: "x"\n`,
    );
    const r = await why403(['logs', '--json', access, error]);
    assert.equal(r.code, 0, r.err);
    const report = JSON.parse(r.out) as { denials: number; byReason: { causes: string[] }[] };
    assert.equal(report.denials, 1);
    assert.deepEqual(report.byReason[0]?.causes, ['directory-listing']);
  });

  it('check against a loopback server, from a URL and from a curl command (the bundled curl parser)', async () => {
    const byUrl = await why403(['check', '--json', `${base}/private`]);
    assert.equal(byUrl.code, 1, byUrl.err);
    assert.equal((JSON.parse(byUrl.out) as { deniedBy: { product: string } }).deniedBy.product, 'nginx');
    const byCurl = await why403(['check', '--json', '--', 'curl', `${base}/private`, '-H', 'Accept: text/html']);
    assert.equal(byCurl.code, 1, byCurl.err);
    const report = JSON.parse(byCurl.out) as { status: number; request: { url: string } };
    assert.equal(report.status, 403);
    assert.equal(report.request.url, `${base}/private`);
  });

  it('scan of a few records', async () => {
    const ids = join(work, 'ids.txt');
    writeFileSync(ids, '1\n2\n3\n4\n');
    const r = await why403([
      'scan',
      '--ids',
      ids,
      '--get',
      `${base}/items/{id}`,
      '--state',
      join(work, 'scan.sqlite'),
      '--quiet',
      '--json',
    ]);
    assert.equal(r.code, 1, r.err);
    const summary = JSON.parse(r.out) as {
      schema: string;
      complete: boolean;
      records: { total: number; denied: number; allowed: number };
      signatures: { examples: string[] }[];
    };
    assert.equal(summary.schema, 'why403/scan@1');
    assert.equal(summary.complete, true);
    assert.deepEqual([summary.records.total, summary.records.denied, summary.records.allowed], [4, 2, 2]);
    assert.deepEqual(summary.signatures.flatMap((s) => s.examples).sort(), ['1', '3']);
    assert.doesNotMatch(r.err, /ExperimentalWarning|at .*\(/, r.err);
  });

  it('audit from an audit file (YAML, checked against the shipped schema) and from an OpenAPI spec, with JUnit', async () => {
    const file = join(work, 'audit.yaml');
    writeFileSync(
      file,
      [
        `baseUrl: ${base}`,
        'identities:',
        '  - name: anonymous',
        '  - name: member',
        '    headers: { Authorization: { env: WHY403_MEMBER_TOKEN, prefix: "Bearer " } }',
        'requests:',
        '  - { name: item2, path: /items/2, expect: { allow: "*" } }',
        '  - { name: item3, path: /items/3, expect: { allow: [member] } }',
      ].join('\n'),
    );
    const junit = join(work, 'audit.xml');
    const r = await why403(['audit', '--file', file, '--json', '--quiet', '--junit', junit], {
      env: { WHY403_MEMBER_TOKEN: 'opaque-member-token' },
    });
    assert.equal(r.code, 1, r.err);
    const result = JSON.parse(r.out) as {
      schema: string;
      findings: { kind: string; operation: string; identity: string }[];
    };
    assert.equal(result.schema, 'why403/audit@1');
    assert.deepEqual(
      result.findings.map((f) => [f.kind, f.operation, f.identity]),
      [['regression', 'item3', 'member']],
    );
    assert.ok(!r.out.includes('opaque-member-token'));
    assert.equal((readFileSync(junit, 'utf8').match(/<testcase /g) ?? []).length, 4);
    const spec = join(work, 'openapi.json');
    writeFileSync(
      spec,
      JSON.stringify({
        openapi: '3.0.3',
        info: { title: 'items', version: '1' },
        paths: { '/items/{id}': { get: { parameters: [{ name: 'id', in: 'path', required: true, example: 2 }] } } },
      }),
    );
    const o = await why403(['audit', '--openapi', spec, '--base-url', base, '--identity', 'anonymous=', '--quiet']);
    assert.equal(o.code, 0, o.err + o.out);
    assert.match(o.out, /GET \/items\/\{id\}\s+✓ 200/);
    // The schema is published with the package.
    const schema = JSON.parse(
      readFileSync(join(project, 'node_modules', 'why403', 'schema', 'audit.schema.json'), 'utf8'),
    );
    assert.equal(schema.title, 'why403 audit file');
  });

  it('the middleware by package name: why403/web, why403/express and why403/sqlite, without OpenTelemetry installed', async () => {
    const script = join(project, 'middleware.mjs');
    writeFileSync(
      script,
      [
        "import { why403, requireScope, jsonLinesSink } from 'why403/web';",
        "import * as express from 'why403/express';",
        "import * as fastify from 'why403/fastify';",
        "import { sqliteSink } from 'why403/sqlite';",
        `const db = sqliteSink(${JSON.stringify(join(work, 'denials.sqlite'))});`,
        'const lines = [];',
        "const w = why403({ disclosure: 'gap', sinks: [db, jsonLinesSink({ write: (l) => lines.push(l) })],",
        "  caller: () => ({ principal: 'alice', scopes: ['read:invoices'], roles: [] }) });",
        "const handler = w.guard([requireScope('read:orders')], () => new Response('ok'), { route: '/orders' });",
        "const res = await handler(new Request('http://127.0.0.1/orders'));",
        'db.close();',
        'console.log(JSON.stringify({ status: res.status, type: res.headers.get("content-type"),',
        '  body: await res.json(), event: JSON.parse(lines[0]),',
        "  express: typeof express.why403, fastify: typeof Object.values(fastify).find((v) => typeof v === 'function') }));",
      ].join('\n'),
    );
    const r = await run(process.execPath, [script], project);
    assert.equal(r.code, 0, r.err);
    const out = JSON.parse(r.out) as {
      status: number;
      type: string;
      body: { cause: string; required: string[]; held: string[] };
      event: { cause: string; principal: string; route: string };
      express: string;
      fastify: string;
    };
    assert.deepEqual(
      [out.status, out.type, out.body.cause, out.body.required, out.body.held],
      [403, 'application/problem+json', 'insufficient-scope', ['read:orders'], ['read:invoices']],
    );
    assert.deepEqual(
      [out.event.cause, out.event.principal, out.event.route],
      ['insufficient-scope', 'alice', '/orders'],
    );
    assert.deepEqual([out.express, out.fastify], ['function', 'function']);
    // The SQLite file the sink wrote is read by the installed command.
    const ev = await why403(['events', '--json', join(work, 'denials.sqlite')]);
    assert.equal(ev.code, 0, ev.err);
    const summary = JSON.parse(ev.out) as { schema: string; denials: number };
    assert.deepEqual([summary.schema, summary.denials], ['why403/events@1', 1]);
  });

  it('the library by package name: diagnose, fromRaw, fromCurl, a HAR read by a worker, and the fetch adapter', async () => {
    // Pretty-printed, with several entries: the layout the reader cuts into
    // segments, so `worker: true` really starts a worker thread.
    const entry = (path: string, status: number, body: string) => ({
      startedDateTime: '2026-12-01T10:00:00.000Z',
      time: 1,
      request: {
        method: 'GET',
        url: `${base}${path}`,
        httpVersion: 'HTTP/1.1',
        headers: [],
        queryString: [],
        cookies: [],
        headersSize: -1,
        bodySize: 0,
      },
      response: {
        status,
        statusText: '',
        httpVersion: 'HTTP/1.1',
        headers: [{ name: 'Server', value: 'nginx/1.22.1' }],
        cookies: [],
        content: { size: body.length, mimeType: 'text/html', text: body },
        redirectURL: '',
        headersSize: -1,
        bodySize: 0,
      },
      cache: {},
      timings: { send: 0, wait: 1, receive: 0 },
    });
    const page = '<hr><center>nginx/1.22.1</center>';
    const har = join(work, 'one.har');
    const entries = [
      entry('/private', 403, page),
      entry('/open', 200, 'ok'),
      entry('/admin/', 401, page),
      entry('/also-open', 200, 'ok'),
    ];
    writeFileSync(
      har,
      JSON.stringify({ log: { version: '1.2', creator: { name: 'test', version: '1' }, entries } }, null, 2),
    );
    const script = join(project, 'use.mjs');
    writeFileSync(
      script,
      `import { diagnose, fromRaw, fromCurl, fromHar, diagnoseResponse } from 'why403';
const raw = await diagnose(fromRaw('HTTP/1.1 403 Forbidden\\r\\nServer: nginx/1.22.1\\r\\n\\r\\n<hr><center>nginx/1.22.1</center>'));
const curl = await fromCurl("curl -H 'X-Test: 1' ${base}/private");
let workers = 0;
process.on('worker', () => workers++);
const reading = fromHar(${JSON.stringify(har)}, { name: 'one.har', worker: true });
const fromFile = [];
for await (const ex of reading.exchanges) fromFile.push((await diagnose(ex)).deniedBy.product);
const { total, denied } = await reading.summary;
const res = await fetch('${base}/private');
const viaFetch = await diagnoseResponse(res, '${base}/private');
console.log(JSON.stringify({ raw: raw.deniedBy.product, curl: curl.headers, har: fromFile, total, denied, workers: workers > 0, fetch: viaFetch.deniedBy.product, status: viaFetch.status }));
`,
    );
    const r = await run(process.execPath, [script], project);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(JSON.parse(r.out), {
      raw: 'nginx',
      curl: [{ name: 'X-Test', value: '1' }],
      har: ['nginx', 'nginx'],
      total: 4,
      denied: 2,
      workers: true,
      fetch: 'nginx',
      status: 403,
    });
  });

  it('bad input gets one line and exit 2 in the installed command too', async () => {
    const r = await why403(['explain', join(work, 'missing.har')]);
    assert.equal(r.code, 2);
    assert.equal(r.err.trim().split('\n').length, 1, r.err);
    assert.doesNotMatch(r.err, /\n\s+at /);
  });

  it('an older Node gets one line naming the floor, --help included', async (t) => {
    const older = ['/usr/bin/node', '/usr/local/bin/node'].find((p) => {
      if (!existsSync(p)) return false;
      const v = spawnSync(p, ['-p', 'process.versions.node'], { encoding: 'utf8' }).stdout.trim();
      const [major, minor] = v.split('.').map(Number);
      return major < 22 || (major === 22 && minor < 15);
    });
    if (!older) {
      t.skip('no Node older than the floor on this machine');
      return;
    }
    for (const args of [['--help'], ['explain', 'x.har']]) {
      const r = await why403(args, { node: older });
      assert.equal(r.code, 2);
      assert.equal(r.out, '');
      assert.match(
        r.err,
        new RegExp(
          `^why403: needs Node\\.js ${pkg.engines.node.replace(/^>=/, '').replace(/\./g, '\\.')} or newer \\(this is v[\\d.]+\\)`,
        ),
      );
      assert.equal(r.err.trim().split('\n').length, 1, r.err);
    }
  });
});
