// The HAR reader's public types, and how a failed read is reported.
import { InputError } from '../../errors.ts';
import type { Exchange } from '../../model/exchange.ts';
import type { Imported, ImportSummary } from '../imported.ts';

/**
 * The importers' summary (../imported.ts), read from a HAR: total counts every
 * entry in log.entries, denied or not; byStatus says "missing" for an entry
 * without a status; sanitized and notes say whether the export was stripped.
 */
export type HarSummary = ImportSummary;

export interface ReadHarOptions {
  /** How the input is named in messages and in `source.name` (a path, "-"). */
  name: string;
  /** Read size for files and slice size for Buffer input (default 256 KiB; tests use tiny ones). */
  highWaterMark?: number;
  /**
   * Share the scan of a file with a worker thread (default: for files of
   * 32 MiB or more; `true` forces it, cut into as many segments as allowed,
   * which the tests use). Only for a path; stdin, streams and buffers are
   * scanned on the calling thread.
   */
  worker?: boolean;
}

/** The importers' shape, streamed: `requests` is always empty (every HAR entry has its response). */
export interface HarReading extends Imported<AsyncIterable<Exchange>, Promise<HarSummary>> {
  /** One exchange per denied entry (401, 403, 407), in file order. Iterate once. */
  exchanges: AsyncIterable<Exchange>;
  /**
   * Resolves once the whole input has been read. Awaiting it makes the reader
   * run to the end even if `exchanges` is not being consumed (exchanges not
   * yet taken are then queued), so awaiting it first cannot deadlock.
   */
  summary: Promise<HarSummary>;
}

export type HarInput = string | Buffer | NodeJS.ReadableStream;

export function readError(name: string, err: unknown): Error {
  if (err instanceof InputError) return err;
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT') return new InputError(name, 'cannot read: no such file; expected a HAR file', { cause: err });
  if (code === 'EACCES' || code === 'EPERM')
    return new InputError(name, 'cannot read: permission denied', { cause: err });
  if (code === 'EISDIR') return new InputError(name, 'is a directory; expected a HAR file', { cause: err });
  if (code) return new InputError(name, `cannot read: ${(err as Error).message}`, { cause: err });
  return err instanceof Error ? err : new Error(String(err));
}
