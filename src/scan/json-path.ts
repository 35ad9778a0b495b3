// The few JSON paths a user names on the command line (--items data.rows,
// --next meta.next_cursor, --id employee.id, `_links.next.href`,
// `@odata.nextLink`): dotted keys with optional [n] indexes and a leading
// "$.". A full JSONPath engine would add filter expressions nobody needs
// here, and the common one evaluates scripts.

export type PathStep = string | number;

export function parsePath(path: string): PathStep[] {
  const p = path.trim().replace(/^\$\.?/, '');
  if (!p) return [];
  const steps: PathStep[] = [];
  for (const part of p.split('.')) {
    const m = /^([^[\]]*)((?:\[\d+\])*)$/.exec(part);
    if (!m) throw new Error(`"${path}": expected a dotted path such as data.items or items[0].id`);
    if (m[1]) steps.push(m[1]);
    for (const idx of m[2].matchAll(/\[(\d+)\]/g)) steps.push(Number(idx[1]));
  }
  return steps;
}

/**
 * Follows a path; a key that itself contains dots (`@odata.nextLink`) is
 * tried whole before it is split.
 */
export function getPath(value: unknown, path: string): unknown {
  if (value && typeof value === 'object' && !Array.isArray(value) && path in (value as object))
    return (value as Record<string, unknown>)[path];
  let cur: unknown = value;
  for (const step of parsePath(path)) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[step];
  }
  return cur;
}

/**
 * The scalar fields of a record with dotted names, nested objects included
 * (one level of arrays is joined), for comparing forbidden and allowed
 * records. Bounded: a record's long tail of fields tells us little.
 */
export function flattenFields(record: unknown, maxFields = 64): Record<string, string | number | boolean | null> {
  const out: Record<string, string | number | boolean | null> = {};
  let n = 0;
  const walk = (v: unknown, prefix: string, depth: number) => {
    if (n >= maxFields) return;
    if (v === null || typeof v !== 'object') {
      if (prefix) {
        out[prefix] =
          typeof v === 'string' && v.length > 200 ? v.slice(0, 200) : (v as string | number | boolean | null);
        n++;
      }
      return;
    }
    if (Array.isArray(v)) {
      if (prefix && v.every((x) => x === null || typeof x !== 'object')) {
        out[prefix] = v.map(String).sort().join(',').slice(0, 200);
        n++;
      }
      return;
    }
    if (depth > 3) return;
    for (const [k, x] of Object.entries(v)) walk(x, prefix ? `${prefix}.${k}` : k, depth + 1);
  };
  walk(record, '', 0);
  return out;
}
