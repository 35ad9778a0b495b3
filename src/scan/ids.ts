// Ids from a file or standard input: one a line, a CSV column, or JSON
// lines. Read as a stream, in batches, so a million ids never sit in memory;
// the other columns or fields of a row are kept as the record's fields.
import { createReadStream } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { parse } from 'csv-parse';
import { InputError } from '../errors.ts';
import type { IdsSource } from './config.ts';
import { flattenFields, getPath } from './json-path.ts';

export interface IdRow {
  id: string;
  fields?: string;
}

export function formatOf(file: string, given?: string): IdsSource['format'] {
  if (given) {
    if (given === 'lines' || given === 'csv' || given === 'jsonl') return given;
    throw new InputError('--ids-format', `"${given}": expected lines, csv or jsonl`);
  }
  if (/\.csv$/i.test(file)) return 'csv';
  if (/\.(jsonl|ndjson)$/i.test(file)) return 'jsonl';
  return 'lines';
}

/**
 * Yields batches of ids; `skip` rows are passed over first (a resumed
 * ingestion). Each batch carries the number of rows read so far, stored with
 * it, so a crash mid-file resumes at the right row.
 */
export async function* readIds(
  source: IdsSource,
  input: NodeJS.ReadableStream | undefined,
  skip = 0,
  batchSize = 10_000,
): AsyncGenerator<{ rows: IdRow[]; read: number }> {
  const name = source.file === '-' ? 'standard input' : source.file;
  let stream: NodeJS.ReadableStream;
  if (source.file === '-') stream = input ?? process.stdin;
  else {
    const file = createReadStream(source.file);
    await new Promise<void>((resolve, reject) => {
      file.once('open', () => resolve());
      file.once('error', (e: NodeJS.ErrnoException) =>
        reject(new InputError(source.file, e.code === 'ENOENT' ? 'no such file' : e.message)),
      );
    });
    stream = file;
  }
  let batch: IdRow[] = [];
  let read = 0;
  const take = (row: IdRow | undefined) => {
    read++;
    if (read <= skip || !row) return;
    batch.push(row);
  };

  if (source.format === 'csv') {
    const parser = stream.pipe(parse({ columns: true, skip_empty_lines: true, trim: true, bom: true }));
    let column: string | undefined;
    for await (const rec of parser as AsyncIterable<Record<string, string>>) {
      if (column === undefined) {
        const cols = Object.keys(rec);
        column = source.column ?? cols.find((c) => /^id$/i.test(c));
        if (column === undefined || !cols.includes(column))
          throw new InputError(
            name,
            `${source.column ? `no column "${source.column}"` : 'no "id" column'} in the CSV header (columns: ${cols.join(', ')}); name it with --column`,
          );
      }
      const id = rec[column];
      const { [column]: _id, ...rest } = rec;
      take(id ? { id, fields: JSON.stringify(rest) } : undefined);
      if (batch.length >= batchSize) {
        yield { rows: batch, read };
        batch = [];
      }
    }
  } else {
    // Lines are split from the stream's chunks here rather than by readline,
    // whose async iteration awaits once per line: at a million ids that was
    // a visible share of the scan's CPU time.
    const decoder = new StringDecoder('utf8');
    let rest = '';
    let lineNo = 0;
    const line = (raw: string): void => {
      lineNo++;
      const text = raw.trim();
      if (!text) return take(undefined);
      if (source.format !== 'jsonl') return take({ id: text });
      let v: unknown;
      try {
        v = JSON.parse(text);
      } catch {
        throw new InputError(name, `line ${lineNo} is not JSON (expected one JSON value a line)`);
      }
      if (typeof v === 'string' || typeof v === 'number') return take({ id: String(v) });
      const id = getPath(v, source.id ?? 'id');
      if (typeof id !== 'string' && typeof id !== 'number')
        throw new InputError(name, `line ${lineNo} has no "${source.id ?? 'id'}" field; name it with --id`);
      take({ id: String(id), fields: JSON.stringify(flattenFields(v)) });
    };
    for await (const chunk of stream as AsyncIterable<Buffer | string>) {
      const text = rest + (typeof chunk === 'string' ? chunk : decoder.write(chunk));
      let start = 0;
      for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
        line(text.slice(start, nl));
        start = nl + 1;
      }
      rest = text.slice(start);
      if (batch.length >= batchSize) {
        yield { rows: batch, read };
        batch = [];
      }
    }
    rest += decoder.end();
    if (rest) line(rest);
  }
  yield { rows: batch, read };
}
