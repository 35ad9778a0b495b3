// A denied entry's bytes → Exchange: parsed (only denied entries ever are),
// mapped by the one JSON record mapper (../record.ts) as a lenient reader of
// what a tool wrote, then checked for signs of a sanitized export.
import { InputError } from '../../errors.ts';
import type { Exchange } from '../../model/exchange.ts';
import { exchangeOf, isObj, readRecord } from '../record.ts';
import { headerSizes, sanitizedNoteFor, type HeaderSizes } from './sanitized.ts';
import type { DenialBytes } from './scan.ts';

export function parseDenial(
  d: DenialBytes,
  name: string,
  creator: string | undefined,
): { exchange: Exchange; headers: HeaderSizes } {
  const text = d.bytes.toString('utf8');
  let entry: unknown;
  try {
    entry = JSON.parse(text);
  } catch (err) {
    const m = /position (\d+)/.exec((err as Error).message);
    const at = m ? d.offset + Buffer.byteLength(text.slice(0, Number(m[1]))) : d.offset;
    const why = (err as Error).message.replace(/ in JSON at position.*$/, '');
    throw new InputError(
      name,
      `not valid JSON at byte ${at}: expected a valid JSON string (in log.entries[${d.index}]: ${why})`,
    );
  }
  // The scanner yields only entries (objects) whose response holds a denial status.
  const e = isObj(entry) ? entry : {};
  const parts = readRecord({ ...e, response: isObj(e.response) ? e.response : {} }, { name, mode: 'lenient' });
  const exchange = exchangeOf({ ...parts, response: parts.response! }, { kind: 'har', name, index: d.index });
  const headers = headerSizes(e, exchange);
  const note = sanitizedNoteFor(d.signs, d.before, creator, headers);
  if (note) {
    exchange.notes = [note];
    exchange.credentialsStripped = true;
  }
  return { exchange, headers };
}
