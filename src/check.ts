// `check` as a library call: send the user's request once, then diagnose the
// answer. Probes (a later stage) plug in through `probe`: they receive the
// first report and exchange and return results that become evidence.
import type { Exchange, ExchangeRequest } from './model/exchange.ts';
import type { ProbeResult, Report } from './model/report.ts';
import { sendRequest, type SendOptions } from './live/send.ts';
import { diagnose, type DiagnoseOptions } from './engine/diagnose.ts';
import { UsageError } from './errors.ts';

export const SAFE_METHODS = ['GET', 'HEAD', 'OPTIONS'];

export interface CheckOptions extends SendOptions, Omit<DiagnoseOptions, 'probes'> {
  /** Send a method other than GET, HEAD or OPTIONS (design.md section 4). */
  allowUnsafe?: boolean;
  /** The seam for differential probes: called after the first diagnosis. */
  probe?: (first: Report, exchange: Exchange) => Promise<ProbeResult[]>;
}

export function assertSendable(req: ExchangeRequest, allowUnsafe: boolean | undefined): void {
  const method = req.method.toUpperCase();
  if (!SAFE_METHODS.includes(method) && !allowUnsafe)
    throw new UsageError(`refusing to send ${method} ${req.url}: it may change data on the server. Add --allow-unsafe to send it once, or --dry-run to see the request without sending it`);
}

export async function checkRequest(req: ExchangeRequest, opts: CheckOptions = {}): Promise<Report> {
  assertSendable(req, opts.allowUnsafe);
  const exchange = await sendRequest(req, opts);
  const first = await diagnose(exchange, opts);
  if (!opts.probe) return first;
  const probes = await opts.probe(first, exchange);
  return diagnose(exchange, { ...opts, probes });
}
