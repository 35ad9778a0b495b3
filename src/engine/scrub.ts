// The last line of defence for "secrets never appear in output": every
// secret value the request carried is collected here, and any occurrence of
// one anywhere in a finished report is replaced by its redacted form —
// whatever a rule or an importer put in an evidence line or a note.
import type { Exchange } from '../model/exchange.ts';
import { isSecretHeader, isSecretParam, redactSecret } from '../credentials/redact.ts';

export { redactUrl } from '../credentials/redact.ts';

/** The secret strings a request carries (token parts, cookie values, signed params). */
export function secretsOf(exchange: Exchange): string[] {
  const out = new Set<string>();
  const add = (v: string | undefined) => {
    if (v && v.length >= 6) out.add(v);
  };
  const req = exchange.request;
  if (!req) return [];
  for (const h of req.headers) {
    if (!isSecretHeader(h.name)) continue;
    const name = h.name.toLowerCase();
    if (name === 'cookie') {
      for (const part of h.value.split(';')) add(part.split('=').slice(1).join('=').trim());
    } else if (name === 'authorization' || name === 'proxy-authorization') {
      const m = /^\s*(\S+)\s(.+)$/.exec(h.value);
      add(m ? m[2].trim() : h.value.trim());
      if (m) for (const kv of m[2].split(',')) add(/Signature=([^,\s]+)/i.exec(kv)?.[1]);
      if (m && /^basic$/i.test(m[1])) {
        try {
          const decoded = Buffer.from(m[2].trim(), 'base64').toString('utf8');
          add(decoded.slice(decoded.indexOf(':') + 1));
        } catch {
          /* not base64 */
        }
      }
    } else add(h.value.trim());
  }
  for (const c of req.cookies ?? []) add(c.value);
  try {
    const url = new URL(req.url);
    for (const [k, v] of url.searchParams) if (isSecretParam(k, v)) add(v);
  } catch {
    /* not a URL */
  }
  for (const q of req.queryString ?? []) if (isSecretParam(q.name, q.value)) add(q.value);
  return [...out].sort((a, b) => b.length - a.length);
}

/** Deep-copies `value`, replacing every occurrence of every secret. */
export function scrub<T>(value: T, secrets: string[]): T {
  if (!secrets.length) return value;
  const encodedForms = secrets.flatMap((s) => {
    const enc = encodeURIComponent(s);
    return enc !== s
      ? [
          [s, redactSecret(s)],
          [enc, redactSecret(s)],
        ]
      : [[s, redactSecret(s)]];
  });
  const fix = (s: string) => {
    let out = s;
    for (const [secret, red] of encodedForms) if (out.includes(secret)) out = out.split(secret).join(red);
    return out;
  };
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return fix(v);
    if (Array.isArray(v)) return v.map(walk);
    // fromEntries, not assignment: a key "__proto__" (a JWT claim can be named so) stays a key.
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk(value) as T;
}
