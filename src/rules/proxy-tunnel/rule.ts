// A forward proxy that will not open a CONNECT tunnel answers before the
// request exists for the server: the 401/403/407 is the proxy's, and the
// server never saw the request. The client library keeps only the status, so
// the product stays unknown; the layer and the cause do not. What the rule
// says and suggests is in texts.json.
import { defineProducer, ev } from '../define.ts';
import texts from './texts.json' with { type: 'json' };

export default defineProducer({
  meta: {
    id: 'proxy-tunnel',
    product: 'unknown',
    layer: 'forward-proxy',
    causes: ['proxy-interference', 'credential-missing'],
    ...texts,
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
    const data = {
      proxy: proxy.url,
      reason: proxy.reason,
      host,
      status,
      url: ctx.url?.href ?? 'URL',
      hostname: ctx.url?.hostname ?? 'HOST',
    };
    if (status === 407)
      report.claim('credential-missing', 'proxyAuth', 0.85, { data, evidence, fixes: ['proxyCredentials'] });
    else
      report.claim('proxy-interference', 'refused', 0.9, {
        data,
        evidence,
        fixes: ['proxySettings', 'bypass', 'askAdmin'],
      });
  },
});
