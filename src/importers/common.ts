// Small pieces every text importer needs to finish an exchange the same way.
import type { ExchangeRequest, NameValue } from '../model/exchange.ts';
import { headerValues } from '../model/exchange.ts';
import { printable } from '../errors.ts';

/** Cookie header(s) split into name/value pairs; a pair without "=" is kept with an empty value. */
export function cookiesFromHeaders(headers: NameValue[]): NameValue[] {
  const out: NameValue[] = [];
  for (const line of headerValues(headers, 'cookie')) {
    for (const part of line.split(';')) {
      const p = part.trim();
      if (!p) continue;
      const eq = p.indexOf('=');
      out.push(eq < 0 ? { name: '', value: p } : { name: p.slice(0, eq).trim(), value: p.slice(eq + 1).trim() });
    }
  }
  return out;
}

export function queryFromUrl(url: string): NameValue[] {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return [];
  }
  return [...u.searchParams].map(([name, value]) => ({ name, value }));
}

/** Fills what HAR carries beside the headers (cookies, queryString) when the input did not. */
export function completeRequest(req: ExchangeRequest): ExchangeRequest {
  if (!req.cookies) {
    const cookies = cookiesFromHeaders(req.headers);
    if (cookies.length) req.cookies = cookies;
  }
  if (!req.queryString) {
    const q = queryFromUrl(req.url);
    if (q.length) req.queryString = q;
  }
  return req;
}

/** A fragment of the input to quote in a message: one line, control characters escaped, at most `max` characters. */
export function clip(s: string, max = 60): string {
  const one = printable(s.replace(/\r?\n/g, '\n'));
  return one.length > max ? `${one.slice(0, max - 1)}…` : one;
}

/**
 * Why a file could not be read, for an InputError. With `permission`, EACCES and
 * EPERM read "permission denied"; without, they are named by their code.
 */
export function unreadable(err: unknown, opts: { permission?: boolean } = {}): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EISDIR') return 'is a directory, expected a file';
  if (opts.permission && (code === 'EACCES' || code === 'EPERM')) return 'permission denied';
  return `cannot be read (${code ?? (err as Error).message})`;
}
