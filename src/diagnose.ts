// The library's diagnose(): the engine with every rule this version knows.
import type { Exchange } from './model/exchange.ts';
import type { Report } from './model/report.ts';
import { diagnoseWith, type DiagnoseOptions } from './engine/diagnose.ts';
import { loadRules } from './rules/registry.ts';

export type { DiagnoseOptions };

export async function diagnose(exchange: Exchange, opts: DiagnoseOptions = {}): Promise<Report> {
  return diagnoseWith(await loadRules(), exchange, opts);
}
