// lighttpd answers every 403 it makes itself with the same XHTML page:
// url.access-deny (global, or inside a $HTTP["url"] or $HTTP["remoteip"]
// condition), a file its worker cannot open, a directory without an index
// file. By default it logs nothing for any of them; with
// debug.log-request-handling it logs "url denied as we match access_deny" for
// a path rule and an address rule alike, and "file open failed: … Permission
// denied" for file permissions. So the response narrows it down only by the
// request's shape, and the configuration and the filesystem tell the rest.
// What the rule says and suggests is in texts.json.
import { defineProducer, ev, signals } from '../define.ts';
import { namedServer } from '../_lib/server-header.ts';
import { claimStockForbidden } from '../_lib/stock-page.ts';
import texts from './texts.json' with { type: 'json' };

const SERVER = /^lighttpd(\/[\d.]+)?/i;
// lighttpd's built-in status page (http_response_body in its source): an XML
// declaration in iso-8859-1, XHTML 1.0 Transitional, a one-space-indented head.
const PAGE =
  /^<\?xml version="1\.0" encoding="iso-8859-1"\?>\s*<!DOCTYPE html PUBLIC "-\/\/W3C\/\/DTD XHTML 1\.0 Transitional\/\/EN"\s+"http:\/\/www\.w3\.org\/TR\/xhtml1\/DTD\/xhtml1-transitional\.dtd">\s*<html xmlns="http:\/\/www\.w3\.org\/1999\/xhtml" xml:lang="en" lang="en">\n <head>\n  <title>(\d{3} [^<]*)<\/title>/;
/** Debian's stock /etc/lighttpd/lighttpd.conf: `url.access-deny = ( "~", ".inc" )`. */
const STOCK_DENIED_SUFFIXES = ['~', '.inc'];

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

const pageEvidence = ev(
  'body',
  'lighttpd’s generic 403 page: the same for access-deny rules, address conditions, unreadable files and missing index files',
);

export default defineProducer({
  meta: {
    id: 'lighttpd',
    product: 'lighttpd',
    layer: 'web-server',
    causes: ['path-forbidden', 'ip-restricted', 'filesystem-permission', 'directory-listing'],
    statuses: [403],
    ...texts,
  },
  recognise(ctx) {
    const server = namedServer(ctx, SERVER);
    const page = PAGE.exec(ctx.body.text.trimStart())?.[1];
    const found = signals();
    if (server) found.add(0.45, server.evidence);
    // The page proves lighttpd made the answer; a Server header alone may sit
    // on an application's response that lighttpd only passed through.
    if (page) found.add(server ? 0.9 : 0.6, ev('body', `lighttpd’s built-in XHTML status page ("${page}")`));
    return found.result({ ownPage: Boolean(page) });
  },
  explain(ctx, { ownPage }, report) {
    if (!ownPage) return;
    const path = ctx.url?.pathname ?? '';
    const lastSegment = safeDecode(path.split('/').pop() ?? '');
    const suffix = STOCK_DENIED_SUFFIXES.find((s) => lastSegment.endsWith(s));
    claimStockForbidden(ctx, report, pageEvidence, {
      directory: ['addIndex', 'dirListing', 'debugLog'],
      path: {
        message: suffix ? 'stockSuffix' : 'accessDeny',
        weight: suffix ? 0.6 : 0.35,
        data: { suffix },
        clue: suffix ? ev('request:url', `file name ends with "${suffix}"`) : undefined,
        fixes: ['findAccessDeny', 'debugLog'],
      },
      ip: { message: 'remoteIp', fixes: ['compareAddress'] },
      unreadable: ['workerCanRead', 'debugLog'],
    });
  },
});
