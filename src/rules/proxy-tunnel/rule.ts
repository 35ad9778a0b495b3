// A forward proxy that will not open a CONNECT tunnel answers before the
// request exists for the server: the 401/403/407 is the proxy's, and the
// server never saw the request. The client library keeps only the status, so
// the product stays unknown; the layer and the cause do not.
import { defineProducer, ev, type Context, type Fix } from '../define.ts';

const verifyDirect = (ctx: Context) =>
  `The same request with --noproxy answers differently: curl --noproxy '*' -sI ${ctx.url?.href ?? 'URL'}`;

const credentialFixes = (ctx: Context): Fix[] => [
  {
    title: 'Give the proxy its credentials in the proxy URL, or ask its administrator which ones apply',
    difficulty: 'easy',
    commands: ['export HTTPS_PROXY=http://USER:PASSWORD@PROXY_HOST:PORT'],
    verify: verifyDirect(ctx),
  },
];

const policyFixes = (ctx: Context): Fix[] => [
  {
    title: 'Check which proxy settings are in effect',
    difficulty: 'easy',
    commands: ['env | grep -i _proxy'],
    verify: verifyDirect(ctx),
  },
  {
    title: 'If policy allows, reach this host without the proxy',
    difficulty: 'easy',
    commands: [`export NO_PROXY=${ctx.url?.hostname ?? 'HOST'}`],
  },
  {
    title:
      'Ask the proxy’s administrator to allow the destination (for Squid: the http_access rules; test with squid -k parse)',
    difficulty: 'medium',
    commands: ['grep -n http_access /etc/squid/squid.conf'],
  },
];

export default defineProducer({
  meta: {
    id: 'proxy-tunnel',
    product: 'unknown',
    layer: 'forward-proxy',
    description:
      'A forward proxy refused the CONNECT tunnel for an https request (recorded by `check`): the denial is the proxy’s policy, or its authentication.',
    docs: [
      'https://www.rfc-editor.org/rfc/rfc9110#name-connect',
      'https://www.rfc-editor.org/rfc/rfc9110#name-407-proxy-authentication-re',
    ],
    causes: ['proxy-interference', 'credential-missing'],
    messages: {
      proxyAuth:
        'The proxy {{proxy}} wants its own credentials (407 on CONNECT) before it opens the tunnel to {{host}}.',
      refused:
        'Your proxy ({{proxy}}, {{reason}}) refused to open a tunnel to {{host}} ({{status}} on CONNECT): its policy blocks this destination, and the server never saw the request.',
    },
  },
  recognise(ctx) {
    const proxy = ctx.exchange.trace?.proxy;
    const status = proxy?.refusedTunnel;
    if (!proxy || status === undefined) return undefined;
    const host = ctx.url?.host ?? 'the server';
    const evidence = [
      ev('trace:proxy', `${proxy.url} answered CONNECT ${host} with ${status}; the request never reached ${host}`),
    ];
    return { confidence: 0.85, evidence, proxy, status, host };
  },
  explain(ctx, { evidence, proxy, status, host }, report) {
    const data = { proxy: proxy.url, reason: proxy.reason, host, status };
    if (status === 407)
      report.claim('credential-missing', 'proxyAuth', 0.85, { data, evidence, fixes: credentialFixes(ctx) });
    else report.claim('proxy-interference', 'refused', 0.9, { data, evidence, fixes: policyFixes(ctx) });
  },
});
