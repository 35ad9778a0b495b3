// --baseline: an earlier run's --json, compared cell by cell with this one,
// so that CI reports only what changed: a cell newly open (denied before,
// allowed now) or newly denied (allowed before, denied now), and any other
// change of verdict. Cells are matched by operation id and identity name.
import { readFile } from 'node:fs/promises';
import { InputError } from '../errors.ts';
import { unreadable } from '../importers/common.ts';
import { AUDIT_SCHEMA, type AuditResult, type BaselineChange, type Verdict } from './model.ts';

const DENY_LIKE: ReadonlySet<Verdict> = new Set(['denied', 'denied-by-body', 'hidden']);

/** A baseline is one earlier result; a larger file is not one. */
const MAX_BASELINE = 256 * 1024 * 1024;

export async function readBaseline(path: string): Promise<Pick<AuditResult, 'cells'>> {
  let text: string;
  try {
    const buf = await readFile(path);
    if (buf.length > MAX_BASELINE) throw new InputError(path, `is larger than ${MAX_BASELINE} bytes`);
    text = buf.toString('utf8');
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError(path, unreadable(err), { cause: err });
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new InputError(path, `is not JSON; a baseline is the output of why403 audit --json`);
  }
  const d = doc as Partial<AuditResult> | null;
  if (!d || d.schema !== AUDIT_SCHEMA || !Array.isArray(d.cells))
    throw new InputError(path, `is not a ${AUDIT_SCHEMA} result; a baseline is the output of why403 audit --json`);
  return { cells: d.cells };
}

export function compareWithBaseline(
  before: Pick<AuditResult, 'cells'>,
  after: Pick<AuditResult, 'cells'>,
): BaselineChange[] {
  const key = (c: { operation: string; identity: string }) => `${c.operation}\n${c.identity}`;
  const earlier = new Map<string, Verdict>();
  for (const c of before.cells) earlier.set(key(c), c.verdict);
  const changes: BaselineChange[] = [];
  for (const c of after.cells) {
    const was = earlier.get(key(c));
    if (was === undefined || was === c.verdict || c.verdict === 'skipped' || was === 'skipped') continue;
    const change =
      DENY_LIKE.has(was) && c.verdict === 'allowed'
        ? 'newly-open'
        : was === 'allowed' && DENY_LIKE.has(c.verdict)
          ? 'newly-denied'
          : 'other';
    changes.push({ operation: c.operation, identity: c.identity, before: was, after: c.verdict, change });
  }
  return changes;
}
