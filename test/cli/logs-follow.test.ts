// why403 logs --follow, run as a user runs it: the report, then each denial
// the logs gain, joined to the error line written with it; Ctrl-C ends it
// with exit 0.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');
const stamp = (d: Date) => d.toISOString().replace('T', ' ').slice(0, 19).replace(/-/g, '/');
const clf = (d: Date) => {
  const m = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][d.getUTCMonth()];
  const iso = d.toISOString();
  return `${iso.slice(8, 10)}/${m}/${iso.slice(0, 4)}:${iso.slice(11, 19)} +0000`;
};

test('logs --follow: each denial the logs gain, with its reason, as JSON lines; Ctrl-C ends it with 0', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'why403-follow-'));
  let child: ChildProcessWithoutNullStreams | undefined;
  try {
    const access = join(dir, 'access.log');
    const error = join(dir, 'error.log');
    const t0 = new Date(Date.now() - 60_000);
    writeFileSync(access, `10.0.0.1 - - [${clf(t0)}] "GET /old HTTP/1.1" 403 9 "-" "x"\n`);
    writeFileSync(error, '');
    child = spawn(process.execPath, [join(ROOT, 'src/cli/bin.ts'), 'logs', '--follow', '--json', access, error], {
      cwd: ROOT,
      env: { ...process.env, TZ: 'UTC' },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    const until = async (what: () => boolean, label: string) => {
      for (let i = 0; i < 100 && !what(); i++) await new Promise((r) => setTimeout(r, 100));
      assert.ok(what(), `${label}\nstdout: ${out}\nstderr: ${err}`);
    };
    await until(() => /following/.test(err), 'the report, then following');
    const first = JSON.parse(out.split('\n')[0]) as { denials: number };
    assert.equal(first.denials, 1);
    const t = new Date();
    appendFileSync(
      error,
      `${stamp(t)} [error] 7#7: *9 open() "/srv/www/secret.txt" failed (13: Permission denied), client: 10.0.0.2, server: x, request: "GET /secret.txt?token=FAKE HTTP/1.1", host: "x"\n`,
    );
    appendFileSync(
      access,
      `10.0.0.2 - - [${clf(t)}] "GET /secret.txt?token=FAKE HTTP/1.1" 403 9 "-" "x"\n10.0.0.3 - - [${clf(t)}] "GET /ok HTTP/1.1" 200 2 "-" "x"\n`,
    );
    await until(() => out.split('\n').filter(Boolean).length >= 2, 'one line for the new denial');
    const lines = out.split('\n').filter(Boolean);
    assert.equal(lines.length, 2, 'the allowed request says nothing');
    const d = JSON.parse(lines[1]) as { status: number; path: string; client: string; reason: { causes: string[] } };
    assert.equal(d.status, 403);
    assert.equal(d.path, '/secret.txt');
    assert.equal(d.client, '10.0.0.2');
    assert.deepEqual(d.reason.causes, ['filesystem-permission']);
    assert.ok(!out.includes('FAKE'), 'the query never shows');
    const running = child;
    const closed = new Promise<number | null>((r) => running.on('close', r));
    running.kill('SIGINT');
    assert.equal(await closed, 0, err);
  } finally {
    child?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});
