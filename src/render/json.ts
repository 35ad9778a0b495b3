// JSON output: exactly the report objects (schema why403/report@1).
import type { Report } from '../model/report.ts';

export const renderJson = (reports: Report[]): string =>
  JSON.stringify(reports.length === 1 ? reports[0] : reports, null, 2) + '\n';
export const renderJsonLine = (report: Report): string => JSON.stringify(report) + '\n';
