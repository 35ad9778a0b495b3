// Varnish answers a request itself only through vcl_synth: `return (synth(403))`
// in VCL (a path rule, an ACL on client.ip, a PURGE/BAN gate) gives the
// built-in synth page "Error 403 Forbidden … Guru Meditation: XID: N … Varnish
// cache server" with `Server: Varnish`, `X-Varnish: N` and `Retry-After: 5`,
// and no Via or Age. The page is the same whatever condition sent it; only
// the request's shape (its method) and varnishlog (VCL_acl, VCL_return synth)
// tell them apart. A backend's own 403 that Varnish only delivered keeps the
// backend's headers and gains `Via: 1.1 varnish (Varnish/x.y)`, X-Varnish and
// Age: Varnish did not say no, and this rule claims nothing for it. What the
// rule says and suggests is in texts.json.
//
// Layer: reverse-proxy, not cdn. Varnish is software the site runs in front of
// its own backends (as HAProxy or nginx are); hosted edges built on it, such
// as Fastly, are products of their own with their own signatures.
import { defineProducer, ev, signals, type Context } from '../define.ts';
import texts from './texts.json' with { type: 'json' };

/** The built-in vcl_synth page (bin/varnishd/builtin.vcl), whitespace-tolerant. */
const PAGE =
  /<h1>Error (\d{3}) ([^<]*)<\/h1>\s*<p>([^<]*)<\/p>\s*<h3>Guru Meditation:<\/h3>\s*<p>XID: (\d+)<\/p>\s*<hr>\s*<p>Varnish cache server<\/p>/;
const SERVER = /^varnish\b/i;
const VIA = /\(Varnish\/[\d.]+\)/i;
const XID = /^(\d+)(?:\s+\d+)?$/;

const INVALIDATION = ['PURGE', 'BAN', 'REFRESH'];

/** Varnish's headers: the ones it writes on everything it answers, and on what it only delivers. */
function headers(ctx: Context) {
  const server = ctx.header('server');
  const via = ctx.header('via');
  const xVarnish = ctx.header('x-varnish')?.trim();
  return {
    server: server && SERVER.test(server) ? server : undefined,
    via: via && VIA.test(via) ? via : undefined,
    xVarnish: xVarnish && XID.test(xVarnish) ? xVarnish : undefined,
  };
}

/** A backend's answer that Varnish only delivered: no synth page, no Server: Varnish, but its Via, X-Varnish or Age. */
function relayedNote(ctx: Context): string | undefined {
  const { via, xVarnish } = headers(ctx);
  if (!via && !xVarnish && !SERVER.test(ctx.header('server') ?? '')) return undefined;
  const age = ctx.header('age');
  const how = [via && `Via: ${via}`, xVarnish && `X-Varnish: ${xVarnish}`, age !== undefined && `Age: ${age}`]
    .filter(Boolean)
    .join(', ');
  return `The response passed through Varnish (${how}) but Varnish did not make it: no synth page and no Server: Varnish, so the ${ctx.status} comes from the backend behind it.`;
}

export default defineProducer({
  meta: {
    id: 'varnish',
    product: 'varnish',
    layer: 'reverse-proxy',
    causes: ['path-forbidden', 'ip-restricted', 'method-not-allowed'],
    // Every synth answer gets its notes; causes are read for 403 only.
    statuses: 'any',
    ...texts,
  },
  recognise(ctx) {
    const m = PAGE.exec(ctx.body.text);
    const page = m ? { status: Number(m[1]), reason: m[2].trim(), message: m[3].trim(), xid: m[4] } : undefined;
    const { server, via, xVarnish } = headers(ctx);
    // Varnish writes Server: Varnish only on what vcl_synth makes; a delivered
    // backend response keeps the backend's Server (or none) and gains Via/Age.
    const synthHeaders = Boolean(server && xVarnish && !via);
    if (!page && !synthHeaders) return undefined;
    // Page and header together are Varnish's own synth; one alone may be a
    // copied page or a relabelled response, so less sure.
    const found = signals();
    if (page)
      found.add(
        synthHeaders ? 0.95 : 0.75,
        ev(
          'body',
          `Varnish’s built-in synth page: "Error ${page.status} ${page.reason}", Guru Meditation XID ${page.xid}`,
        ),
      );
    if (server) found.add(synthHeaders ? 0.7 : 0, ev('header:server', server));
    if (xVarnish)
      found.add(synthHeaders ? 0.7 : 0, ev('header:x-varnish', `${xVarnish} (the request’s transaction id)`));
    return found.result({ page, via, xVarnish });
  },
  explain(ctx, { page, via, xVarnish }, report) {
    if (via)
      report.note(
        `Varnish’s synth page arrived with Via: ${via}; a Varnish further in (or another layer) may have made it and this one relayed it.`,
      );
    if (page && page.status !== ctx.status)
      report.note(
        `The body is Varnish’s ${page.status} page but the status is ${ctx.status}: something rewrote the status.`,
      );
    if (ctx.status !== 403) {
      report.note(
        `Varnish answered ${ctx.status} itself (VCL returned synth); the VCL line with synth(${ctx.status}) says why.`,
      );
      return;
    }

    const xid = page?.xid ?? xVarnish?.split(/\s+/)[0];
    const path = ctx.url?.pathname ?? '/';
    // The varnishlog queries of the readLog fix (texts.json): this transaction if its XID is known.
    const logData = {
      logQuery: xid ? `vxid == ${xid}` : 'RespStatus == 403',
      logPath: path.replace(/[\\'"]/g, ''),
    };
    const custom = page && page.message !== page.reason ? page.message : undefined;
    const samePage = ev(
      'body',
      `vcl_synth’s one page for every \`return (synth(403))\`: it does not say which VCL condition matched${custom ? `; the VCL gave the reason "${custom}"` : ''}`,
    );
    const method = ctx.method.toUpperCase();
    const methodEv = ev('request:method', method);
    if (INVALIDATION.includes(method)) {
      // The documented purge gate: only clients in an ACL may invalidate the cache.
      report.claim('method-not-allowed', 'purgeGate', 0.7, {
        data: { ...logData, method },
        evidence: [samePage, methodEv],
        fixes: ['purgeAcl', 'readLog'],
      });
      report.claim('ip-restricted', 'purgeAcl', 0.5, {
        data: { ...logData, method },
        evidence: [samePage, methodEv],
        fixes: ['compareAddress', 'readLog'],
      });
      return;
    }
    if (!['GET', 'HEAD'].includes(method))
      report.claim('method-not-allowed', 'methodRule', 0.4, {
        data: { ...logData, method },
        evidence: [samePage, methodEv],
        fixes: ['methodRule', 'readLog'],
      });
    const prefix = path.split('/').slice(0, 2).join('/') || '/';
    report.claim('path-forbidden', 'urlRule', 0.4, {
      data: { ...logData, prefix },
      evidence: [samePage],
      fixes: ['checkVcl', 'readLog'],
    });
    report.claim('ip-restricted', 'aclRule', 0.35, {
      data: logData,
      evidence: [samePage],
      fixes: ['compareAddress', 'readLog'],
    });
  },
  relayed: relayedNote,
});
