// Apache httpd 2.4 answers every access refusal with one built-in page — "You
// don't have permission to access this resource." — whether mod_authz_core
// refused (Require all denied, Require ip: both AH01630 in the error log), a
// directory had no index and no Indexes option (AH01276), or the file was
// unreadable to the server's user (AH00132). The response narrows it down only
// by the request's shape; the error log names the reason. What the rule says
// and suggests is in texts.json.
import { defineProducer, ev, signals, type Context } from '../define.ts';
import { claimBasicAuth } from '../_lib/basic-auth.ts';
import { BASIC_MESSAGES, sendPasswordFix } from '../_lib/basic-auth.ts';
import { namedServer } from '../_lib/server-header.ts';
import { claimStockForbidden, STOCK_PAGE_CAUSES } from '../_lib/stock-page.ts';
import texts from './texts.json' with { type: 'json' };

const SERVER = /^Apache(\/[\d.]+)?(\s|$)/;
// Current 2.4 wording; older releases named the path ("to access /x\non this server.<br />").
const FORBIDDEN_TEXT =
  /<p>You don't have permission to access (this resource|\S*\s*on this server)\.(<br \/>)?\s*<\/p>/;
const UNAUTHORIZED_TEXT =
  /<p>This server could not verify that you\s+are authorized to access the document\s+requested\./;
const PAGE_SHELL =
  /^<!DOCTYPE HTML PUBLIC "-\/\/(W3C|IETF)\/\/DTD HTML[^>]*>\s*<html><head>\s*<title>\d{3} [^<]+<\/title>\s*<\/head><body>/i;
const ADDRESS = /<address>(Apache[^<]*?) Server at ([^<]+?) Port (\d+)<\/address>/;

const PAGE_TEXT = {
  forbidden: 'Apache’s built-in 403 page: "You don\'t have permission to access this resource."',
  unauthorized: 'Apache’s built-in 401 page: "This server could not verify that you are authorized…"',
};

function pageOf(ctx: Context): 'forbidden' | 'unauthorized' | undefined {
  const body = ctx.body.text;
  if (!PAGE_SHELL.test(body.trimStart())) return undefined;
  return FORBIDDEN_TEXT.test(body) ? 'forbidden' : UNAUTHORIZED_TEXT.test(body) ? 'unauthorized' : undefined;
}

export default defineProducer({
  meta: {
    id: 'apache-httpd',
    product: 'apache-httpd',
    layer: 'web-server',
    relays: true,
    causes: STOCK_PAGE_CAUSES,
    statuses: [401, 403],
    ...texts,
  },
  recognise(ctx) {
    const page = pageOf(ctx);
    const server = namedServer(ctx, SERVER);
    const address = ADDRESS.exec(ctx.body.text)?.[1];
    // Only Apache's own page proves Apache refused; an application behind it
    // (PHP, a proxied backend) answers with its own body under the same Server header.
    const signed = Boolean(server || address);
    const found = signals();
    if (server) found.add(0.45, server.evidence);
    if (page) found.add(signed ? 0.95 : 0.85, ev('body', PAGE_TEXT[page]));
    if (address) found.evidence.push(ev('body:address', address));
    return found.result({ page });
  },
  explain(ctx, { page, evidence }, report) {
    if (ctx.status === 401 && page === 'unauthorized') {
      claimBasicAuth(ctx, report, BASIC_MESSAGES, {
        evidence,
        fixes: [sendPasswordFix(ctx, 'this directory expects (AuthType Basic)'), 'resetPassword'],
      });
      return;
    }
    if (ctx.status !== 403 || page !== 'forbidden') return;

    const path = ctx.url?.pathname ?? '';
    const lastSegment = path.split('/').pop() ?? '';
    const pageEvidence = ev(
      'body',
      'Apache’s 403 page is the same for Require rules, unreadable files and directories without an index',
    );
    const htFile = /^\.ht/i.test(lastSegment);
    const hidden = lastSegment.startsWith('.');
    claimStockForbidden(ctx, report, pageEvidence, {
      directory: ['addIndex', 'indexes', 'errorLog'],
      method: ['limitBlocks', 'errorLog'],
      path: {
        message: htFile ? 'htFile' : hidden ? 'hiddenFile' : 'requireDenied',
        weight: htFile ? 0.7 : hidden ? 0.55 : 0.35,
        data: { file: lastSegment },
        clue: hidden ? ev('request:url', `hidden file ${lastSegment}`) : undefined,
        fixes: ['findRequire', 'errorLog'],
      },
      ip: { message: 'requireIp', fixes: ['compareAddress'] },
      unreadable: ['serverCanRead', 'errorLog'],
    });
  },
});
