import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { analyzeLogs } from '../logs/analyze.ts';
import type { LineInput } from '../logs/read.ts';
import { followedLine, renderLogsMarkdown, renderLogsTerminal, sparkline } from './logs.ts';

const lines = (name: string, text: string): LineInput => ({ name, stream: () => Readable.from([Buffer.from(text)]) });
const stamp = (m: number, s: number) =>
  `05/Dec/2026:14:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')} +0000`;

test('sparkline: one character per bucket, scaled to the largest; an empty bucket is blank', () => {
  assert.equal(sparkline([0, 1, 4, 8]), ' ▁▄█');
  assert.equal(sparkline([0, 0]), '  ');
});

test('a spike after --since stands out, and both renderings name the reasons and the paths', async () => {
  const access: string[] = [];
  // One denial a minute for ten minutes, then twenty in the eleventh.
  for (let m = 0; m < 10; m++) access.push(`10.0.0.1 - - [${stamp(m, 0)}] "GET /a HTTP/1.1" 403 1`);
  for (let s = 0; s < 20; s++) access.push(`10.0.0.2 - bob [${stamp(10, s)}] "GET /deploy?k=SECRET HTTP/1.1" 403 1`);
  const report = await analyzeLogs([lines('access.log', access.join('\n') + '\n')], {
    since: new Date('2026-12-05T14:10:00Z'),
  });
  assert.equal(report.denials, 20);
  assert.deepEqual(report.rate, { before: 1, after: 20 });
  const text = renderLogsTerminal(report, { width: 80 });
  assert.match(text, /Since 2026-12-05 14:10:00Z: 20 denials a minute, against 1 before it — a spike\./);
  assert.match(text, /By path\n {2}20 {2}\/deploy\n/);
  assert.match(text, /By user\n {2}20 {2}bob/);
  assert.ok(!text.includes('SECRET'), 'the query never shows');
  assert.ok(
    text.split('\n').every((l) => l.length <= 80),
    text,
  );
  const md = renderLogsMarkdown(report);
  assert.match(md, /^# Denials in the logs: 20\n/);
  assert.match(md, /\| 20 \| \/deploy \|/);
  assert.ok(!md.includes('SECRET'));
});

test('followedLine: when, what, who and why, on one line', () => {
  assert.equal(
    followedLine({
      time: '2026-12-05T14:00:07.000Z',
      file: 'access.log',
      status: 403,
      method: 'GET',
      path: '/secret.txt',
      client: '10.0.0.2',
      reason: {
        causes: ['filesystem-permission'],
        product: 'nginx',
        code: 'permission-denied',
        words: '(13: Permission denied)',
      },
    }),
    '14:00:07  403 GET /secret.txt  10.0.0.2  → filesystem-permission (nginx permission-denied: “(13: Permission denied)”)',
  );
  assert.equal(followedLine({ file: 'a.log', status: 401, path: '/x' }), '--:--:--  401 /x  → no reason logged');
});
