// Reads a response body and undoes its Content-Encoding within a bound on
// what is kept, decoded: a few kilobytes of gzip or brotli can expand to
// gigabytes (a decompression bomb), so decoding is streamed and stops at the
// limit, keeping the decoded prefix. Codings are undone in reverse order of
// listing (`Content-Encoding: gzip, br` was gzipped, then brotli'd). A body
// that does not decode is kept as received, bounded the same way.
import zlib from 'node:zlib';
import type { Transform } from 'node:stream';

/** Content-codings check decodes (RFC 9110 section 8.4.1, plus br and zstd). */
export const KNOWN_CODINGS = ['gzip', 'x-gzip', 'deflate', 'br', 'zstd'] as const;

/** The decoded-size bound of decodeBody when its caller gives none. */
export const DECODE_LIMIT = 8 * 1024 * 1024;

/** Content-Encoding as a list of codings, in the order they were applied ("identity" dropped). */
export function parseCodings(header: string): string[] {
  return header
    .split(',')
    .map((c) => c.trim().toLowerCase())
    .filter((c) => c && c !== 'identity');
}

const known = (c: string) => (KNOWN_CODINGS as readonly string[]).includes(c);

/** A zlib (RFC 1950) header, as opposed to raw deflate, which some servers send as "deflate". */
const zlibWrapped = (b: Buffer | undefined) =>
  !b || b.length < 2 || ((b[0] & 0x0f) === 8 && ((b[0] << 8) | b[1]) % 31 === 0);

function decoderFor(coding: string, first?: Buffer): Transform {
  switch (coding) {
    case 'gzip':
    case 'x-gzip':
      // Z_SYNC_FLUSH: a body cut short decodes as far as it goes instead of failing.
      return zlib.createGunzip({ finishFlush: zlib.constants.Z_SYNC_FLUSH });
    case 'deflate':
      return zlibWrapped(first)
        ? zlib.createInflate({ finishFlush: zlib.constants.Z_SYNC_FLUSH })
        : zlib.createInflateRaw({ finishFlush: zlib.constants.Z_SYNC_FLUSH });
    case 'br':
      return zlib.createBrotliDecompress({ finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH });
    case 'zstd':
      return zlib.createZstdDecompress({ finishFlush: zlib.constants.ZSTD_e_flush });
    default:
      throw new Error(`unknown content-coding ${coding}`);
  }
}

function decodeSync(buf: Buffer, coding: string, maxOutputLength: number): Buffer {
  const flush = { finishFlush: zlib.constants.Z_SYNC_FLUSH, maxOutputLength };
  switch (coding) {
    case 'gzip':
    case 'x-gzip':
      return zlib.gunzipSync(buf, flush);
    case 'deflate':
      return zlibWrapped(buf) ? zlib.inflateSync(buf, flush) : zlib.inflateRawSync(buf, flush);
    case 'br':
      return zlib.brotliDecompressSync(buf, { finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH, maxOutputLength });
    case 'zstd':
      return zlib.zstdDecompressSync(buf, { finishFlush: zlib.constants.ZSTD_e_flush, maxOutputLength });
    default:
      return buf;
  }
}

/**
 * Decodes a (possibly truncated) compressed body as far as it goes, every
 * coding of the header in turn. At most `maxOutputLength` bytes come out of
 * any stage: past it, or when the body does not decode, the bytes are returned
 * as they were given. Synchronous; readBody streams and keeps the decoded
 * prefix of a body that decodes past its limit.
 */
export function decodeBody(buf: Buffer, encoding: string, maxOutputLength: number = DECODE_LIMIT): Buffer {
  const codings = parseCodings(encoding);
  if (!codings.length || !codings.every(known)) return buf;
  try {
    let out = buf;
    for (const c of [...codings].reverse()) out = decodeSync(out, c, maxOutputLength);
    return out;
  } catch {
    return buf;
  }
}

export interface BodyRead {
  /** What is kept: decoded when the codings are known and decode, at most the limit. */
  buf: Buffer;
  /** The body went on past what was kept. */
  truncated: boolean;
  /** Bytes of body seen, decoded (a lower bound when truncated). */
  size: number;
  /** Bytes read from the wire (compressed). */
  received: number;
  /** The codings undone, in the order they were applied. */
  decoded?: string[];
  /** The codings could not be undone: why. */
  decodeError?: string;
  /** How many decoded bytes came out before decoding failed (0: `buf` is the body as received). */
  decodedBeforeError?: number;
  /** Codings check does not decode: the body is kept as received. */
  unknownCodings?: string[];
  /** Reading stopped because compressed bytes went on past the limit without decoding to more. */
  compressedCut?: boolean;
}

type Body = AsyncIterable<Buffer> & { destroy?: (err?: Error) => unknown };

/** Keeps at most `max` bytes of the body as it arrives. */
async function readRaw(body: Body, max: number): Promise<{ buf: Buffer; truncated: boolean; received: number }> {
  const chunks: Buffer[] = [];
  let kept = 0;
  let received = 0;
  let truncated = false;
  for await (const chunk of body) {
    received += chunk.length;
    const take = chunk.subarray(0, Math.max(0, max - kept));
    if (take.length) chunks.push(take);
    kept += take.length;
    if (take.length < chunk.length) {
      truncated = true;
      // Stop reading: the rest of a large body tells us nothing more.
      break;
    }
  }
  return { buf: Buffer.concat(chunks), truncated, received };
}

/**
 * Reads a body, decoding its Content-Encoding, and keeps at most `max` bytes
 * of what it decodes to. Decoding stops as soon as the limit is passed, so
 * memory stays near the limit whatever the body expands to; compressed input
 * is read up to the limit plus 64 KiB past the point where decoding stops
 * producing. Errors of the body stream itself (the connection dropped) are
 * thrown; decoding errors are reported in the result.
 */
export async function readBody(body: Body, contentEncoding: string, max: number): Promise<BodyRead> {
  const codings = parseCodings(contentEncoding);
  if (!codings.length) {
    const raw = await readRaw(body, max);
    return { buf: raw.buf, truncated: raw.truncated, size: raw.received, received: raw.received };
  }
  if (!codings.every(known)) {
    const raw = await readRaw(body, max);
    return {
      buf: raw.buf,
      truncated: raw.truncated,
      size: raw.received,
      received: raw.received,
      unknownCodings: codings.filter((c) => !known(c)),
    };
  }

  const out: Buffer[] = [];
  let kept = 0;
  let size = 0;
  let truncated = false;
  let full = false;
  let failed: Error | undefined;
  // The body as received, bounded, in case it does not decode.
  const rawKept: Buffer[] = [];
  let rawKeptLen = 0;
  let received = 0;
  // Compressed bytes the first decoder had taken in when output last came out.
  let consumedAtLastOutput = 0;
  const consumed = () => (chain[0] as unknown as zlib.Zlib | undefined)?.bytesWritten ?? 0;
  let chain: Transform[] = [];
  let settle: () => void = () => {};
  const stopped = new Promise<void>((resolve) => (settle = resolve));

  const stopAll = () => {
    for (const d of chain) d.destroy();
    // Past the limit, or failed after decoding some: the rest is not read (a
    // body that never ends is not waited for).
    if (full || (failed && size > 0)) body.destroy?.();
    settle();
  };
  const build = (first: Buffer) => {
    // The last coding applied is undone first.
    chain = [...codings].reverse().map((c, i) => decoderFor(c, i === 0 ? first : undefined));
    for (let i = 0; i + 1 < chain.length; i++) chain[i].pipe(chain[i + 1]);
    for (const d of chain)
      d.on('error', (e: Error) => {
        failed ??= e;
        stopAll();
      });
    const last = chain[chain.length - 1];
    last.on('data', (chunk: Buffer) => {
      if (full) return;
      size += chunk.length;
      consumedAtLastOutput = consumed();
      const take = chunk.subarray(0, Math.max(0, max - kept));
      if (take.length) out.push(take);
      kept += take.length;
      if (take.length < chunk.length) {
        truncated = full = true;
        stopAll();
      }
    });
    last.on('end', settle);
    last.on('close', settle);
  };

  let rawTruncated = false;
  let compressedCut = false;
  let bodyError: unknown;
  try {
    for await (const chunk of body) {
      received += chunk.length;
      const take = chunk.subarray(0, Math.max(0, max - rawKeptLen));
      if (take.length) rawKept.push(take);
      rawKeptLen += take.length;
      if (take.length < chunk.length) rawTruncated = true;
      if (full || (failed && size > 0)) break;
      // Nothing decoded: go on keeping the body as received, up to the limit.
      if (failed) {
        if (rawTruncated) break;
        continue;
      }
      if (!chain.length) build(chunk);
      // Compressed bytes that decode to nothing more: do not read them forever.
      // (Counted as the decoder takes them in: its output may lag what was read.)
      if (consumed() - consumedAtLastOutput > max + 64 * 1024) {
        truncated = compressedCut = true;
        break;
      }
      if (!chain[0].write(chunk))
        await new Promise<void>((resolve) => {
          const done = () => {
            chain[0].off('drain', done);
            chain[0].off('close', done);
            resolve();
          };
          chain[0].once('drain', done);
          chain[0].once('close', done);
          void stopped.then(done);
        });
    }
  } catch (e) {
    // Destroying the body ourselves (at the limit) is no error.
    if (!full && !failed) bodyError = e;
  }
  body.destroy?.();
  if (bodyError) {
    stopAll();
    throw bodyError;
  }
  if (chain.length && !full && !failed) {
    chain[0].end();
    await stopped;
  } else stopAll();

  if (failed && size === 0)
    // Nothing decoded: the body as received, bounded like any other.
    return {
      buf: Buffer.concat(rawKept),
      truncated: rawTruncated,
      size: received,
      received,
      decodeError: failed.message,
      decodedBeforeError: 0,
    };
  return {
    buf: Buffer.concat(out),
    truncated: truncated || Boolean(failed),
    size,
    received,
    decoded: codings,
    ...(compressedCut ? { compressedCut } : {}),
    ...(failed ? { decodeError: failed.message, decodedBeforeError: size } : {}),
  };
}

/** A line for the report about what happened to the body, or undefined when it was kept whole. */
export function bodyNote(read: BodyRead, max: number, encoding: string): string | undefined {
  const kb = (n: number) => (n >= 1024 ? `${Math.round((n / 1024) * 10) / 10} KB` : `${n} bytes`);
  if (read.unknownCodings?.length)
    return `The body's Content-Encoding (${encoding.trim()}) is not one check decodes (${KNOWN_CODINGS.filter((c) => c !== 'x-gzip').join(', ')}): it is kept as received${read.truncated ? `, cut at ${max} bytes (--max-body)` : ''}.`;
  if (read.decodeError && !read.decodedBeforeError)
    return `The body says Content-Encoding: ${encoding.trim()} but does not decode (${read.decodeError}): it is kept as received${read.truncated ? `, cut at ${max} bytes (--max-body)` : ''}.`;
  if (read.decodeError)
    return `The body (Content-Encoding: ${encoding.trim()}) decoded to ${kb(read.decodedBeforeError ?? 0)} and then failed (${read.decodeError}): the decoded part is kept.`;
  if (!read.truncated) return undefined;
  if (read.compressedCut)
    return `The body was cut: ${kb(read.received)} of it (Content-Encoding: ${encoding.trim()}) was read without decoding to more than ${kb(read.size)}; reading stopped there (--max-body ${max}).`;
  if (read.decoded?.length)
    return `The body was cut: it decodes (Content-Encoding: ${encoding.trim()}) to more than the ${max} bytes kept (--max-body; ${kb(read.received)} of it was read compressed). Decoding stopped there.`;
  return `The body was cut: only its first ${max} bytes were kept (--max-body).`;
}
