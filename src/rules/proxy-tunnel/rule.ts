// A forward proxy that will not open a CONNECT tunnel answers before the
// request exists for the server: the 401/403/407 is the proxy's, and the
// server never saw the request. The client library keeps only the status, so
// the product stays unknown; the layer and the cause do not.
import { defineRule, ev } from '../define.ts';

export default defineRule({
  meta: {
    id: 'proxy-tunnel',
    kind: 'producer',
    product: 'unknown',
    layer: 'forward-proxy',
    description: 'A forward proxy refused the CONNECT tunnel for an https request (recorded by `check`): the denial is the proxy’s policy, or its authentication.',
    docs: ['https://www.rfc-editor.org/rfc/rfc9110#name-connect', 'https://www.rfc-editor.org/rfc/rfc9110#name-407-proxy-authentication-re'],
    causes: ['proxy-interference', 'credential-missing'],
  },
  applies: (ctx) => ctx.exchange.trace?.proxy?.refusedTunnel !== undefined,
  run(ctx) {
    const proxy = ctx.exchange.trace!.proxy!;
    const status = proxy.refusedTunnel!;
    const host = ctx.url?.host ?? 'the server';
    const evidence = [ev('trace:proxy', `${proxy.url} answered CONNECT ${host} with ${status}; the request never reached ${host}`)];
    const producer = { product: 'unknown' as const, layer: 'forward-proxy' as const, confidence: 0.85, evidence };
    const verify = `The same request with --noproxy answers differently: curl --noproxy '*' -sI ${ctx.url?.href ?? 'URL'}`;
    if (status === 407)
      return {
        producer,
        causes: [
          {
            id: 'credential-missing',
            weight: 0.85,
            summary: `The proxy ${proxy.url} wants its own credentials (407 on CONNECT) before it opens the tunnel to ${host}.`,
            evidence,
            fixes: [{ title: 'Give the proxy its credentials in the proxy URL, or ask its administrator which ones apply', difficulty: 'easy', commands: ['export HTTPS_PROXY=http://USER:PASSWORD@PROXY_HOST:PORT'], verify }],
          },
        ],
      };
    return {
      producer,
      causes: [
        {
          id: 'proxy-interference',
          weight: 0.9,
          summary: `Your proxy (${proxy.url}, ${proxy.reason}) refused to open a tunnel to ${host} (${status} on CONNECT): its policy blocks this destination, and the server never saw the request.`,
          evidence,
          fixes: [
            { title: 'Check which proxy settings are in effect', difficulty: 'easy', commands: ['env | grep -i _proxy'], verify },
            { title: 'If policy allows, reach this host without the proxy', difficulty: 'easy', commands: [`export NO_PROXY=${ctx.url?.hostname ?? 'HOST'}`] },
            { title: 'Ask the proxy’s administrator to allow the destination (for Squid: the http_access rules; test with squid -k parse)', difficulty: 'medium', commands: ['grep -n http_access /etc/squid/squid.conf'] },
          ],
        },
      ],
    };
  },
});
