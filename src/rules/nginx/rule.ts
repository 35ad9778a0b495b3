// nginx answers every access-phase refusal with the same built-in page and
// the same "access forbidden by rule" log line: `deny` rules, IP allow/deny,
// `limit_except`, a file its worker cannot read, a directory without index.
// The response alone narrows it down only by the request's shape; probes and
// the error log tell the rest. What it says and suggests is in texts.json.
import { defineProducer, ev, signals } from '../define.ts';
import { claimBasicAuth } from '../_lib/basic-auth.ts';
import texts from './texts.json' with { type: 'json' };

// OpenResty's pages and Server header name openresty: they belong to its own rule.
const SERVER = /^nginx(\/[\d.]+)?/i;
const PAGE_SIGNATURE = /<hr><center>nginx(\/[\d.]+)?<\/center>/i;

export default defineProducer({
  meta: {
    id: 'nginx',
    product: 'nginx',
    layer: 'web-server',
    causes: [
      'path-forbidden',
      'ip-restricted',
      'filesystem-permission',
      'directory-listing',
      'method-not-allowed',
      'credential-missing',
      'credential-malformed',
      'credential-invalid',
    ],
    statuses: [401, 403],
    ...texts,
  },
  recognise(ctx) {
    const server = ctx.header('server');
    const page = PAGE_SIGNATURE.exec(ctx.body.text)?.[0];
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
    const data = { path, file: path || '/FILE', method: ctx.method };

    if (path.endsWith('/'))
      report.claim('directory-listing', 'directory', 0.55, {
        data,
        evidence: [pageEvidence, ev('request:url', `path ends with "/" (${path})`)],
        fixes: ['addIndex', 'autoindex', 'errorLog'],
      });
    if (!['GET', 'HEAD'].includes(ctx.method))
      report.claim('method-not-allowed', 'limitExcept', 0.4, {
        data,
        evidence: [pageEvidence, ev('request:method', ctx.method)],
        fixes: ['limitExcept'],
      });
    const hidden = lastSegment.startsWith('.');
    report.claim('path-forbidden', hidden ? 'hiddenFile' : 'denyRule', hidden ? 0.6 : 0.35, {
      data: { ...data, file: lastSegment },
      evidence: [pageEvidence, ...(hidden ? [ev('request:url', `hidden file ${lastSegment}`)] : [])],
      fixes: ['findDeny', 'errorLog'],
    });
    report.claim('ip-restricted', 'ipRule', 0.3, { evidence: [pageEvidence], fixes: ['compareAddress'] });
    report.claim('filesystem-permission', 'unreadable', 0.25, {
      data,
      evidence: [pageEvidence],
      fixes: ['workerCanRead', 'errorLog'],
    });
  },
});
