// A credential given on its own (check's --as, --as-env, --as-cmd; an audit's
// identity from an environment variable or a command) as the header it is
// sent in.
import type { NameValue } from '../model/exchange.ts';

/** "Header: value" stays a header; a bare token becomes `Authorization: Bearer <token>`; "Basic …" keeps its scheme. */
export function identityHeader(value: string): NameValue {
  const v = value.trim();
  const m = /^([A-Za-z0-9-]+):\s*(\S.*)$/s.exec(v);
  if (m && !/^bearer$/i.test(m[1])) return { name: m[1], value: m[2].trim() };
  return {
    name: 'Authorization',
    value: /^(bearer|basic|token|digest|negotiate)\s/i.test(v) ? v : `Bearer ${v}`,
  };
}
