// What every importer returns: the exchanges it read (those that hold a
// response), the requests it read without one (to send live), and a summary
// of the input. One shape for every format; a HAR streams, so its exchanges
// are an async iterable and its summary a promise, and a caller that takes
// `for await (const e of imported.exchanges)` and `await imported.summary`
// reads every format the same way.
import { isDenial } from '../engine/status.ts';
import type { Exchange, ExchangeRequest } from '../model/exchange.ts';

export type InputFormat = 'har' | 'json' | 'raw' | 'curl-bash' | 'curl-cmd';

export interface ImportSummary {
  /** Records in the input: HAR entries (all of them, denied or not), JSON records, messages, curl commands. */
  total: number;
  /** Exchanges answered with a denial (401, 403 or 407: isDenial in src/engine/status.ts). */
  denied: number;
  /** Record count per response status ("missing" for a HAR entry without one; a request alone is not counted). */
  byStatus: Record<string, number>;
  /** The input looks stripped of cookies and Authorization (see `notes`); only a HAR export can tell. */
  sanitized: boolean;
  notes: string[];
}

/**
 * What an importer read. `X` and `S` are how the exchanges and the summary
 * come: at once for a text read whole, one at a time and at the end for a HAR.
 */
export interface Imported<X extends Iterable<Exchange> | AsyncIterable<Exchange> = Exchange[], S = ImportSummary> {
  exchanges: X;
  requests: ExchangeRequest[];
  summary: S;
}

/** The summary of inputs read whole: what their exchanges answered. */
export function summarize(exchanges: Exchange[], requests: ExchangeRequest[], notes: string[] = []): ImportSummary {
  const byStatus: Record<string, number> = {};
  let denied = 0;
  for (const e of exchanges) {
    const status = e.response.status;
    byStatus[String(status)] = (byStatus[String(status)] ?? 0) + 1;
    if (isDenial(status)) denied++;
  }
  return { total: exchanges.length + requests.length, denied, byStatus, sanitized: false, notes };
}

/** The result of an importer of text read whole. */
export function imported(exchanges: Exchange[], requests: ExchangeRequest[] = [], notes: string[] = []): Imported {
  return { exchanges, requests, summary: summarize(exchanges, requests, notes) };
}
