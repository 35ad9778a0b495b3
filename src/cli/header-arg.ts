import { UsageError } from '../errors.ts';
import type { NameValue } from '../model/exchange.ts';

/**
 * A `-H 'Name: value'` argument. A malformed one is often a credential typed
 * without its header name, so the error shows only its first characters.
 */
export function parseHeaderArg(h: string): NameValue {
  const i = h.indexOf(':');
  if (i <= 0) throw new UsageError(`-H "${h.length > 12 ? `${h.slice(0, 12)}…` : h}": expected 'Name: value'`);
  return { name: h.slice(0, i).trim(), value: h.slice(i + 1).trim() };
}
