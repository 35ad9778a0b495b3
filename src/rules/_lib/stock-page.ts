// A web server's stock refusal page (nginx, Apache httpd, lighttpd): the
// server answers every refusal it makes itself with one built-in page, whether
// an access rule matched the path or the client's address, a method rule
// limited the request, the file was unreadable to the server's user, or a
// directory had no index. The page cannot tell them apart; only the request's
// shape ranks them, and the server's log or configuration names the reason.
import { ev, type Context, type Evidence, type MessageData, type Reporter } from '../define.ts';

/** The causes a web server's stock 401/403 page can mean: its 403 readings below, and Basic authentication's 401. */
export const STOCK_PAGE_CAUSES = [
  'path-forbidden',
  'ip-restricted',
  'filesystem-permission',
  'directory-listing',
  'method-not-allowed',
  'credential-missing',
  'credential-malformed',
  'credential-invalid',
] as const;

/**
 * The footer nginx writes into each of its built-in error pages, naming its
 * build: `<hr><center>nginx/1.27.0</center>`, "openresty" for OpenResty's, the
 * version left out under `server_tokens off`.
 */
export function nginxPageFooter(ctx: Context, build: 'nginx' | 'openresty'): string | undefined {
  return new RegExp(`<hr><center>${build}(/[\\d.]+)?</center>`, 'i').exec(ctx.body.text)?.[0];
}

type StockPageCause = (typeof STOCK_PAGE_CAUSES)[number];

export interface StockForbiddenReadings<M extends string, F extends string> {
  /** Fixes for a directory without an index file (message `directory`; data: path). */
  directory: readonly F[];
  /** Fixes for a method a rule limits (message `limitExcept`; data: method); absent when the server has no such rule. */
  method?: readonly F[];
  /** The server's own reading of an access rule on the path, ranked by the request's file name. */
  path: { message: M; weight: number; data: MessageData; clue?: Evidence; fixes: readonly F[] };
  /** The server's access rule on the client's address. */
  ip: { message: M; fixes: readonly F[] };
  /** Fixes for a file the server's user cannot read (message `unreadable`; data: file). */
  unreadable: readonly F[];
}

/**
 * Claims every reason a stock 403 page may stand for, each with `page` (the
 * page as evidence that it is the same for all of them): a directory when the
 * path ends with "/", a method rule for a method other than GET and HEAD, the
 * path rule, the address rule, and an unreadable file.
 */
export function claimStockForbidden<M extends string, F extends string>(
  ctx: Context,
  report: Reporter<StockPageCause, M | 'directory' | 'limitExcept' | 'unreadable', F>,
  page: Evidence,
  readings: StockForbiddenReadings<M, F>,
): void {
  const path = ctx.url?.pathname ?? '';
  const data = { path, file: path || '/FILE', method: ctx.method };
  if (path.endsWith('/'))
    report.claim('directory-listing', 'directory', 0.55, {
      data,
      evidence: [page, ev('request:url', `path ends with "/" (${path})`)],
      fixes: readings.directory,
    });
  if (readings.method && !['GET', 'HEAD'].includes(ctx.method))
    report.claim('method-not-allowed', 'limitExcept', 0.4, {
      data,
      evidence: [page, ev('request:method', ctx.method)],
      fixes: readings.method,
    });
  const { message, weight, clue, fixes } = readings.path;
  report.claim('path-forbidden', message, weight, {
    data: { ...data, ...readings.path.data },
    evidence: [page, ...(clue ? [clue] : [])],
    fixes,
  });
  report.claim('ip-restricted', readings.ip.message, 0.3, { evidence: [page], fixes: readings.ip.fixes });
  report.claim('filesystem-permission', 'unreadable', 0.25, { data, evidence: [page], fixes: readings.unreadable });
}
