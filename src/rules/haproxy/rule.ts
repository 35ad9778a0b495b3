// HAProxy answers its own refusals with built-in pages of one fixed shape,
// `<html><body><h1>403 Forbidden</h1>\n<message>\n</body></html>`, with
// `Cache-Control: no-cache` and no Server header (HAProxy adds none unless
// configured). Every `http-request deny` gives the same 403 page, whatever the
// ACL matched (address, path, header, method), so the response narrows the
// cause down only by the request's shape; HAProxy's log (termination state
// PR--) and its config tell the rest. `http-request auth` gives the 401 page
// with a Basic challenge (logged LR--: handled locally). What the rule says
// and suggests is in texts.json.
import { defineProducer, ev } from '../define.ts';
import { basicChallenge, sentCredential } from '../_lib/basic-auth.ts';
import texts from './texts.json' with { type: 'json' };

/** HAProxy 2.6's default error messages (src/http.c), by status: the line under the <h1>. */
const MESSAGES: Record<number, string> = {
  400: 'Your browser sent an invalid request.',
  401: 'You need a valid user and password to access this content.',
  403: 'Request forbidden by administrative rules.',
  405: 'Method Not Allowed',
  407: 'You need a valid user and password to access this content.',
  408: "Your browser didn't send a complete request in time.",
  429: 'You have sent too many requests in a given amount of time.',
};
const PAGE = /^<html><body><h1>(\d{3}) ([^<\n]+)<\/h1>\n([^<\n]*)\n<\/body><\/html>\n?$/;

export default defineProducer({
  meta: {
    id: 'haproxy',
    product: 'haproxy',
    layer: 'reverse-proxy',
    causes: [
      'path-forbidden',
      'ip-restricted',
      'method-not-allowed',
      'rate-limited',
      'credential-missing',
      'credential-invalid',
      'credential-malformed',
    ],
    // Its pages are read at any status: a 429 deny_status is a refusal, a remapped errorfile is worth a note.
    statuses: 'any',
    ...texts,
  },
  recognise(ctx) {
    const m = PAGE.exec(ctx.body.text.trimStart());
    if (!m || MESSAGES[Number(m[1])] !== m[3]) return undefined;
    const page = { status: Number(m[1]), message: m[3] };
    const server = ctx.header('server');
    const pageEvidence = ev('body', `HAProxy’s built-in ${page.status} page: "${page.message}"`);
    const evidence = [
      pageEvidence,
      ...(server ? [] : [ev('header:server', 'no Server header (HAProxy adds none to its own pages)')]),
    ];
    // A Server header means something else touched the response (a proxy in
    // front, or an application copying HAProxy's page): less sure it is HAProxy's.
    return { confidence: server ? 0.6 : 0.9, evidence, page, pageEvidence, server };
  },
  explain(ctx, { page, pageEvidence, server }, report) {
    if (server) report.note(`HAProxy’s page arrived with Server: ${server}; another layer may have relayed it.`);
    if (page.status !== ctx.status) {
      report.note(
        `The body is HAProxy’s ${page.status} page but the status is ${ctx.status}: an errorfile may have been remapped.`,
      );
      return;
    }
    const path = ctx.url?.pathname ?? '/';

    if (ctx.status === 401 || ctx.status === 407) {
      const proxyAuth = ctx.status === 407;
      const basic = basicChallenge(ctx, proxyAuth);
      const sent = sentCredential(ctx, proxyAuth);
      const data = {
        where: basic.realm !== undefined ? ` (realm "${basic.realm}")` : '',
        scheme: sent.scheme,
        url: ctx.url?.href ?? 'URL',
        status: ctx.status,
      };
      const details = {
        data,
        evidence: [pageEvidence, basic.evidence, sent.evidence],
        fixes: [proxyAuth ? 'sendProxyPassword' : 'sendPassword', 'checkUserlist'] as const,
      };
      // http_auth reads only Basic; any other scheme counts as no credential.
      if (sent.kind === 'basic') report.claim('credential-invalid', 'basicRejected', 0.8, details);
      else if (sent.kind === 'other') report.claim('credential-malformed', 'basicWrongScheme', 0.75, details);
      else report.claim('credential-missing', 'basicMissing', 0.8, details);
      return;
    }
    if (ctx.status === 429) {
      report.claim('rate-limited', 'denyStatus429', 0.7, { evidence: [pageEvidence], fixes: ['slowDown', 'rateRule'] });
      return;
    }
    if (ctx.status !== 403) return;

    const sameForAll = ev(
      'body',
      'HAProxy’s one 403 page for every `http-request deny`: the page does not say which ACL matched',
    );
    const data = { method: ctx.method, path, status: ctx.status };
    if (!['GET', 'HEAD'].includes(ctx.method))
      report.claim('method-not-allowed', 'methodRule', 0.4, {
        data,
        evidence: [sameForAll, ev('request:method', ctx.method)],
        fixes: ['methodRule', 'readLog'],
      });
    report.claim('path-forbidden', 'denyRule', 0.4, {
      data: { ...data, prefix: path.split('/').slice(0, 2).join('/') || '/' },
      evidence: [sameForAll],
      fixes: ['checkConfig', 'readLog'],
    });
    report.claim('ip-restricted', 'srcRule', 0.35, {
      data,
      evidence: [sameForAll],
      fixes: ['compareAddress', 'readLog'],
    });
  },
});
