// HAProxy answers its own refusals with built-in pages of one fixed shape,
// `<html><body><h1>403 Forbidden</h1>\n<message>\n</body></html>`, with
// `Cache-Control: no-cache` and no Server header (HAProxy adds none unless
// configured). Every `http-request deny` gives the same 403 page, whatever the
// ACL matched (address, path, header, method), so the response narrows the
// cause down only by the request's shape; HAProxy's log (termination state
// PR--) and its config tell the rest. `http-request auth` gives the 401 page
// with a Basic challenge (logged LR--: handled locally).
import { defineProducer, ev, type Context, type Fix } from '../define.ts';
import { basicChallenge, sentCredential } from '../_lib/basic-auth.ts';

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

const CONFIG = '/etc/haproxy/haproxy.cfg';
const DOCS = {
  deny: 'https://docs.haproxy.org/2.6/configuration.html#4.2-http-request%20deny',
  auth: 'https://docs.haproxy.org/2.6/configuration.html#4.2-http-request%20auth',
  termination: 'https://docs.haproxy.org/2.6/configuration.html#8.5',
  acl: 'https://docs.haproxy.org/2.6/configuration.html#7.1',
};

const checkConfig: Fix = {
  title: 'Validate HAProxy’s configuration and list its deny rules and ACLs',
  difficulty: 'easy',
  commands: [`haproxy -c -f ${CONFIG}`, `grep -n "http-request deny\\|acl" ${CONFIG}`],
  verify:
    'The first `http-request deny` whose ACL matches this request is the one refusing it; rules run in order and the first deny stops evaluation.',
  docs: DOCS.deny,
};

const readLog = (ctx: Context, path: string): Fix => ({
  title: 'Find the request in HAProxy’s log: termination state PR-- means a proxy rule denied it',
  difficulty: 'easy',
  commands: [
    `journalctl -u haproxy --since "-15 min" | grep -F '"${ctx.method} ${path}' | grep -F ' PR-- '`,
    `grep -F '"${ctx.method} ${path}' /var/log/haproxy.log | tail`,
  ],
  verify: `"PR--" with <NOSRV>: HAProxy blocked the request itself (a deny filter matched) and no server saw it; anything else (e.g. "----" with a server name) means the ${ctx.status} came from behind HAProxy.`,
  docs: DOCS.termination,
});

const authFixes = (ctx: Context, proxyAuth: boolean): Fix[] => [
  {
    title: 'Send the user name and password from HAProxy’s userlist (http-request auth)',
    difficulty: 'easy',
    commands: [
      proxyAuth
        ? `curl -x PROXY --proxy-user USER ${ctx.url?.href ?? 'URL'}`
        : `curl -u USER ${ctx.url?.href ?? 'URL'}`,
    ],
    verify: `The same request no longer answers ${ctx.status}.`,
    docs: DOCS.auth,
  },
  {
    title: 'Check the user in the userlist the auth rule checks (http_auth)',
    difficulty: 'medium',
    commands: [`grep -n "userlist\\|^\\s*user \\|http_auth\\|http-request auth" ${CONFIG}`],
    verify: 'The user exists in that userlist, with the password (or its crypt(3) hash) you send.',
    docs: 'https://docs.haproxy.org/2.6/configuration.html#3.4',
  },
];

const rateFixes: Fix[] = [
  { title: 'Slow down and retry later', difficulty: 'easy', verify: 'Requests spaced out are answered again.' },
  {
    ...checkConfig,
    commands: [`haproxy -c -f ${CONFIG}`, `grep -n "deny_status 429\\|stick-table\\|sc_http_req_rate\\|acl" ${CONFIG}`],
    verify: 'The deny rule’s ACL (a rate counter, a path) names what trips it.',
  },
];

const addressFix: Fix = {
  title: 'Compare your address, as HAProxy sees it, with the `src` ACLs',
  difficulty: 'medium',
  commands: [
    `grep -n "acl .* src\\|http-request deny" ${CONFIG}`,
    'curl -s https://ifconfig.me  # your public address',
  ],
  verify:
    'Your address (after any NAT or proxy in front; `src` is the TCP peer unless the config uses X-Forwarded-For) is outside the blocked ranges.',
  docs: DOCS.acl,
};

export default defineProducer({
  meta: {
    id: 'haproxy',
    product: 'haproxy',
    layer: 'reverse-proxy',
    description:
      'HAProxy’s built-in error pages: the 403 of `http-request deny` (IP, path or any other ACL), the 401 of `http-request auth`, and a deny with another deny_status such as 429.',
    docs: [DOCS.deny, DOCS.auth, DOCS.termination, DOCS.acl, 'https://docs.haproxy.org/2.6/configuration.html#3.4'],
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
    messages: {
      basicRejected:
        'HAProxy challenged again{{where}} although Basic credentials were sent: the user is not in its userlist or the password is wrong.',
      basicWrongScheme:
        'HAProxy’s http-request auth wants HTTP Basic{{where}}, but the request sent a {{scheme}} credential, which it ignores.',
      basicMissing:
        'HAProxy requires HTTP Basic authentication{{where}} (http-request auth) and the request sent none.',
      denyStatus429:
        'HAProxy refused the request with 429: an `http-request deny deny_status 429` rule, usually tied to a stick-table request-rate counter.',
      methodRule:
        'A deny rule on the method (e.g. `http-request deny if !METH_GET`) may refuse {{method}}; HAProxy answers it with the same 403.',
      denyRule:
        'An `http-request deny` in HAProxy’s frontend or in the backend it routes to refuses this request, typically by path (`path_beg {{prefix}}`) or unconditionally; the request never reached a backend server.',
      srcRule:
        'A deny rule on the client address (`acl … src …` with `http-request deny if …`) may exclude your address; HAProxy’s page is the same as for any other deny.',
    },
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
      const data = { where: basic.realm !== undefined ? ` (realm "${basic.realm}")` : '', scheme: sent.scheme };
      const details = {
        data,
        evidence: [pageEvidence, basic.evidence, sent.evidence],
        fixes: authFixes(ctx, proxyAuth),
      };
      // http_auth reads only Basic; any other scheme counts as no credential.
      if (sent.kind === 'basic') report.claim('credential-invalid', 'basicRejected', 0.8, details);
      else if (sent.kind === 'other') report.claim('credential-malformed', 'basicWrongScheme', 0.75, details);
      else report.claim('credential-missing', 'basicMissing', 0.8, details);
      return;
    }
    if (ctx.status === 429) {
      report.claim('rate-limited', 'denyStatus429', 0.7, { evidence: [pageEvidence], fixes: rateFixes });
      return;
    }
    if (ctx.status !== 403) return;

    const sameForAll = ev(
      'body',
      'HAProxy’s one 403 page for every `http-request deny`: the page does not say which ACL matched',
    );
    const log = readLog(ctx, path);
    if (!['GET', 'HEAD'].includes(ctx.method))
      report.claim('method-not-allowed', 'methodRule', 0.4, {
        data: { method: ctx.method },
        evidence: [sameForAll, ev('request:method', ctx.method)],
        fixes: [
          {
            ...checkConfig,
            commands: [`grep -n "METH_\\|method" ${CONFIG}`],
            verify: `No deny rule matches the ${ctx.method} method for this path.`,
          },
          log,
        ],
      });
    report.claim('path-forbidden', 'denyRule', 0.4, {
      data: { prefix: path.split('/').slice(0, 2).join('/') || '/' },
      evidence: [sameForAll],
      fixes: [checkConfig, log],
    });
    report.claim('ip-restricted', 'srcRule', 0.35, { evidence: [sameForAll], fixes: [addressFix, log] });
  },
});
