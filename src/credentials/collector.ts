// The state one inspection accumulates: the clock it reads windows by, the
// items found and what was observed about them; the rules judge what the
// observations mean. Every credential text passes through `secret()` so that
// redaction is decided in one place.
import type { CredentialItem, CredentialObservation } from '../model/credential.ts';
import type { SourceKind } from '../model/exchange.ts';
import type { Clock, TimeWindow } from './clock.ts';
import { iso, windowObservations } from './clock.ts';
import { redactSecret } from './redact.ts';

export interface Collector {
  clock: Clock;
  showSecrets: boolean;
  items: CredentialItem[];
  observations: CredentialObservation[];
  /** What the exchange was imported from; a shared curl command keeps placeholders on purpose. */
  source?: SourceKind;
}

export function newCollector(clock: Clock, showSecrets = false, source?: SourceKind): Collector {
  return { clock, showSecrets, items: [], observations: [], ...(source ? { source } : {}) };
}

export function secret(c: Collector, value: string, keep = 6): string {
  return c.showSecrets ? value : redactSecret(value, keep);
}

/** Records what was seen, once; its id is its kind unless it names which credential (`jwt-expired`). */
export function observe(c: Collector, seen: Omit<CredentialObservation, 'id'> & { id?: string }): void {
  const o = { id: seen.kind, ...seen };
  if (c.observations.some((x) => x.id === o.id && x.source === o.source && x.text === o.text)) return;
  c.observations.push(o);
}

export function addItem(c: Collector, item: CredentialItem): CredentialItem {
  c.items.push(item);
  return item;
}

/** Fills the item's window fields and reads the window against the clock. */
export function observeWindow(c: Collector, item: CredentialItem, w: TimeWindow, issuedAt?: Date): void {
  // A date no Date can hold (an Expires of twenty digits) is no bound at all; iso() would throw on it.
  const valid = (d: Date | undefined) => (d && !Number.isNaN(d.getTime()) ? d : undefined);
  w = { ...w, notBefore: valid(w.notBefore), expiresAt: valid(w.expiresAt) };
  issuedAt = valid(issuedAt);
  if (w.notBefore) item.notBefore = iso(w.notBefore);
  if (w.expiresAt) item.expiresAt = iso(w.expiresAt);
  if (issuedAt) item.issuedAt = iso(issuedAt);
  for (const o of windowObservations(w, c.clock)) observe(c, o);
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
    observe(c, {
      kind: 'token-whitespace',
      text: `The token contains a ${gap}: it was split or wrapped when copied.`,
      source,
    });
}
