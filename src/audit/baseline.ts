// --baseline: an earlier run's --json, compared cell by cell with this one,
// so that CI reports only what changed: a cell newly open (denied before,
// allowed now) or newly denied (allowed before, denied now), and any other
// change of verdict. Cells are matched by operation id and identity name.
import { readBoundedFile } from './read-file.ts';
import { InputError } from '../errors.ts';
import { AUDIT_SCHEMA, type AuditCell, type AuditResult, type BaselineChange, type Verdict } from './model.ts';

const DENY_LIKE: ReadonlySet<Verdict> = new Set(['denied', 'denied-by-body', 'hidden']);

/** A baseline is one earlier result; a larger file is not one. */
const MAX_BASELINE = 256 * 1024 * 1024;

export async function readBaseline(path: string): Promise<Pick<AuditResult, 'cells'>> {
  const text = (
    await readBoundedFile(path, MAX_BASELINE, () => new InputError(path, `is larger than ${MAX_BASELINE} bytes`))
  ).toString('utf8');
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new InputError(path, `is not JSON; a baseline is the output of why403 audit --json`);
  }
  const d = doc as Partial<AuditResult> | null;
  if (!d || d.schema !== AUDIT_SCHEMA || !Array.isArray(d.cells))
    throw new InputError(path, `is not a ${AUDIT_SCHEMA} result; a baseline is the output of why403 audit --json`);
  // Each cell is read for its operation, identity and verdict: checked here, before anything is sent.
  const bad = d.cells.findIndex(
    (c: unknown) =>
      !c ||
      typeof c !== 'object' ||
      typeof (c as AuditCell).operation !== 'string' ||
      typeof (c as AuditCell).identity !== 'string' ||
      typeof (c as AuditCell).verdict !== 'string',
  );
  if (bad >= 0)
    throw new InputError(
      path,
      `cells[${bad}]: expected an object with operation, identity and verdict (why403 audit --json)`,
    );
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
