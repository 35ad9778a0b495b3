// Runs in a worker thread for bodies.test.ts: diagnoses adversarial bodies
// (long runs of one character, deep nesting, repeated tokens, long header
// values) through the engine and through every rule directly, and posts each
// case's time. Running here lets the test terminate a hang instead of freezing.
import { parentPort } from 'node:worker_threads';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Exchange, NameValue } from '../../src/model/exchange.ts';
import { diagnoseWith } from '../../src/engine/diagnose.ts';
import { buildContext } from '../../src/engine/context.ts';
import { inspectExchangeCredentials } from '../../src/inspect.ts';
import { loadRules } from '../../src/rules/registry.ts';
import { bodyShape } from '../../src/scan/signature.ts';

export type Message =
  { kind: 'start'; name: string } | { kind: 'time'; name: string; ms: number } | { kind: 'done'; cases: number };

const KIB = 1024;
const fill = (unit: string, size: number) => unit.repeat(Math.ceil(size / unit.length)).slice(0, size);
const nest = (open: string, close: string, depth: number) => open.repeat(depth) + close.repeat(depth);

/** Bodies by name. Sizes are past the rules' 64 KiB view on purpose: the view must bound them. */
export function bodies(): [string, string][] {
  const out: [string, string][] = [];
  const runs: Record<string, string> = {
    letter: 'a',
    upper: 'A',
    digit: '7',
    space: ' ',
    newline: '\n',
    crlf: '\r\n',
    tab: '\t',
    dot: '.',
    colon: ':',
    dash: '-',
    slash: '/',
    backslash: '\\',
    lt: '<',
    gt: '>',
    brace: '{',
    bracket: '[',
    dquote: '"',
    squote: "'",
    backtick: '`',
    equals: '=',
    amp: '&',
    comma: ',',
    semicolon: ';',
    hash: '#',
    question: '?',
    at: '@',
    underscore: '_',
    percent: '%',
    star: '*',
    plus: '+',
    paren: '(',
    eacute: 'é',
    cjk: '日',
    emoji: '😀',
    nul: '\u0000',
    'alnum-mix': 'a1',
    'dot-digit': '1.',
    'word-colon': 'ab:',
  };
  for (const [name, ch] of Object.entries(runs)) out.push([`run of ${name} (256 KiB)`, fill(ch, 256 * KIB)]);
  out.push(
    ['run of letter (1 MiB)', fill('a', 1024 * KIB)],
    ['run of digit (1 MiB)', fill('7', 1024 * KIB)],
    ['run of space then x (1 MiB)', `${fill(' ', 1024 * KIB)}x`],
  );
  out.push(
    ['nested [ (100k)', nest('[', ']', 100_000)],
    ['unclosed [ (256 KiB)', fill('[', 256 * KIB)],
    ['nested {"a": (40k)', `${'{"a":'.repeat(40_000)}1${'}'.repeat(40_000)}`],
    ['nested <div> (40k)', nest('<div>', '</div>', 40_000)],
    ['unclosed <div (256 KiB)', fill('<div ', 256 * KIB)],
  );
  const tokens = [
    'a=1&',
    'error ',
    'is missing the ',
    'x is missing the ',
    'is missing the Job/Build ',
    '<title>',
    '<title ',
    '<h1>',
    '<h1 ',
    '<title>x</title',
    '</p><pre>',
    'Reason given for failure:</p> ',
    'Reason given for failure:</p><pre>',
    '<Code>',
    '<Message>',
    '<pre>',
    'You are authenticated as: ',
    "Permission you need to have (but didn't): ",
    'User: arn ',
    'User: arn is not authorized to perform: s3:GetObject on resource: ',
    '<address>Apache/2.4 ',
    'Server at x ',
    'Ray ID: ',
    'Required access: ',
    'Required access: read ',
    '../',
    '..%2f',
    'RequestId:',
    ' RequestId',
    'expected any of: ',
    '<![CDATA[',
    '<?xml ',
    // The denial's words (src/engine/words.ts, denial-words): skipped elements, headings, phrases with gaps.
    '<script>x</script>',
    '<script>',
    '<h2>h</h2>',
    '<nav>',
    'do not have ',
    'not allowed to ',
    'is not in the allow list ',
    'permission x is required ',
    'requires the ',
    "don't ",
    'scope(s) ',
    'PERMISSION_DENIED ',
    'AaAaAaAa',
    '<Error><Code>',
    '"message":"',
    '{"error":"',
    'Bearer ',
    'realm="',
    'error="invalid_token", ',
    'scope="a b" ',
    '\\"',
    '\\n',
    '\\n\\t*',
    '1 errors occurred:\n\t* ',
    'laravel_session=',
    ' does not have ',
    'a@b ',
    'Access Denied ',
    'Forbidden ',
    "You don't have permission to access ",
    'You don\u2019t have permission to access " ',
    '[2024-01-01 ',
    'Signature=',
    'Credential=',
    'https://x/?',
    'rel=next; ',
    '<a>; rel="next"',
    'v1.2.3-4+5 ',
  ];
  for (const t of tokens) out.push([`repeated ${JSON.stringify(t)} (256 KiB)`, fill(t, 256 * KIB)]);
  return out;
}

const CONTENT_TYPES = ['text/plain', 'text/html', 'application/json', 'application/xml'];

/** One value per response header name seen in any rule fixture, so every rule's `applies` gate opens. */
function fixtureHeaders(): NameValue[] {
  const rulesDir = new URL('../../src/rules/', import.meta.url).pathname;
  const seen = new Map<string, NameValue>();
  for (const dir of readdirSync(rulesDir, { withFileTypes: true })) {
    if (!dir.isDirectory()) continue;
    let files: string[] = [];
    try {
      files = readdirSync(join(rulesDir, dir.name, 'fixtures')).filter((f) => f.endsWith('.json'));
    } catch {
      continue;
    }
    for (const f of files) {
      const raw = JSON.parse(readFileSync(join(rulesDir, dir.name, 'fixtures', f), 'utf8'));
      const h = raw.response?.headers ?? {};
      const list: [string, string][] = Array.isArray(h)
        ? h.map((x: NameValue) => [x.name, x.value])
        : Object.entries(h);
      for (const [name, value] of list) {
        const key = name.toLowerCase();
        if (key === 'content-type' || key === 'content-length' || seen.has(key)) continue;
        seen.set(key, { name, value: String(value) });
      }
    }
  }
  return [...seen.values()];
}

const exchange = (status: number, headers: NameValue[], text: string): Exchange => ({
  request: {
    method: 'POST',
    url: 'https://api.example.com/v1/things/42?x=1',
    headers: [{ name: 'Authorization', value: 'Bearer abc.def.ghi' }],
  },
  response: {
    status,
    statusText: 'Forbidden',
    headers,
    content: { mimeType: headers.find((h) => h.name === 'Content-Type')?.value ?? '', text },
  },
  source: { kind: 'json', name: 'adversarial' },
});

async function main(): Promise<void> {
  const post = (m: Message) => parentPort!.postMessage(m);
  const rules = await loadRules();
  const sink = fixtureHeaders();
  let cases = 0;
  const time = (name: string, fn: () => void) => {
    post({ kind: 'start', name });
    const t0 = performance.now();
    fn();
    post({ kind: 'time', name, ms: performance.now() - t0 });
    cases++;
  };
  const now = new Date('2026-01-01T00:00:00Z');
  const all = bodies();
  for (const [name, text] of all) {
    for (const ct of CONTENT_TYPES) {
      // Every rule's gate open (headers from all fixtures), then no producer header at all.
      time(`diagnose ${name} as ${ct} with every fixture header`, () =>
        diagnoseWith(rules, exchange(403, [...sink, { name: 'Content-Type', value: ct }], text), { now }),
      );
    }
    time(`diagnose ${name} as text/html, 401, plain headers`, () =>
      diagnoseWith(rules, exchange(401, [{ name: 'Content-Type', value: 'text/html' }], text), { now }),
    );
    // Every rule's run on its own, with its gates: a rule's body regexes must be linear wherever they sit.
    const ex = exchange(403, [...sink, { name: 'Content-Type', value: 'text/html' }], text);
    const ctx = buildContext(ex, inspectExchangeCredentials(ex, { now }));
    for (const rule of rules)
      time(`${rule.meta.id}: ${name}`, () => {
        try {
          rule.run(ctx);
        } catch {
          /* a rule may assume its gate; only its time matters here */
        }
      });
    time(`scan signature ${name} (text)`, () => bodyShape(text, 'text/plain', '42'));
    time(`scan signature ${name} (json)`, () => bodyShape(text, 'application/json', '42'));
  }
  // Long header values: WWW-Authenticate and Server as rules and the challenge parser read them.
  const headerValues: [string, string][] = [
    ['letters', fill('a', 64 * KIB)],
    ['spaces', `Bearer ${fill(' ', 64 * KIB)}x`],
    ['commas', `Bearer ${fill(',', 64 * KIB)}`],
    ['params', `Bearer ${fill('realm="x", ', 64 * KIB)}`],
    ['quotes', `Bearer realm="${fill('\\"', 64 * KIB)}`],
    ['equals', `Basic ${fill('=', 64 * KIB)}`],
    ['schemes', fill('Bearer , ', 64 * KIB)],
    ['slashes', fill('nginx/', 64 * KIB)],
  ];
  for (const [name, value] of headerValues)
    for (const header of ['WWW-Authenticate', 'Server', 'Via', 'X-Cache', 'Set-Cookie'])
      time(`diagnose ${header}: long ${name}`, () =>
        diagnoseWith(
          rules,
          exchange(
            header === 'WWW-Authenticate' ? 401 : 403,
            [
              ...sink.filter((h) => h.name.toLowerCase() !== header.toLowerCase()),
              { name: header, value },
              { name: 'Content-Type', value: 'text/html' },
            ],
            'Forbidden',
          ),
          { now },
        ),
      );
  post({ kind: 'done', cases });
}

await main();
