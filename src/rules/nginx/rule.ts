// nginx answers every access-phase refusal with the same built-in page and
// the same "access forbidden by rule" log line: `deny` rules, IP allow/deny,
// `limit_except`, a file its worker cannot read, a directory without index.
// The response alone narrows it down only by the request's shape; probes and
// the error log tell the rest. What it says and suggests is in texts.json.
import { defineProducer, ev, signals } from '../define.ts';
import { claimBasicAuth } from '../_lib/basic-auth.ts';
import { claimStockForbidden, nginxPageFooter, STOCK_PAGE_CAUSES } from '../_lib/stock-page.ts';
import texts from './texts.json' with { type: 'json' };

// OpenResty's pages and Server header name openresty: they belong to its own rule.
const SERVER = /^nginx(\/[\d.]+)?/i;

export default defineProducer({
  meta: {
    id: 'nginx',
    product: 'nginx',
    layer: 'web-server',
    relays: true,
    causes: STOCK_PAGE_CAUSES,
    statuses: [401, 403],
    ...texts,
  },
  recognise(ctx) {
    const server = ctx.header('server');
    const page = nginxPageFooter(ctx, 'nginx');
    const found = signals();
    // Only nginx's own error page proves nginx refused; a Server header alone
    // may sit in front of an application that answered.
    if (server && SERVER.test(server)) found.add(0.45, ev('header:server', server));
    if (page) found.add(0.9, ev('body', `nginx error page footer ${page}`));
    return found.result({ ownPage: Boolean(page) });
  },
  explain(ctx, { ownPage, evidence }, report) {
    if (!ownPage) return;
    if (ctx.status === 401) {
      // auth_basic reads only the Basic scheme; anything else counts as no credential at all.
      const data = { url: ctx.url?.href ?? 'URL' };
      claimBasicAuth(
        ctx,
        report,
        { rejected: 'basicRejected', wrongScheme: 'basicWrongScheme', missing: 'basicMissing' },
        { evidence, data, fixes: ['sendPassword', 'resetPassword'] },
      );
      return;
    }

    const path = ctx.url?.pathname ?? '';
    const lastSegment = path.split('/').pop() ?? '';
    const pageEvidence = ev(
      'body',
      'nginx’s generic 403 page: the same for deny rules, IP rules, unreadable files and missing index files',
    );
    const hidden = lastSegment.startsWith('.');
    claimStockForbidden(ctx, report, pageEvidence, {
      directory: ['addIndex', 'autoindex', 'errorLog'],
      method: ['limitExcept'],
      path: {
        message: hidden ? 'hiddenFile' : 'denyRule',
        weight: hidden ? 0.6 : 0.35,
        data: { file: lastSegment },
        clue: hidden ? ev('request:url', `hidden file ${lastSegment}`) : undefined,
        fixes: ['findDeny', 'errorLog'],
      },
      ip: { message: 'ipRule', fixes: ['compareAddress'] },
      unreadable: ['workerCanRead', 'errorLog'],
    });
  },
});
