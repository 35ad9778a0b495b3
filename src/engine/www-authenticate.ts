// RFC 9110 section 11.6.1 challenges: `scheme [token68 | auth-param *( "," auth-param )]`,
// several challenges possibly folded into one header field, separated by commas.

import type { Challenge } from '../model/rule.ts';

export type { Challenge };

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+/;

export function parseWwwAuthenticate(values: string | string[]): Challenge[] {
  const list = Array.isArray(values) ? values : [values];
  const out: Challenge[] = [];
  for (const value of list) parseOne(value, out);
  return out;
}

function parseOne(input: string, out: Challenge[]): void {
  let s = input.trim();
  let current: Challenge | undefined;
  while (s.length) {
    s = s.replace(/^[\s,]+/, '');
    if (!s) break;
    const tok = TOKEN.exec(s);
    if (!tok) {
      s = s.slice(1);
      continue;
    }
    const word = tok[0];
    const rest = s.slice(word.length);
    const eq = /^\s*=\s*/.exec(rest);
    if (current && eq && !/^\s*=\s*(=|,|$)/.test(rest)) {
      // auth-param of the current challenge
      s = rest.slice(eq[0].length);
      let value: string;
      if (s.startsWith('"')) {
        let i = 1;
        value = '';
        while (i < s.length && s[i] !== '"') {
          if (s[i] === '\\' && i + 1 < s.length) i++;
          value += s[i];
          i++;
        }
        s = s.slice(i + 1);
      } else {
        const m = /^[^,\s]*/.exec(s)!;
        value = m[0];
        s = s.slice(value.length);
      }
      current.params[word.toLowerCase()] = value;
      continue;
    }
    // a new challenge: scheme, then token68 or params
    current = { scheme: word, params: {} };
    out.push(current);
    s = rest;
    const t68 = /^\s+([A-Za-z0-9\-._~+/]+=*)\s*(,|$)/.exec(s);
    if (t68 && !/^\s+[!#$%&'*+.^_`|~0-9A-Za-z-]+\s*=\s*[^=,\s]/.test(s)) {
      current.token68 = t68[1];
      s = s.slice(t68[0].length);
    }
  }
}
