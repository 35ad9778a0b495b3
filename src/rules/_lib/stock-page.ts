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
  /** How far the page is known to be the server's own: 1 for a product's page, less for a page no rule recognised. */
  scale?: number;
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
  const k = readings.scale ?? 1;
  const w = (weight: number) => Math.round(weight * k * 100) / 100;
  if (path.endsWith('/'))
    report.claim('directory-listing', 'directory', w(0.55), {
      data,
      evidence: [page, ev('request:url', `path ends with "/" (${path})`)],
      fixes: readings.directory,
    });
  if (readings.method && !['GET', 'HEAD'].includes(ctx.method))
    report.claim('method-not-allowed', 'limitExcept', w(0.4), {
      data,
      evidence: [page, ev('request:method', ctx.method)],
      fixes: readings.method,
    });
  const { message, weight, clue, fixes } = readings.path;
  report.claim('path-forbidden', message, w(weight), {
    data: { ...data, ...readings.path.data },
    evidence: [page, ...(clue ? [clue] : [])],
    fixes,
  });
  report.claim('ip-restricted', readings.ip.message, w(0.3), { evidence: [page], fixes: readings.ip.fixes });
  report.claim('filesystem-permission', 'unreadable', w(0.25), { data, evidence: [page], fixes: readings.unreadable });
}

/** A body that is only the status ("Forbidden", "403 Forbidden"): what a server or proxy writes for its own rules. */
export const onlyTheStatus = (ctx: Context) => /^\s*(403\s*)?(forbidden|access denied)[.!]?\s*$/i.test(ctx.body.text);

/** Words a status line adds to the status: "Error 403", "HTTP Status 403 – Forbidden", "HTTP Error 403.14". */
const STATUS_WORDS = new Set(['error', 'http', 'status']);
const STATUS_CODE = /^403(\.\d{1,3})?$/;

/** A title or heading that says only the status: "403 Forbidden", "HTTP Status 403 – Forbidden", "Error 403 Forbidden", "Access Denied". */
function saysOnlyTheStatus(text: string | undefined): boolean {
  if (text === undefined) return false;
  const words = text
    .toLowerCase()
    .replace(/[^a-z0-9.]+/g, ' ')
    .replace(/\.(\s|$)/g, ' ')
    .trim()
    .split(' ');
  const rest = words.filter((w) => w && !STATUS_WORDS.has(w) && !STATUS_CODE.test(w)).join(' ');
  return rest === 'forbidden' || rest === 'access denied' || (rest === '' && words.some((w) => STATUS_CODE.test(w)));
}

/**
 * A 403 page of the stock kind from a server no rule recognised: an HTML page
 * whose title or h1 says only the status, or a body that says only the
 * status. (Applications write such pages too, which is why what they stand
 * for is weighed lower than a known server's own page. An empty body says
 * less still: APIs answer so as often as servers.)
 */
export function stockPage(ctx: Context): boolean {
  if (ctx.status !== 403) return false;
  if (ctx.body.json !== undefined || ctx.body.xml) return false;
  if (saysOnlyTheStatus(ctx.body.htmlTitle) || saysOnlyTheStatus(ctx.body.htmlH1)) return true;
  return onlyTheStatus(ctx);
}
