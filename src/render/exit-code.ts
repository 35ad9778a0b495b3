// Exit codes: 0 allowed (or nothing denied), 1 denied and diagnosed,
// 2 usage or input error, 3 network failure (errors carry their own code).
import type { Report } from '../model/report.ts';

export function exitCodeFor(reports: Report[]): 0 | 1 {
  return reports.some((r) => r.outcome === 'denied' || r.outcome === 'unauthenticated') ? 1 : 0;
}
