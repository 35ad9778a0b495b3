// A seeded nginx access log (combined) and the error log that goes with it,
// for `npm run bench:logs`: a day of traffic from a few thousand clients over
// a few hundred paths, about 4% of it refused — deny rules, an address rule,
// unreadable files, directories without an index, Basic credentials — each
// refusal with the error-log line nginx writes for it. Deterministic: the same
// seed gives the same bytes.
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { rng } from './generate-har.ts';

export interface GeneratedLogs {
  access: string;
  error: string;
  lines: number;
  denials: number;
  accessBytes: number;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const p2 = (n: number) => String(n).padStart(2, '0');

const REFUSALS = [
  { path: (i: number) => `/private/report-${i % 50}.pdf`, status: 403, log: 'access forbidden by rule' },
  { path: (i: number) => `/office/status-${i % 20}.txt`, status: 403, log: 'access forbidden by rule' },
  {
    path: (i: number) => `/files/archive-${i % 30}/`,
    status: 403,
    log: (p: string) => `directory index of "/srv/www${p}" is forbidden`,
  },
  {
    path: (i: number) => `/secret-${i % 10}.txt`,
    status: 403,
    log: (p: string) => `open() "/srv/www${p}" failed (13: Permission denied)`,
  },
  { path: () => '/admin/index.html', status: 401, log: 'user "alice": password mismatch' },
] as const;

export async function generateLogs(opts: {
  lines: number;
  seed: number;
  access: string;
  error: string;
}): Promise<GeneratedLogs> {
  const random = rng(opts.seed);
  const access = createWriteStream(opts.access);
  const error = createWriteStream(opts.error);
  const start = Date.UTC(2026, 11, 5, 0, 0, 0);
  const step = 86_400_000 / opts.lines;
  let a = '';
  let e = '';
  let denials = 0;
  let bytes = 0;
  for (let i = 0; i < opts.lines; i++) {
    const t = new Date(start + Math.floor(i * step));
    const clf = `${p2(t.getUTCDate())}/${MONTHS[t.getUTCMonth()]}/${t.getUTCFullYear()}:${p2(t.getUTCHours())}:${p2(t.getUTCMinutes())}:${p2(t.getUTCSeconds())} +0000`;
    const client = `10.${Math.floor(random() * 4)}.${Math.floor(random() * 32)}.${Math.floor(random() * 32)}`;
    const r = random();
    let line: string;
    if (r < 0.04) {
      const refusal = REFUSALS[Math.floor(random() * REFUSALS.length)];
      const path = refusal.path(i);
      const user = refusal.status === 401 ? 'alice' : '-';
      line = `${client} - ${user} [${clf}] "GET ${path} HTTP/1.1" ${refusal.status} 153 "-" "curl/7.88.1"\n`;
      const msg = typeof refusal.log === 'string' ? refusal.log : refusal.log(path);
      const errTime = `${t.getUTCFullYear()}/${p2(t.getUTCMonth() + 1)}/${p2(t.getUTCDate())} ${p2(t.getUTCHours())}:${p2(t.getUTCMinutes())}:${p2(t.getUTCSeconds())}`;
      e += `${errTime} [error] 1234#1234: *${i} ${msg}, client: ${client}, server: example.com, request: "GET ${path} HTTP/1.1", host: "example.com"\n`;
      denials++;
    } else {
      const path = `/app/page-${Math.floor(random() * 400)}?ref=${Math.floor(random() * 1000)}`;
      const status = r < 0.05 ? 404 : 200;
      line = `${client} - - [${clf}] "GET ${path} HTTP/1.1" ${status} ${Math.floor(random() * 50_000)} "https://example.com/" "Mozilla/5.0 (X11; Linux x86_64)"\n`;
    }
    a += line;
    bytes += line.length;
    if (a.length > 1 << 20) {
      if (!access.write(a)) await once(access, 'drain');
      a = '';
    }
    if (e.length > 1 << 20) {
      if (!error.write(e)) await once(error, 'drain');
      e = '';
    }
  }
  access.end(a);
  error.end(e);
  await Promise.all([once(access, 'finish'), once(error, 'finish')]);
  return { access: opts.access, error: opts.error, lines: opts.lines, denials, accessBytes: bytes };
}
