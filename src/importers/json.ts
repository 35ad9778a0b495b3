// A JSON exchange: { "request": …, "response": … } with HAR-shaped parts,
// or a single HAR entry, or a list of them. The record itself is mapped by
// record.ts (headers as lists or objects, "body" shorthand); this file reads
// the document around it.
import { InputError } from '../errors.ts';
import type { Exchange, ExchangeRequest } from '../model/exchange.ts';
import { clip } from './common.ts';
import { imported, type Imported } from './imported.ts';
import { exchangeOf, isObj, readRecord, type RecordParts } from './record.ts';

/** One record of a JSON document: its request and response, each when present. */
export type JsonParse = RecordParts;

function parseText(input: string | unknown, name: string): unknown {
  if (typeof input !== 'string') return input;
  try {
    return JSON.parse(input.replace(/^\uFEFF/, ''));
  } catch (err) {
    throw new InputError(name, `expected JSON, ${(err as Error).message.replace(/^JSON\.parse: /, '')}`, {
      cause: err,
    });
  }
}

function isHar(v: unknown): boolean {
  return isObj(v) && isObj(v.log) && Array.isArray(v.log.entries);
}

function readOne(v: unknown, name: string): JsonParse {
  if (!isObj(v)) throw new InputError(name, 'expected a JSON object {"request": …, "response": …}');
  if (isHar(v))
    throw new InputError(name, 'this is a HAR file (it has log.entries), not a single exchange; read it as a HAR');
  if (v.request === undefined && v.response === undefined) {
    throw new InputError(
      name,
      `expected a JSON object {"request": …, "response": …}, found keys ${clip(Object.keys(v).join(', ') || 'none')}`,
    );
  }
  return readRecord(v, { name });
}

function toExchange(p: JsonParse, name: string, index?: number): Exchange {
  if (!p.response) {
    throw new InputError(
      name,
      `${index === undefined ? '' : `[${index}] `}expected a "response" object beside the request`,
    );
  }
  return exchangeOf({ ...p, response: p.response }, { kind: 'json', name, ...(index === undefined ? {} : { index }) });
}

/**
 * Reads a JSON document (text or an already parsed value) without requiring a
 * response: an object gives one part, an array one per element.
 */
export function parseJson(input: string | unknown, name = 'json'): JsonParse[] {
  const v = parseText(input, name);
  if (Array.isArray(v)) {
    if (!v.length)
      throw new InputError(name, 'expected a JSON object {"request": …, "response": …}, found an empty list');
    return v.map((item, i) => {
      try {
        return readOne(item, name);
      } catch (err) {
        if (err instanceof InputError) throw new InputError(name, `[${i}] ${err.detail}`, { cause: err });
        throw err;
      }
    });
  }
  return [readOne(v, name)];
}

/**
 * A JSON document in the importers' shape: every record that holds a
 * response is an exchange (indexed when the document is a list), a record
 * with a request alone is a request.
 */
export function importJson(input: string | unknown, name = 'json'): Imported {
  const parts = parseJson(input, name);
  const exchanges: Exchange[] = [];
  const requests: ExchangeRequest[] = [];
  parts.forEach((p, i) => {
    if (p.response) exchanges.push(toExchange(p, name, parts.length > 1 ? i : undefined));
    else if (p.request) requests.push(p.request);
  });
  return imported(exchanges, requests);
}

/** One exchange from {request, response} JSON or a single HAR entry. */
export function fromJson(input: string | unknown, name = 'json'): Exchange {
  const parts = parseJson(input, name);
  if (parts.length !== 1) throw new InputError(name, `expected one exchange, found a list of ${parts.length}`);
  return toExchange(parts[0]!, name);
}

/** Every exchange of a JSON object or list of them. */
export function fromJsonAll(input: string | unknown, name = 'json'): Exchange[] {
  const parts = parseJson(input, name);
  return parts.map((p, i) => toExchange(p, name, parts.length > 1 ? i : undefined));
}
