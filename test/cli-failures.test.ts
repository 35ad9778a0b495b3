// How the CLI fails (issue 11, points 4 and 6), run as a user runs it: a child
// process on the project's Node. Every bad input is one line on standard
// error — `why403: <which input>: <what was expected>` — with exit code 2 and
// no stack trace unless --debug; a reader that closes the output early stops
// it quietly; every --help fits 80 columns.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PassThrough } from 'node:stream';
import { displayWidth } from '../src/render/text.ts';
import { tokenCommand } from '../src/cli/token.ts';
import type { Io } from '../src/cli/io.ts';

const root = fileURLToPath(new URL('../', import.meta.url));
const bin = join(root, 'src/cli/bin.ts');
const dir = mkdtempSync(join(tmpdir(), 'why403-failures-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: string | Buffer): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

const env = { ...process.env, NO_COLOR: '', FORCE_COLOR: '' };

function run(args: string[], input: string | Buffer = '') {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, input, encoding: 'utf8', env, timeout: 30000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** One line on stderr, exit 2, no stack frame; returns that line. */
function oneLine(r: { code: number | null; err: string }, what: string): string {
  assert.equal(r.code, 2, `${what}: exit ${r.code}, stderr:\n${r.err}`);
  assert.ok(!/^\s+at /m.test(r.err), `${what}: a stack trace:\n${r.err}`);
  assert.ok(r.err.endsWith('\n'), `${what}: stderr ends with a newline`);
  const lines = r.err.slice(0, -1).split('\n');
  assert.equal(lines.length, 1, `${what}: one line, got:\n${r.err}`);
  assert.match(lines[0]!, /^why403: /, what);
  return lines[0]!;
}

/** A C0 or C1 control character, DEL or a bidi override: none may reach the terminal from an error line. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

// 1. Bad text files: the same one line as the same bytes on standard input.

const BAD_FILES: [string, string, RegExp][] = [
  ['truncated.json', '{"request": {"method"', /expected JSON/],
  ['array.json', '[1,2]', /\[0\] expected a JSON object/],
  // "Copy all as cURL (cmd)" with a line cmd.exe would run that is not curl.
  [
    'copy-as-curl-cmd.txt',
    'curl ^"https://example.com/^" -H ^"Accept: */*^"\r\necho done\r\n',
    /expected a curl command, found a command starting with "echo"/,
  ],
];

for (const [name, content, pattern] of BAD_FILES) {
  test(`explain FILE: ${name} is one line, exit 2, as on standard input`, () => {
    const path = file(name, content);
    const fromFile = oneLine(run(['explain', path]), `explain ${name}`);
    assert.match(fromFile, pattern);
    assert.ok(fromFile.startsWith(`why403: ${path}: `), fromFile);
    const fromStdin = oneLine(run(['explain', '-'], content), `explain - < ${name}`);
    assert.equal(fromFile.slice(`why403: ${path}: `.length), fromStdin.slice('why403: -: '.length));
  });
}

test('explain FILE: a lone "Copy as cURL (cmd)" request points to check --from FILE, which can read it', () => {
  const path = file('lone-request.cmd', 'curl ^"https://example.com/^" -H ^"Accept: */*^"\r\n');
  const line = oneLine(run(['explain', path]), 'explain lone-request.cmd');
  assert.match(
    line,
    new RegExp(
      `holds a request but no response; .*run: why403 check --from ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`,
    ),
  );
  const plan = run(['check', '--dry-run', '--from', path]);
  assert.equal(plan.code, 0, plan.err);
  assert.match(plan.out, /^would send: GET https:\/\/example\.com\/\n {2}Accept: \*\/\*/);
});

test('--debug still shows the stack trace of an input error', () => {
  const r = run(['explain', '--debug', file('debug.json', '{"request": {"method"')]);
  assert.equal(r.code, 2, r.err);
  assert.match(r.err, /^why403: .*debug\.json: expected JSON/);
  assert.match(r.err, /\n\s+at .*(json|detect)\.ts/, 'a stack frame from the importer');
});

test('--debug shows the stack trace of a parse error on the command line', () => {
  const r = run(['explain', '--debug', '--bogus', 'x']);
  assert.equal(r.code, 2, r.err);
  assert.match(r.err, /^why403: unknown option --bogus/);
  assert.match(r.err, /\n\s+at /);
});

// 2. A reader that stops early: no EPIPE stack, exit 141 (128 + SIGPIPE).

function manyDenials(n: number): string {
  const entries = Array.from({ length: n }, (_, i) => ({
    startedDateTime: '2024-01-01T00:00:00Z',
    request: {
      method: 'GET',
      url: `http://app.example.test/private/${i}`,
      httpVersion: 'HTTP/1.1',
      headers: [],
      queryString: [],
      cookies: [],
      headersSize: -1,
      bodySize: 0,
    },
    response: {
      status: 403,
      statusText: 'Forbidden',
      httpVersion: 'HTTP/1.1',
      headers: [
        { name: 'Server', value: 'nginx/1.22.1' },
        { name: 'Content-Type', value: 'text/html' },
      ],
      cookies: [],
      content: { size: 44, mimeType: 'text/html', text: '<html><hr><center>nginx/1.22.1</center></html>' },
      redirectURL: '',
      headersSize: -1,
      bodySize: 44,
    },
    cache: {},
    timings: { send: 0, wait: 0, receive: 0 },
  }));
  return JSON.stringify({ log: { version: '1.2', creator: { name: 'test', version: '1' }, entries } });
}

/** Runs the CLI and closes its standard output after the first chunk, as `| head -1` does. */
function firstChunkOnly(
  args: string[],
): Promise<{ code: number | null; signal: NodeJS.Signals | null; err: string; first: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    let first = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.stdout.once('data', (d: Buffer) => {
      first = d.toString('utf8');
      child.stdout.destroy();
    });
    const timer = setTimeout(() => child.kill(), 30000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, err, first });
    });
  });
}

test('explain … | head -1 stops quietly, for --json and for the terminal', async () => {
  const har = file('many.har', manyDenials(400));
  for (const args of [
    ['explain', '--json', har],
    ['explain', har],
    ['explain', '--jsonl', har],
  ]) {
    const r = await firstChunkOnly(args);
    assert.ok(r.first.length > 0, 'some output came first');
    assert.equal(r.err, '', `${args.join(' ')}: nothing on stderr, got:\n${r.err}`);
    assert.equal(r.code, 141, `${args.join(' ')}: exit ${r.code} (${r.signal})`);
  }
});

// 3. Binary input is named as such; nothing quoted from an input drives the terminal.

const ELF = Buffer.concat([
  Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]),
  Buffer.alloc(56),
  Buffer.from('\u001b[2J\u001b]0;owned\u0007'),
]);
const PNG = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d]),
  Buffer.from('IHDR\u001b[31m'),
]);
const GZIP = Buffer.from([
  0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xcb, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x86, 0xa6,
  0x10, 0x36, 0x05, 0x00, 0x00, 0x00,
]);
const LATIN1 = Buffer.from('caf\xe9 au lait \u001b[31m\n', 'latin1');

for (const [name, bytes, pattern] of [
  ['program', ELF, /: an executable \(ELF\), not text; expected a HAR/],
  ['image.png', PNG, /: a PNG image, not text; expected a HAR/],
  ['notes.txt.gz', GZIP, /: gzip-compressed data, not text \(decompress it first\); expected a HAR/],
  ['latin1.txt', LATIN1, /: not UTF-8 text \(binary data\?\); expected a HAR/],
] as const) {
  test(`explain FILE: binary input (${name}) is named, not echoed`, () => {
    const path = file(name, bytes);
    for (const [args, input] of [
      [['explain', path], ''],
      [['explain', '-'], bytes],
    ] as const) {
      const r = run([...args], input);
      const line = oneLine(r, `${args.join(' ')} (${name})`);
      assert.match(line, pattern);
      assert.ok(!CONTROL.test(line), `no control characters: ${JSON.stringify(line)}`);
      assert.ok(!line.includes('\ufffd'), `no replacement characters: ${JSON.stringify(line)}`);
    }
  });
}

test('/bin/true (a real executable) is named as one', { skip: !readable('/bin/true') }, () => {
  assert.match(
    oneLine(run(['explain', '/bin/true']), 'explain /bin/true'),
    /^why403: \/bin\/true: an executable \(ELF\), not text/,
  );
});

function readable(p: string): boolean {
  try {
    return readFileSync(p).subarray(0, 4).toString('latin1') === '\x7fELF';
  } catch {
    return false;
  }
}

test('control characters quoted from a text input, or in a file name, are escaped', () => {
  const text = 'hello \u001b]0;owned\u0007 \u001b[31mred\u202e txt\n';
  const fromStdin = oneLine(run(['explain', '-'], text), 'explain - (escape sequences)');
  assert.ok(!CONTROL.test(fromStdin), JSON.stringify(fromStdin));
  assert.match(fromStdin, /found "hello \\x1b\]0;owned\\x07 \\x1b\[31mred\\u202e txt"/);
  const badJson = oneLine(run(['explain', '-'], '{"request": \u001b[31m}'), 'explain - (JSON with ESC)');
  assert.ok(!CONTROL.test(badJson), JSON.stringify(badJson));
  const name = join(dir, 'no-such-\u001b[31m-file');
  const missing = oneLine(run(['explain', name]), 'explain (file name with ESC)');
  assert.ok(!CONTROL.test(missing), JSON.stringify(missing));
  assert.match(missing, /no-such-\\x1b\[31m-file: no such file/);
  const option = oneLine(run(['explain', '--bo\u001bgus', 'x']), 'explain (option with ESC)');
  assert.ok(!CONTROL.test(option), JSON.stringify(option));
});

// 4. token: an empty argument is not an empty standard input.

test("token '' says the TOKEN argument was empty; token - says standard input was", () => {
  for (const arg of ['', '  ']) {
    const line = oneLine(run(['token', arg]), `token ${JSON.stringify(arg)}`);
    assert.match(line, /^why403: TOKEN argument: is empty; expected a JWT/);
    assert.ok(!/standard input/.test(line), line);
  }
  assert.match(oneLine(run(['token', '-'], ''), 'token - (empty stdin)'), /standard input was empty/);
});

// 5. Exit code 70 is documented, in --help and in the README.

test('every exit code in --help is in the README, 70 included', () => {
  const help = run(['--help']).out;
  const exitText = help.slice(help.indexOf('Exit codes:')).replace(/\s+/g, ' ');
  assert.match(exitText, /\b70 internal error\b/);
  const codes = [...exitText.matchAll(/(?:^|[:,;] |also )(\d+)(?: and (\d+))?/g)]
    .flatMap((m) => [m[1], m[2]])
    .filter(Boolean);
  for (const c of ['0', '1', '2', '3', '70', '75', '130', '141'])
    assert.ok(codes.includes(c), `--help names exit code ${c} (${exitText})`);
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const section = readme.slice(
    readme.indexOf('## Exit codes'),
    readme.indexOf('\n## ', readme.indexOf('## Exit codes') + 1),
  );
  for (const c of codes) assert.match(section, new RegExp(`^\\| ${c} \\| `, 'm'), `README's exit codes table has ${c}`);
});

// Point 6: every --help fits a terminal of 80 columns.

const HELPS = [
  [],
  ['explain'],
  ['check'],
  ['token'],
  ['rules'],
  ['scan'],
  ['scan', 'diff'],
  ['scan', 'report'],
  ['logs'],
];

for (const cmd of HELPS) {
  test(`why403 ${[...cmd, '--help'].join(' ')} fits 80 columns`, () => {
    const r = run([...cmd, '--help']);
    assert.equal(r.code, 0, r.err);
    assert.ok(r.out.trim().length > 0);
    const wide = r.out.split('\n').filter((l) => displayWidth(l) > 80);
    assert.deepEqual(
      wide.map((l) => `${displayWidth(l)}: ${l}`),
      [],
      'lines wider than 80 columns',
    );
  });
}

// Point 6: token wraps to the terminal, and keeps the expiry whole.

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
const now = Math.floor(Date.now() / 1000);
const longClaims = {
  iss: 'https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0',
  sub: 'AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ-a-very-long-subject-identifier-that-never-ends',
  aud: ['https://api.example.test/some/really/long/audience/identifier/that/goes/on/and/on'],
  scp: 'read:reports write:reports admin:everything-in-the-whole-organisation-and-more',
  roles: ['Reports.ReadWrite.All.WithAVeryLongRoleNameThatKeepsGoingPastTheEdgeOfTheLine', 'Admin'],
  name: '山田 太郎 (a display name in two scripts, long enough to need a second line)',
  iat: now - 7200,
  exp: now - 3600,
};
const jwt = `${b64({ alg: 'RS256', kid: 'k1-with-a-long-key-identifier-0123456789abcdef0123456789abcdef' })}.${b64(longClaims)}.c2lnbmF0dXJl`;
const expiresIso = new Date((now - 3600) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');

function assertFits(out: string, width: number): void {
  const wide = out.split('\n').filter((l) => displayWidth(l) > width);
  assert.deepEqual(wide, [], `lines wider than ${width} columns`);
}

test('token: long claims wrap to 80 columns when not a terminal; the expiry stays whole', () => {
  const r = run(['token', jwt]);
  assert.equal(r.code, 0, r.err);
  assertFits(r.out, 80);
  assert.match(r.out, new RegExp(`^  expires +${expiresIso}$`, 'm'));
  assert.match(r.out, new RegExp(`valid until ${expiresIso}`));
  // Every claim is there, its value whole once the lines are joined again.
  const joined = r.out.replace(/\n {14,}/g, '');
  for (const v of [longClaims.sub, longClaims.roles[0]!, longClaims.iss])
    assert.ok(joined.includes(v), `${v} in the output`);
});

async function tokenAt(columns: number, token: string): Promise<string> {
  const stdout = Object.assign(new PassThrough(), { columns, isTTY: false });
  let out = '';
  stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  const io: Io = { stdout, stderr: new PassThrough(), stdin: new PassThrough(), env: { NO_COLOR: '1' } };
  assert.equal(await tokenCommand([token], io), 0);
  return out;
}

test('token: the output follows the terminal width (io.stdout.columns)', async () => {
  for (const columns of [50, 72, 120]) {
    const out = await tokenAt(columns, jwt);
    assertFits(out, columns);
    assert.match(out, new RegExp(`^  expires +${expiresIso}$`, 'm'), `${columns} columns`);
    // The finding about the expiry is wrapped between words: its time is never cut.
    const finding = out.slice(out.indexOf('  ! '));
    assert.ok(
      finding.split('\n').some((l) => l.includes(expiresIso)),
      `${columns} columns: the finding's expiry time whole on a line:\n${finding}`,
    );
  }
  // Wider than the terminal's 80 default when the terminal is wider.
  assert.ok((await tokenAt(120, jwt)).split('\n').some((l) => displayWidth(l) > 80));
});

test('explain: the credential line keeps its expiry when it is clipped', () => {
  const raw = `GET /x HTTP/1.1\r\nHost: api.example.test\r\nAuthorization: Bearer ${jwt}\r\n\r\nHTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer error="invalid_token"\r\nContent-Length: 0\r\n\r\n`;
  const r = run(['explain', '-'], raw);
  assert.equal(r.code, 1, r.err);
  const line = r.out.split('\n').find((l) => l.startsWith('  bearer-jwt'));
  assert.ok(line, r.out);
  assert.ok(displayWidth(line) <= 80, line);
  assert.ok(line.endsWith(`expires ${expiresIso}`), line);
});

// Issue 15, point 4: bad logs are one clear line, or a counted skip — never a
// stack trace, never a silent wrong count.
test('logs: binary data, another format, a missing file, a bad --since: one line each, exit 2', () => {
  const binary = file('image.log', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d]));
  assert.match(oneLine(run(['logs', binary]), 'binary'), /image\.log: holds binary data, not a text log/);
  const other = file('app.log', 'INFO starting\nINFO ready\nWARN slow request\n');
  assert.match(
    oneLine(run(['logs', other]), 'another format'),
    /app\.log: is not a log format why403 reads: tried (?=.*\bcombined\b)(?=.*\bnginx-error\b)(?=.*\bapache-error\b).*none read any of the first 3 lines$/,
  );
  assert.match(oneLine(run(['logs', join(dir, 'nope.log')]), 'missing'), /nope\.log: no such file/);
  const access = file('a.log', '127.0.0.1 - - [05/Dec/2026:14:00:00 +0000] "GET / HTTP/1.1" 403 1\n');
  assert.match(oneLine(run(['logs', '--since', 'yesterday-ish', access]), 'since'), /--since: expected a time/);
  assert.match(oneLine(run(['logs']), 'no file'), /logs needs at least one FILE/);
});

test('logs: lines that are not the format, and a 10 MB line, are counted, not lost', () => {
  const good = '127.0.0.1 - - [05/Dec/2026:14:00:00 +0000] "GET /a HTTP/1.1" 403 1\n';
  const p = file('mixed.log', good.repeat(5) + 'garbage here\n' + 'x'.repeat(10 * 1024 * 1024) + '\n' + good);
  const r = run(['logs', '--json', p]);
  assert.equal(r.code, 0, r.err);
  const report = JSON.parse(r.out) as {
    denials: number;
    sources: { lines: number; notUnderstood: number; tooLong: number }[];
    notes: string[];
  };
  assert.equal(report.denials, 6);
  assert.deepEqual(
    report.sources.map((s) => [s.lines, s.notUnderstood, s.tooLong]),
    [[8, 1, 1]],
  );
  assert.match(
    report.notes.join('\n'),
    /mixed\.log: 1 of 8 lines not read as combined, 1 skipped as longer than 64 KiB/,
  );
});
