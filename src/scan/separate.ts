// Which fields of the records tell the forbidden ones from the allowed ones:
// "all 214 forbidden records have department = HR; none of the allowed do".
// That is the record- or field-level restriction the troubleshooting guides
// ask you to find by hand. Memory stays bounded: a field with many distinct
// values (a name, an id, a timestamp) separates nothing and is dropped.

export interface Separation {
  field: string;
  /** The values the forbidden records have (for an exact separation), or the one value that mostly separates. */
  values: string[];
  /** Forbidden records with one of those values, of all forbidden records with fields. */
  forbidden: number;
  forbiddenTotal: number;
  /** Allowed records with one of those values, of all allowed records with fields. */
  allowed: number;
  allowedTotal: number;
  /** True when the values hold for every forbidden record and no allowed one. */
  exact: boolean;
  statement: string;
}

const MAX_VALUES = 50;
const MAX_FIELDS = 200;
const MAX_EXACT_VALUES = 5;
const ABSENT = '(absent)';

type Counts = Map<string, [denied: number, allowed: number]>;

const show = (v: string) =>
  v === ABSENT
    ? 'no value'
    : JSON.stringify(v).length === v.length + 2 && /^[\w .@-]+$/.test(v)
      ? v
      : JSON.stringify(v);

export class FieldSeparator {
  private fields = new Map<string, Counts | null>();
  private denied = 0;
  private allowed = 0;

  add(fieldsJson: string | null, denied: boolean): void {
    if (!fieldsJson) return;
    let fields: Record<string, unknown>;
    try {
      fields = JSON.parse(fieldsJson) as Record<string, unknown>;
    } catch {
      return;
    }
    if (denied) this.denied++;
    else this.allowed++;
    for (const name of Object.keys(fields))
      if (!this.fields.has(name) && this.fields.size < MAX_FIELDS) this.fields.set(name, new Map());
    for (const [name, counts] of this.fields) {
      if (!counts) continue;
      const raw = fields[name];
      const value = raw === undefined || raw === null || raw === '' ? ABSENT : String(raw);
      let c = counts.get(value);
      if (!c) {
        if (counts.size >= MAX_VALUES) {
          this.fields.set(name, null);
          continue;
        }
        c = [0, 0];
        counts.set(value, c);
      }
      c[denied ? 0 : 1]++;
    }
  }

  result(limit = 5): Separation[] {
    const total = this.denied + this.allowed;
    if (!this.denied || !this.allowed) return [];
    const out: (Separation & { score: number })[] = [];
    for (const [field, counts] of this.fields) {
      // Fields that hold a different value for almost every record are identifiers, not categories.
      if (!counts || counts.size > Math.max(2, total / 2)) continue;
      const deniedValues = [...counts].filter(([, c]) => c[0] > 0);
      const allowedAmongThem = deniedValues.reduce((n, [, c]) => n + c[1], 0);
      if (allowedAmongThem === 0 && deniedValues.length <= MAX_EXACT_VALUES && this.denied >= 2 * deniedValues.length) {
        const values = deniedValues.map(([v]) => v).sort();
        const what =
          values.length === 1 ? `${field} = ${show(values[0])}` : `${field} in {${values.map(show).join(', ')}}`;
        out.push({
          field,
          values,
          forbidden: this.denied,
          forbiddenTotal: this.denied,
          allowed: 0,
          allowedTotal: this.allowed,
          exact: true,
          statement: `all ${this.denied} forbidden records have ${what}; none of the ${this.allowed} allowed records do`,
          score: 2 - values.length / 10,
        });
        continue;
      }
      // Otherwise the one value that best tells them apart, if it tells them apart well.
      let best: { v: string; d: number; a: number; score: number } | undefined;
      for (const [v, [d, a]] of counts) {
        const score = d / this.denied - a / this.allowed;
        if (!best || score > best.score) best = { v, d, a, score };
      }
      if (best && best.d / this.denied >= 0.8 && best.a / this.allowed <= 0.1)
        out.push({
          field,
          values: [best.v],
          forbidden: best.d,
          forbiddenTotal: this.denied,
          allowed: best.a,
          allowedTotal: this.allowed,
          exact: false,
          statement: `${best.d} of ${this.denied} forbidden records have ${field} = ${show(best.v)}, against ${best.a} of ${this.allowed} allowed records`,
          score: best.score,
        });
    }
    return out
      .sort((x, y) => y.score - x.score || x.field.localeCompare(y.field))
      .slice(0, limit)
      .map(({ score: _s, ...s }) => s);
  }
}
