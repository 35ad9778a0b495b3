import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AuditResult } from '../audit/model.ts';
import { fullResult, smallResult, wideResult } from '../../test/fixtures/junit/audit-result.ts';
import { clipMiddle, mdCode, renderAuditMarkdown, renderAuditTerminal } from './audit.ts';
import { displayWidth, type Style } from './text.ts';

/** A style that names each colour, so a test can see what was coloured how. */
const tags: Style = {
  bold: (s) => s,
  dim: (s) => `<dim>${s}</dim>`,
  red: (s) => `<red>${s}</red>`,
  green: (s) => `<green>${s}</green>`,
  yellow: (s) => `<yellow>${s}</yellow>`,
  cyan: (s) => `<cyan>${s}</cyan>`,
};

function withBaseline(r: AuditResult): AuditResult {
  return {
    ...r,
    baseline: {
      file: 'audit-before.json',
      newlyOpen: 1,
      newlyDenied: 1,
      changes: [
        { operation: 'deleteOrder', identity: 'reader', before: 'denied', after: 'allowed', change: 'newly-open' },
        { operation: 'listUsers', identity: 'admin', before: 'allowed', after: 'denied', change: 'newly-denied' },
        { operation: 'listUsers', identity: 'reader', before: 'denied', after: 'hidden', change: 'other' },
      ],
    },
  };
}

const lines = (s: string) => s.split('\n');

test('terminal: the small result, exactly', () => {
  assert.equal(
    renderAuditTerminal(smallResult()),
    [
      'Audit of audit file audit.yaml',
      '  base URL http://127.0.0.1:8080',
      '  as reader: Bearer eyJhbG…(812 chars) (env READER_TOKEN); scopes read:orders',
      '      (from the token); roles (none held)',
      '',
      'operation    reader',
      'GET /orders  ✓ 200',
      '✓ holds · ✗ failing · ! warning · ? nothing expected · – skipped · ERR no answer',
      '',
      'No findings: every cell that was judged holds.',
      '',
      '1 cell: 1 hold, 0 failing, 0 warnings, 0 unjudged, 0 skipped · 1 request',
      '',
    ].join('\n'),
  );
});

test('terminal: the matrix shows every verdict as its cell', () => {
  const text = renderAuditTerminal(fullResult());
  const matrix = lines(text).slice(lines(text).indexOf('operation            anon    reader  admin'), -1);
  assert.deepEqual(matrix.slice(0, 7), [
    'operation            anon    reader  admin',
    'GET /orders          ✓ 401   ✓ 200   ✓ 200',
    'DELETE /orders/{id}  ✓ 401   ✗ 200   ✓ 204',
    'GET /admin/users     ✓ 401   ! 404   ✗ 403',
    'GET /reports         ✗ ERR   ! 200   ? 429',
    'GET /things/{id}     ? 404   ? 404   ✗ 404',
    'POST /orders         – skip  – skip  – skip',
  ]);
});

test('terminal: cells are coloured through the style: holds green, failing red, warnings yellow, the rest dim', () => {
  const text = renderAuditTerminal(fullResult(), { style: tags });
  assert.ok(
    text.includes('DELETE /orders/{id}  <green>✓ 401 </green>  <red>✗ 200 </red>  <green>✓ 204 </green>'),
    text,
  );
  assert.ok(text.includes('GET /reports         <red>✗ ERR </red>  <yellow>! 200 </yellow>  <dim>? 429 </dim>'), text);
  assert.ok(text.includes('<dim>– skip</dim>'));
  assert.ok(!text.includes('\u001b'), 'no raw ANSI: colour comes only from the style');
  assert.match(text, /<red>18 cells: 6 hold, 4 failing/);
});

test('terminal: identities with their credential, origin and grants, and where the grants came from', () => {
  const text = renderAuditTerminal(fullResult(), { width: 120 });
  assert.ok(text.includes('  as anon: no credential; scopes (none held); roles (none held)\n'));
  assert.ok(
    text.includes(
      '  as reader: Bearer eyJhbG…(812 chars) (env READER_TOKEN); scopes read:orders (from the token); roles user (from the\n      token)\n',
    ),
  );
  assert.ok(
    text.includes(
      '  as admin: X-Api-Key …(12 chars) (--identity); scopes (unknown: an opaque token and nothing declared); roles admin\n      (declared)\n',
    ),
    text,
  );
  assert.ok(text.startsWith('Audit of OpenAPI orders.yaml (Orders)\n  base URL https://api.example.test\n'));
});

test('terminal: findings, failing first then warnings, each kind in words', () => {
  const text = renderAuditTerminal(fullResult(), { width: 120 });
  const titles = lines(text).filter((l) => /^ {2}[✗!] /.test(l));
  assert.deepEqual(titles, [
    '  ✗ OPEN: allowed, expected denied (broken access control)',
    '  ✗ REGRESSION: denied, expected allowed',
    '  ✗ ERROR: no answer',
    '  ✗ NOT FOUND: 404 for every identity, expected allowed (nothing to judge)',
    '  ! HIDDEN: answered 404 to an identity that may not see it',
    '  ! DENIED WITH 200: refused in the body, the status says success',
  ]);
  assert.ok(text.includes('\nFindings: 4 failing, 2 warnings\n'));
});

test('terminal: a finding with a diagnosis shows its gap, top cause, producer and first fix', () => {
  const text = renderAuditTerminal(fullResult(), { width: 120 });
  const start = text.indexOf('  ✗ REGRESSION');
  assert.equal(
    text.slice(start, text.indexOf('\n\n', start)),
    [
      '  ✗ REGRESSION: denied, expected allowed',
      '    operation GET /admin/users (listUsers)',
      '    request: GET https://api.example.test/admin/users as admin → 403',
      '    admin is refused /admin/users',
      '    expected allow: needs the role admin; admin holds admin',
      '    required: admin; held: user',
      '    top cause: insufficient-role (0.91) — the token lacks the role admin',
      '    said by: express (application)',
      '    fix: Grant the role admin to the identity — $ idp roles add admin --user ops',
    ].join('\n'),
  );
  assert.ok(text.includes('    error: connect ECONNREFUSED 127.0.0.1:9\n'));
  assert.ok(text.includes('    required: write:orders; held: read:orders\n'));
});

test('terminal: skipped operations, unsafe requests, notes and the summary line', () => {
  const text = renderAuditTerminal(fullResult(), { width: 120 });
  assert.ok(text.includes('\nSkipped operations (1)\n    POST /orders — unsafe method; --allow-unsafe not given\n'));
  assert.ok(
    text.includes(
      '\nUnsafe requests sent (2)\n    DELETE https://api.example.test/orders/7?access_token=abcdef…(30 chars) as reader → 200\n    DELETE https://api.example.test/orders/7 as admin → 204\n',
    ),
    text,
  );
  assert.ok(text.includes('\nNotes\n    the parameter {id} was guessed as 1\n'));
  assert.ok(text.endsWith('\n18 cells: 6 hold, 4 failing, 2 warnings, 3 unjudged, 3 skipped · 15 requests\n'));
  assert.ok(!text.includes('Sending stopped early'));
  const stopped = renderAuditTerminal({
    ...fullResult(),
    requests: { ...fullResult().requests, stopped: 'budget of 15 requests spent' },
  });
  assert.ok(stopped.includes('\nSending stopped early: budget of 15 requests spent\n'));
});

test('terminal: baseline changes only when a baseline is given, newly open first', () => {
  assert.ok(!renderAuditTerminal(fullResult()).includes('baseline'));
  const text = renderAuditTerminal(withBaseline(fullResult()), { width: 120 });
  const start = text.indexOf('Against the baseline');
  assert.equal(
    text.slice(start, text.indexOf('\n\n', start)),
    [
      'Against the baseline audit-before.json',
      '  1 newly open, 1 newly denied, 3 changes in all',
      '  newly open (denied before, allowed now):',
      '    deleteOrder as reader: denied → allowed',
      '  newly denied (allowed before, denied now):',
      '    listUsers as admin: allowed → denied',
      '  other changes:',
      '    listUsers as reader: denied → hidden',
    ].join('\n'),
  );
  const unchanged = renderAuditTerminal({
    ...fullResult(),
    baseline: { file: 'b.json', changes: [], newlyOpen: 0, newlyDenied: 0 },
  });
  assert.ok(unchanged.includes('Against the baseline b.json\n  0 newly open, 0 newly denied, 0 changes in all\n'));
});

test('terminal: no line is wider than the width, for 1 and 12 identities and long paths', () => {
  for (const width of [60, 80, 120])
    for (const r of [wideResult(1), wideResult(12), withBaseline(fullResult())]) {
      const text = renderAuditTerminal(r, { width });
      const over = lines(text).filter((l) => displayWidth(l) > width);
      assert.deepEqual(over, [], `width ${width}, ${r.identities.length} identities`);
    }
});

test('terminal: identities that do not fit are split into blocks, each repeating the operation column', () => {
  const r = wideResult(12);
  const text = renderAuditTerminal(r, { width: 80 });
  const headers = lines(text).filter((l) => l.startsWith('operation '));
  assert.ok(headers.length > 1, 'more than one block');
  const shown = headers.flatMap((h) =>
    h
      .slice('operation'.length)
      .trim()
      .split(/\s{2,}/),
  );
  assert.deepEqual(
    shown,
    r.identities.map((i) => i.name),
    'every identity once, in order',
  );
  const rows = lines(text).filter((l) => l.startsWith('DELETE '));
  assert.equal(rows.length, headers.length * r.operations.length, 'every block repeats every operation');
  assert.ok(text.includes('identities 1–'));
  // Long paths keep both ends: the tail tells the operations apart.
  assert.deepEqual(
    [...new Set(rows.map((row) => row.split('  ')[0]!.slice(-9)))],
    ['secrets/0', 'secrets/1', 'secrets/2'],
  );
  // One identity fits: one block, no block heading.
  assert.ok(!renderAuditTerminal(wideResult(1), { width: 80 }).includes('identities 1–'));
});

test('terminal: hostile text from a server or a file cannot drive the terminal, and secrets stay hidden', () => {
  const r = fullResult();
  r.operations[0] = { ...r.operations[0]!, path: '/orders\u001b[2J\u202e' };
  r.findings[0]!.summary = 'evil\u001b]0;title\u0007 \r\nsecond';
  r.notes.push('note \u001b[31m');
  const text = renderAuditTerminal(r) + renderAuditMarkdown(r);
  assert.ok(!/[\u0000-\u0009\u000b-\u001f\u007f\u202e]/.test(text), 'no control character but newline');
  assert.ok(text.includes('GET /orders\\x1b[2J\\u202e'));
  assert.ok(text.includes('evil\\x1b]0;title\\x07 \\r\\nsecond'));
  assert.ok(!text.includes('abcdefghijklmnopqrstuvwxyz0123'), 'the token in a URL is redacted');
});

test('markdown: the small result, exactly', () => {
  assert.equal(
    renderAuditMarkdown(smallResult()),
    [
      '## why403 audit: audit file audit.yaml',
      '',
      'Base URL `http://127.0.0.1:8080`',
      '',
      '| identity | credential | scopes | roles |',
      '|---|---|---|---|',
      '| reader | Bearer eyJhbG…(812 chars) (env READER_TOKEN) | read:orders (from the token) | (none held) |',
      '',
      '### Matrix',
      '',
      '| operation | reader |',
      '|---|---|',
      '| `GET /orders` | ✓ 200 |',
      '',
      '<sub>✓ holds · ✗ failing · ! warning · ? nothing expected · – skipped · ERR no answer</sub>',
      '',
      '### Findings',
      '',
      'None: every cell that was judged holds.',
      '',
      '**1 cell: 1 hold, 0 failing, 0 warnings, 0 unjudged, 0 skipped · 1 request**',
      '',
    ].join('\n'),
  );
});

test('markdown: the matrix as a table, findings with their diagnosis, then skipped, unsafe, baseline, summary', () => {
  const full = renderAuditMarkdown(fullResult());
  assert.ok(full.includes('| operation | anon | reader | admin |\n|---|---|---|---|\n'));
  assert.ok(full.includes('| `GET /reports` | ✗ ERR | ! 200 | ? 429 |\n'));
  assert.ok(full.includes('| `POST /orders` | – skip | – skip | – skip |\n'));
  // Against a baseline: only the operations with a changed cell, only the changed cells' findings.
  const md = renderAuditMarkdown(withBaseline(fullResult()));
  assert.ok(!md.includes('| `GET /reports` |'), md);
  assert.ok(!md.includes('| `POST /orders` |'), md);
  assert.ok(full.includes('### Findings: 4 failing, 2 warnings\n'));
  assert.ok(
    md.includes(
      '- ✗ **REGRESSION: denied, expected allowed** — `GET /admin/users (listUsers)` as **admin** → 403\n' +
        '  - request: `GET https://api.example.test/admin/users as admin → 403`\n' +
        '  - admin is refused /admin/users\n' +
        '  - expected allow: needs the role admin; admin holds admin\n' +
        '  - required: admin; held: user\n' +
        '  - top cause: insufficient-role (0.91) — the token lacks the role admin\n' +
        '  - said by: express (application)\n' +
        '  - fix: Grant the role admin to the identity — $ idp roles add admin --user ops\n',
    ),
    md,
  );
  const order = [
    '### Findings',
    '### Skipped operations',
    '### Unsafe requests sent',
    '### Against the baseline',
    '### Notes',
    '**18 cells',
  ];
  const at = order.map((h) => md.indexOf(h));
  assert.ok(
    at.every((i, k) => i >= 0 && (k === 0 || i > at[k - 1]!)),
    `sections in order: ${at.join(',')}`,
  );
  assert.ok(md.includes('- newly open (denied before, allowed now):\n  - deleteOrder as reader: denied → allowed\n'));
  assert.ok(!renderAuditMarkdown(fullResult()).includes('baseline'));
});

test('markdown: | and newlines in a cell cannot break the table', () => {
  const r = fullResult();
  r.operations[0] = { ...r.operations[0]!, path: '/a|b\nc' };
  r.identities[0]!.name = 'an|on';
  r.cells = r.cells.map((c) => (c.identity === 'anon' ? { ...c, identity: 'an|on' } : c));
  const md = renderAuditMarkdown(r);
  assert.ok(md.includes('| `GET /a\\|b\\nc` | ✓ 401 | ✓ 200 | ✓ 200 |\n'), md);
  assert.ok(md.includes('| operation | an\\|on | reader | admin |\n'));
  const rows = lines(md).filter((l) => l.startsWith('| `'));
  assert.ok(
    rows.every((row) => row.split(/(?<!\\)\|/).length === 6),
    'every row has four cells',
  );
});

test('mdCode: a fence longer than any backtick run inside', () => {
  assert.equal(mdCode('GET /a'), '`GET /a`');
  assert.equal(mdCode('a`b``c'), '```a`b``c```');
  assert.equal(mdCode('`x'), '`` `x ``');
  assert.equal(mdCode('a|b', true), '`a\\|b`');
});

test('clipMiddle: both ends stay, the width is kept, wide characters count two', () => {
  assert.equal(clipMiddle('GET /orders', 20), 'GET /orders');
  assert.equal(clipMiddle('DELETE /organisations/{id}/secrets/7', 20), 'DELETE …d}/secrets/7');
  assert.equal(displayWidth(clipMiddle('GET /订单/订单/订单/订单/订单/订单', 12)), 12);
});

test('a server message of any size is cut: the report stays a report', () => {
  const r = fullResult();
  r.findings[0]!.summary = 'x'.repeat(100_000);
  r.notes.push('n'.repeat(100_000));
  const text = renderAuditTerminal(r);
  assert.ok(text.length < 12_000, `terminal: ${text.length} characters`);
  assert.ok(text.includes(`${'x'.repeat(20)}`) && text.includes('…'));
  assert.ok(renderAuditMarkdown(r).length < 12_000);
});
