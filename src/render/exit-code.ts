// The exit code for a list of reports (kept for library callers): 0 nothing
// denied, 1 denied and diagnosed. Every command's code, errors and scans
// included, comes from the one function in src/cli/exit-code.ts.
import type { Report } from '../model/report.ts';
import { exitCode } from '../cli/exit-code.ts';

export function exitCodeFor(reports: Report[]): 0 | 1 {
  return exitCode({ kind: 'reports', reports }) === 1 ? 1 : 0;
}
