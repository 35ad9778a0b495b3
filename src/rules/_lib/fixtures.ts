// Rule fixtures: one JSON file per captured or documented exchange, with the
// label taken from the source (what the product or its docs say the denial
// means), never from what a rule concludes.
//
// {
//   "source": "https://docs… | captured: nginx 1.22.1 on 127.0.0.1 (test/servers/nginx.ts)",
//   "label": { "product": "nginx", "layer": "web-server", "cause": "path-forbidden" },
//   "request": { "method": "GET", "url": "…", "headers": { "Authorization": "…" } },
//   "response": { "status": 403, "statusText": "Forbidden", "headers": { "Server": "nginx" }, "body": "…" },
//   "now": "2026-11-22T12:00:00Z",            (optional: the clock to diagnose at)
//   "ambiguous": ["ip-restricted"],           (optional: causes the response cannot tell apart from the label)
//   "credentialsStripped": true,              (optional: taken from a sanitized HAR export)
//   "trace": { … },                           (optional: what `check` recorded, for live captures)
//   "productHidden": true                     (optional: nothing in the exchange can name the product)
// }
//
// Headers may be an object or a HAR name/value list; "body" is shorthand for
// content.text (src/importers/record.ts maps it, as it maps a JSON input).
// Secrets in fixtures are fake or redacted.
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../../errors.ts';
import { reasonsFromLines } from '../../logs/match.ts';
import { exchangeOf, readRecord } from '../../importers/record.ts';
import type { Exchange } from '../../model/exchange.ts';
import type { CauseId, Layer, Product } from '../../model/vocabulary.ts';
import { isCauseId, isLayer, isProduct } from '../../model/vocabulary.ts';

export interface FixtureLabel {
  product: Product;
  layer: Layer;
  cause: CauseId;
}

export interface Fixture {
  file: string;
  source: string;
  label: FixtureLabel;
  exchange: Exchange;
  /** The lines the server's log gained while a capture answered (a capture note; not given to the engine unless asked). */
  capturedLog?: string[];
  /** The local clock to diagnose at (for time-bound credentials captured in the past). */
  now?: Date;
  /**
   * Causes the response alone cannot tell apart from the label (nginx's one 403
   * page for a deny rule, an IP rule and an unreadable file). The engine must
   * rank the label within the first 1 + ambiguous.length causes, and only these.
   */
  ambiguous?: CauseId[];
  /**
   * Nothing in the exchange can name the product (a proxy's refused CONNECT
   * carries no readable headers): the engine must answer product "unknown"
   * with the labelled layer, never a guess.
   */
  productHidden?: boolean;
  /** The real product, where the label says "unknown" because why403 has no rule for it (bench/unseen). */
  productName?: string;
}

/**
 * A fixture's exchange, mapped by the importers' JSON record mapper
 * (src/importers/record.ts), which also reads the JSON files and HAR entries
 * users hand over. Three differences, all in the options: nothing is derived
 * from the headers (a fixture says exactly what was seen), HTTP/1.1 is the
 * version a part does not name, and it is read leniently, as a HAR entry is
 * (two API Gateway fixtures have an empty request URL, which a JSON input
 * may not). content.compression, a HAR field outside the model, is dropped.
 */
export function exchangeFromFixtureJson(raw: Record<string, unknown>, file: string): Exchange {
  const parts = readRecord(raw, { name: file, mode: 'lenient', complete: false, httpVersion: 'HTTP/1.1' });
  if (!parts.response) throw new InputError(file, 'expected a "response" object');
  const exchange = exchangeOf({ ...parts, response: parts.response }, { kind: 'json', name: file });
  if (raw.credentialsStripped === true) exchange.credentialsStripped = true;
  if (raw.trace) exchange.trace = raw.trace as Exchange['trace'];
  // The server's log lines given with the exchange (as `explain --log` gives them).
  if (Array.isArray(raw.logs)) {
    const logs = reasonsFromLines(raw.logs as { file: string; lines: string[] }[], exchange);
    if (logs.length) exchange.logs = logs;
  }
  return exchange;
}

export function loadFixture(path: string): Fixture {
  const raw = JSON.parse(readFileSync(path, 'utf8'));
  const where = path;
  if (typeof raw.source !== 'string' || !raw.source)
    throw new Error(`${where}: "source" (a URL or capture note) is required`);
  const l = raw.label ?? {};
  if (!isProduct(l.product)) throw new Error(`${where}: label.product "${l.product}" is not in design.md section 2`);
  if (!isLayer(l.layer)) throw new Error(`${where}: label.layer "${l.layer}" is not in design.md section 2`);
  if (!isCauseId(l.cause)) throw new Error(`${where}: label.cause "${l.cause}" is not in design.md section 2`);
  if (typeof raw.response?.status !== 'number') throw new Error(`${where}: response.status is required`);
  return {
    file: path,
    source: raw.source,
    label: { product: l.product, layer: l.layer, cause: l.cause },
    exchange: exchangeFromFixtureJson(raw, path),
    ...(raw.now ? { now: new Date(raw.now) } : {}),
    ...(Array.isArray(raw.ambiguous) ? { ambiguous: raw.ambiguous.filter(isCauseId) } : {}),
    ...(raw.productHidden === true ? { productHidden: true } : {}),
    ...(typeof raw.productName === 'string' ? { productName: raw.productName } : {}),
    ...(Array.isArray(raw.log) && raw.log.every((l: unknown) => typeof l === 'string')
      ? { capturedLog: raw.log as string[] }
      : {}),
  };
}

export function loadFixtures(dir: string): Fixture[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => loadFixture(join(dir, f)));
}
