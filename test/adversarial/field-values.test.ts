// Every header and query value a server or a user hands us is hostile until
// bounded: a rule that turns "1e300" into a Date and calls toISOString(), or
// reads a number out of an empty header, must not take the whole diagnosis
// down. Each rule fixture is diagnosed again with one field at a time
// replaced by a hostile value; the diagnosis must complete.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadRules } from '../../src/rules/registry.ts';
import { ruleFolders, rulesDir } from '../../src/rules/_lib/folders.ts';
import { loadFixtures } from '../../src/rules/_lib/fixtures.ts';
import { diagnoseWith } from '../../src/engine/diagnose.ts';
import type { Exchange } from '../../src/model/exchange.ts';

/** Fields rules read as numbers or times, added to every fixture whether or not it has them. */
const TIME_HEADERS = [
  'x-rate-limit-reset',
  'x-ratelimit-reset',
  'retry-after',
  'x-ratelimit-remaining',
  'date',
  'expires',
  'age',
];
const TIME_PARAMS = ['expires', 'Expires', 'X-Amz-Expires', 'X-Amz-Date', 'se', 'st', 'X-Goog-Expires', 'X-Goog-Date'];

/** Values that break naive number, date and string handling. */
const HOSTILE = ['', '1e300', '-1', 'NaN', '99999999999999999999', '\u0000'];

function withResponseHeader(ex: Exchange, index: number, value: string): Exchange {
  const headers = ex.response.headers.map((h, i) => (i === index ? { ...h, value } : h));
  return { ...ex, response: { ...ex.response, headers } };
}

function withRequestHeader(ex: Exchange, index: number, value: string): Exchange {
  const headers = ex.request!.headers.map((h, i) => (i === index ? { ...h, value } : h));
  return { ...ex, request: { ...ex.request!, headers } };
}

function withQueryValue(ex: Exchange, name: string, value: string): Exchange | undefined {
  try {
    const url = new URL(ex.request!.url);
    url.searchParams.set(name, value);
    return { ...ex, request: { ...ex.request!, url: url.href } };
  } catch {
    return undefined;
  }
}

test('no header or query value makes a diagnosis throw', async () => {
  const rules = await loadRules();
  let cases = 0;
  const failures: string[] = [];
  for (const folder of ruleFolders()) {
    for (const fx of loadFixtures(join(rulesDir(), folder, 'fixtures'))) {
      const variants: [string, Exchange | undefined][] = [];
      for (const value of HOSTILE) {
        fx.exchange.response.headers.forEach((h, i) =>
          variants.push([`response ${h.name}: ${JSON.stringify(value)}`, withResponseHeader(fx.exchange, i, value)]),
        );
        fx.exchange.request?.headers.forEach((h, i) =>
          variants.push([`request ${h.name}: ${JSON.stringify(value)}`, withRequestHeader(fx.exchange, i, value)]),
        );
        let names: string[] = [];
        try {
          names = [...new URL(fx.exchange.request?.url ?? '').searchParams.keys()];
        } catch {
          names = [];
        }
        for (const name of names)
          variants.push([`query ${name}=${JSON.stringify(value)}`, withQueryValue(fx.exchange, name, value)]);
        const extra = TIME_HEADERS.map((name) => ({ name, value }));
        variants.push([
          `time headers ${JSON.stringify(value)}`,
          {
            ...fx.exchange,
            response: { ...fx.exchange.response, headers: [...fx.exchange.response.headers, ...extra] },
          },
        ]);
        let timed: Exchange | undefined = fx.exchange;
        for (const name of TIME_PARAMS) timed = timed && withQueryValue(timed, name, value);
        variants.push([`time query values ${JSON.stringify(value)}`, timed]);
      }
      for (const [what, ex] of variants) {
        if (!ex) continue;
        cases++;
        try {
          diagnoseWith(rules, ex, { now: fx.now });
        } catch (err) {
          failures.push(`${fx.file.slice(rulesDir().length + 1)} with ${what}: ${(err as Error).message}`);
        }
      }
    }
  }
  assert.ok(cases > 1000, `expected thousands of variants, ran ${cases}`);
  assert.deepEqual(failures, [], `${failures.length} of ${cases} variants threw`);
});
