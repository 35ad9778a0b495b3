// The state one inspection accumulates: the clock it judges by, the items
// found and the findings about them. Every credential text passes through
// `secret()` so that redaction is decided in one place.
import type { CredentialFinding, CredentialItem } from '../model/credential.ts';
import type { SourceKind } from '../model/exchange.ts';
import type { Clock, TimeWindow } from './clock.ts';
import { iso, judgeWindow } from './clock.ts';
import { redactSecret } from './redact.ts';

export interface Collector {
  clock: Clock;
  showSecrets: boolean;
  items: CredentialItem[];
  findings: CredentialFinding[];
  /** What the exchange was imported from; a shared curl command keeps placeholders on purpose. */
  source?: SourceKind;
}

export function newCollector(clock: Clock, showSecrets = false, source?: SourceKind): Collector {
  return { clock, showSecrets, items: [], findings: [], ...(source ? { source } : {}) };
}

export function secret(c: Collector, value: string, keep = 6): string {
  return c.showSecrets ? value : redactSecret(value, keep);
}

export function addFinding(c: Collector, f: CredentialFinding): void {
  if (c.findings.some((x) => x.id === f.id && x.source === f.source && x.text === f.text)) return;
  c.findings.push({ ...f, weight: Math.max(0, Math.min(1, Math.round(f.weight * 100) / 100)) });
}

export function addItem(c: Collector, item: CredentialItem): CredentialItem {
  c.items.push(item);
  return item;
}

/** Fills the item's window fields and judges the window by the clock. */
export function judge(c: Collector, item: CredentialItem, w: TimeWindow, issuedAt?: Date): void {
  // A date no Date can hold (an Expires of twenty digits) is no bound at all; iso() would throw on it.
  const valid = (d: Date | undefined) => (d && !Number.isNaN(d.getTime()) ? d : undefined);
  w = { ...w, notBefore: valid(w.notBefore), expiresAt: valid(w.expiresAt) };
  issuedAt = valid(issuedAt);
  if (w.notBefore) item.notBefore = iso(w.notBefore);
  if (w.expiresAt) item.expiresAt = iso(w.expiresAt);
  if (issuedAt) item.issuedAt = iso(issuedAt);
  for (const f of judgeWindow(w, c.clock)) addFinding(c, f);
}

/** Where the value starts to differ from clean text, for a one-line pointer ("line break at character 812"). */
export function describeWhitespace(s: string): string | undefined {
  const m = /[\r\n\t ]/.exec(s);
  if (!m) return undefined;
  const name =
    m[0] === '\r' ? 'carriage return (\\r)' : m[0] === '\n' ? 'line break (\\n)' : m[0] === '\t' ? 'tab' : 'space';
  return `${name} at character ${m.index + 1} of ${s.length}`;
}

/** Flags a token that whitespace split or wrapped when it was copied. */
export function flagWhitespace(c: Collector, token: string, source: string): void {
  const gap = describeWhitespace(token);
  if (gap)
    addFinding(c, {
      id: 'token-whitespace',
      cause: 'credential-malformed',
      weight: 0.8,
      text: `The token contains a ${gap}: it was split or wrapped when copied.`,
      source,
    });
}
