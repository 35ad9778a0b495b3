// Which fields of the records tell the forbidden ones from the allowed ones:
// "all 214 forbidden records have department = HR; none of the allowed do".
// That is the record- or field-level restriction the troubleshooting guides
// ask you to find by hand. Each denial signature is separated on its own:
// two rules refusing different records in one scan each get their own
// fields. Memory stays bounded: a field with many distinct values (a name,
// an id, a timestamp) separates nothing and is dropped, and only the
// signatures the caller names (the largest few) are counted apart.

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
  /** The denial signature whose records this separates from the allowed ones, when it is one signature's. */
  signature?: string;
}

const MAX_VALUES = 50;
const MAX_FIELDS = 200;
const MAX_EXACT_VALUES = 5;
const ABSENT = '(absent)';

/** Records with one value of a field: forbidden (all signatures), allowed, and forbidden by each signature followed. */
interface ValueCounts {
  denied: number;
  allowed: number;
  bySignature?: Map<string, number>;
}
type Counts = Map<string, ValueCounts>;

const show = (v: string) =>
  v === ABSENT
    ? 'no value'
    : JSON.stringify(v).length === v.length + 2 && /^[\w .@-]+$/.test(v)
      ? v
      : JSON.stringify(v);

/**
 * Counts, field by field, the values of the forbidden and the allowed
 * records. Given the signatures to follow, it also counts each one's
 * records apart, so that two rules refusing different records in one scan
 * are each separated from the allowed records on their own (`resultFor`),
 * instead of blurring each other in one comparison of all the forbidden
 * records (`result`).
 */
export class FieldSeparator {
  private fields = new Map<string, Counts | null>();
  private denied = 0;
  private allowed = 0;
  private readonly deniedBySignature = new Map<string, number>();
  private readonly followed: ReadonlySet<string>;

  /** `signatures`: the denial signatures to separate one by one (bounded by the caller). */
  constructor(signatures: Iterable<string> = []) {
    this.followed = new Set(signatures);
  }

  add(fieldsJson: string | null, denied: boolean, signature?: string | null): void {
    if (!fieldsJson) return;
    let fields: Record<string, unknown>;
    try {
      fields = JSON.parse(fieldsJson) as Record<string, unknown>;
    } catch {
      return;
    }
    const sig = denied && signature && this.followed.has(signature) ? signature : undefined;
    if (denied) this.denied++;
    else this.allowed++;
    if (sig) this.deniedBySignature.set(sig, (this.deniedBySignature.get(sig) ?? 0) + 1);
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
        c = { denied: 0, allowed: 0 };
        counts.set(value, c);
      }
      if (!denied) c.allowed++;
      else {
        c.denied++;
        if (sig) (c.bySignature ??= new Map()).set(sig, (c.bySignature.get(sig) ?? 0) + 1);
      }
    }
  }

  /** What separates every forbidden record (whatever its signature) from the allowed ones. */
  result(limit = 5): Separation[] {
    return this.separate((c) => c.denied, this.denied, 'forbidden records', undefined, limit);
  }

  /**
   * What separates the records of one signature from the allowed ones (the
   * other signatures' records are left out of the comparison). `label`
   * names those records in the statements, e.g. "records refused with [key]".
   */
  resultFor(signature: string, label: string, limit = 5): Separation[] {
    const denied = this.deniedBySignature.get(signature) ?? 0;
    return this.separate((c) => c.bySignature?.get(signature) ?? 0, denied, label, signature, limit);
  }

  /** Forbidden records with fields, all of them or one signature's. */
  deniedCount(signature?: string): number {
    return signature === undefined ? this.denied : (this.deniedBySignature.get(signature) ?? 0);
  }

  private separate(
    deniedOf: (c: ValueCounts) => number,
    deniedTotal: number,
    label: string,
    signature: string | undefined,
    limit: number,
  ): Separation[] {
    // Every record the fields were counted over: whether a field names each record apart depends on them all.
    const total = this.denied + this.allowed;
    if (!deniedTotal || !this.allowed) return [];
    const sig = signature === undefined ? {} : { signature };
    const out: (Separation & { score: number })[] = [];
    for (const [field, counts] of this.fields) {
      // Fields that hold a different value for almost every record are identifiers, not categories.
      if (!counts || counts.size > Math.max(2, total / 2)) continue;
      const deniedValues = [...counts].filter(([, c]) => deniedOf(c) > 0);
      const allowedAmongThem = deniedValues.reduce((n, [, c]) => n + c.allowed, 0);
      if (allowedAmongThem === 0 && deniedValues.length <= MAX_EXACT_VALUES && deniedTotal >= 2 * deniedValues.length) {
        const values = deniedValues.map(([v]) => v).sort();
        const what =
          values.length === 1 ? `${field} = ${show(values[0])}` : `${field} in {${values.map(show).join(', ')}}`;
        out.push({
          field,
          values,
          forbidden: deniedTotal,
          forbiddenTotal: deniedTotal,
          allowed: 0,
          allowedTotal: this.allowed,
          exact: true,
          statement: `all ${deniedTotal} ${label} have ${what}; none of the ${this.allowed} allowed records do`,
          ...sig,
          score: 2 - values.length / 10,
        });
        continue;
      }
      // Otherwise the one value that best tells them apart, if it tells them apart well.
      let best: { v: string; d: number; a: number; score: number } | undefined;
      for (const [v, c] of counts) {
        const d = deniedOf(c);
        const score = d / deniedTotal - c.allowed / this.allowed;
        if (!best || score > best.score) best = { v, d, a: c.allowed, score };
      }
      if (best && best.d / deniedTotal >= 0.8 && best.a / this.allowed <= 0.1)
        out.push({
          field,
          values: [best.v],
          forbidden: best.d,
          forbiddenTotal: deniedTotal,
          allowed: best.a,
          allowedTotal: this.allowed,
          exact: false,
          statement: `${best.d} of ${deniedTotal} ${label} have ${field} = ${show(best.v)}, against ${best.a} of ${this.allowed} allowed records`,
          ...sig,
          score: best.score,
        });
    }
    return out
      .sort((x, y) => y.score - x.score || x.field.localeCompare(y.field))
      .slice(0, limit)
      .map(({ score: _s, ...s }) => s);
  }
}
