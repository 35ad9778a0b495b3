// The fixture file every capture script writes (format: src/rules/_lib/fixtures.ts):
// the request and response as `check` recorded them, and a writer that puts
// the file where the rule's tester finds it.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Exchange } from '../../src/model/exchange.ts';

/** The request as sent: method, URL and headers (an object, as fixtures are written by hand too). */
export function fixtureRequest(ex: Exchange) {
  return {
    method: ex.request!.method,
    url: ex.request!.url,
    headers: Object.fromEntries(ex.request!.headers.map((h) => [h.name, h.value])),
  };
}

/** The response as received, the body as text. */
export function fixtureResponse(ex: Exchange) {
  return {
    status: ex.response.status,
    statusText: ex.response.statusText,
    httpVersion: ex.response.httpVersion,
    headers: ex.response.headers,
    body: ex.response.content.text ?? '',
  };
}

/** Writes `<out>/<sub>/<name>` as indented JSON and says so. */
export function fixtureWriter(out: string): (sub: string, name: string, fixture: object) => string {
  return (sub, name, fixture) => {
    const dir = join(out, sub);
    mkdirSync(dir, { recursive: true });
    const file = join(dir, name);
    writeFileSync(file, `${JSON.stringify(fixture, null, 2)}\n`);
    console.log(`wrote ${file}`);
    return file;
  };
}
