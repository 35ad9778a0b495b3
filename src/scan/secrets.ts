// The scan's secrets: every credential its requests carry must stay out of
// the state file, the outcome log and an --out file, however a server echoes
// it. A stored next-page URL keeps a mark in a secret's place, which --resume
// turns back into the secret once the user has given it again.
import { createHash } from 'node:crypto';
import type { Exchange } from '../model/exchange.ts';
import { scrub, secretsOf } from '../engine/scrub.ts';
import { recordUrl, type ScanSettings } from './config.ts';
import type { Fetched } from './fetch.ts';

/**
 * Every secret the scan's requests carry (what the redactor counts as one:
 * credential headers, cookies, secret query parameters), and the password
 * of a URL's user-info, longest first.
 */
export function scanSecrets(s: Pick<ScanSettings, 'method' | 'template' | 'headers' | 'source'>): string[] {
  const all = new Set<string>();
  for (const url of [recordUrl(s.template, 'x'), ...(s.source.kind === 'list' ? [s.source.url] : [])]) {
    for (const x of secretsOf({ request: { method: s.method, url, headers: s.headers } } as Exchange)) all.add(x);
    try {
      const password = decodeURIComponent(new URL(url).password);
      if (password.length >= 6) all.add(password);
    } catch {
      /* not a URL, or a password that is not percent-encoding */
    }
  }
  return [...all].sort((a, b) => b.length - a.length);
}

const secretMark = (secret: string, encoded: boolean) =>
  `{why403-secret${encoded ? '-encoded' : ''}:${createHash('sha256').update(secret).digest('hex').slice(0, 16)}}`;

/**
 * A URL to store (the list's next page) with each secret replaced by a mark
 * that `unhideSecrets` turns back into it, on --resume, once the user has
 * given the secrets again.
 */
export function hideSecrets(url: string, secrets: string[]): string {
  for (const secret of secrets)
    for (const [form, encoded] of [
      [secret, false],
      [encodeURIComponent(secret), true],
    ] as const)
      if (url.includes(form)) url = url.split(form).join(secretMark(secret, encoded));
  return url;
}

export function unhideSecrets(url: string, secrets: string[]): string {
  if (!url.includes('{why403-secret')) return url;
  for (const secret of secrets)
    url = url
      .split(secretMark(secret, false))
      .join(secret)
      .split(secretMark(secret, true))
      .join(encodeURIComponent(secret));
  return url;
}

/** Cleans what the scan writes to disk of the scan's secrets (see `scanSecrets`). */
export class Scrubber {
  readonly secrets: string[];
  /** The secrets and their URL-encoded forms, as looked for in record fields. */
  private readonly forms: string[];

  constructor(settings: Pick<ScanSettings, 'method' | 'template' | 'headers' | 'source'>) {
    this.secrets = scanSecrets(settings);
    this.forms = [...new Set(this.secrets.flatMap((x) => [x, encodeURIComponent(x)]))];
  }

  /** A string on its way to disk, without the request's secrets. */
  clean(text: string): string {
    return this.secrets.length ? scrub(text, this.secrets) : text;
  }

  /** A denial's answer with the secrets it echoes scrubbed from its body: what its shape and diagnosis are made of. */
  cleanAnswer(r: Fetched): Fetched {
    const text = r.body?.text;
    if (!text || !this.secrets.length) return r;
    const cleaned = this.clean(text);
    return cleaned === text ? r : { ...r, body: { ...r.body!, text: cleaned } };
  }

  /** Record fields from the source, scrubbed of any secret they hold (rare: the test is a substring search). */
  cleanRows<T extends { fields?: string }>(rows: T[]): T[] {
    if (!this.secrets.length) return rows;
    const forms = this.forms;
    for (const r of rows) if (r.fields && forms.some((x) => r.fields!.includes(x))) r.fields = this.clean(r.fields);
    return rows;
  }
}
