// Squid signs every response it makes itself: `X-Squid-Error: ERR_… <errno>`,
// `Server: squid/<version>`, and an error page whose footer reads "Generated
// <date> by <host> (squid/<version>)". The ERR_ code names the template, and
// so the reason: ERR_ACCESS_DENIED is an `http_access deny` (its policy, not
// the server's), ERR_CACHE_ACCESS_DENIED is its own proxy authentication.
// A response Squid only relayed keeps the origin's Server header and gains
// just Via / X-Cache: Squid did not say no, and this rule claims nothing.
// What the rule says and suggests is in texts.json.
import { defineProducer, ev, signals, type Context, type Evidence } from '../define.ts';
import { namedServer } from '../_lib/server-header.ts';
import texts from './texts.json' with { type: 'json' };

const SERVER = /^squid(\/[\d.]+)?/i;
const ERROR_HEADER = /^(ERR_[A-Z0-9_]+)\b/;
const FOOTER = /Generated [^<\n]*? by ([^<\n]*?) \((squid\/[\d.]+)\)/i;
const TEMPLATE_COMMENT = /<!-- (ERR_[A-Z0-9_]+) -->/;
const VIA_SQUID = /\(squid(\/[\d.]+)?\)/i;

/** Squid's own errors that are not refusals: the request was allowed and failed later. */
const NOT_A_DENIAL =
  /^ERR_(CONNECT_FAIL|DNS_FAIL|READ_TIMEOUT|READ_ERROR|WRITE_ERROR|LIFETIME_EXP|CANNOT_FORWARD|INVALID_URL|INVALID_REQ|INVALID_RESP|TOO_BIG|ZERO_SIZE_OBJECT|GATEWAY_FAILURE|SOCKET_FAILURE|SHUTTING_DOWN|UNSUP_REQ|UNSUP_HTTPVERSION|ONLY_IF_CACHED_MISS|PRECONDITION_FAILED|NO_RELAY|URN_RESOLVE|ICAP_FAILURE|ESI|FTP_\w+)$/;

/** Where the proxy is, for commands: the route `check` took, else Squid's own "host:port" in X-Cache-Lookup. */
function proxyAddress(ctx: Context): string {
  const traced = ctx.exchange.trace?.proxy;
  if (traced?.used && traced.url) return traced.url;
  const lookup = /from (\S+:\d+)/.exec(ctx.header('x-cache-lookup') ?? '');
  return lookup ? `http://${lookup[1]}` : 'http://PROXY:3128';
}

/** A response Squid only relayed: its Via, none of its own marks (the rule claimed nothing). */
function relayedNote(ctx: Context): string | undefined {
  const via = ctx.header('via');
  if (!via || !VIA_SQUID.test(via)) return undefined;
  return `The response passed through a Squid proxy (Via: ${via}) but Squid did not make it: the ${ctx.status} comes from behind the proxy.`;
}

/** What Squid's own refusals say, by template. */
function refusal(code: string, host: string): string {
  if (code === 'ERR_ACCESS_DENIED') return `Squid’s access rules (http_access) refuse this request to ${host}`;
  if (code === 'ERR_FORWARDING_DENIED')
    return 'Squid refuses to forward this request (a parent proxy or miss_access rule)';
  return `Squid refused the request with ${code}`;
}

export default defineProducer({
  meta: {
    id: 'squid',
    product: 'squid',
    layer: 'forward-proxy',
    causes: ['proxy-interference', 'credential-missing', 'credential-invalid', 'rate-limited'],
    // Squid's ERR_ templates come with many statuses; the ones that are not denials get a note.
    statuses: 'any',
    ...texts,
  },
  recognise(ctx) {
    const found = signals();
    const errorHeader = ctx.header('x-squid-error');
    const server = namedServer(ctx, SERVER);
    const footer = FOOTER.exec(ctx.body.text) ?? undefined;
    // A bare Server header could be an origin that names itself squid; the ERR_ code or page cannot.
    if (errorHeader) found.add(0.95, ev('header:x-squid-error', errorHeader));
    if (server) found.add(0.6, server.evidence);
    if (footer) found.add(0.95, ev('body', `Squid error page footer "Generated … by ${footer[1]} (${footer[2]})"`));
    const code = (errorHeader && ERROR_HEADER.exec(errorHeader)?.[1]) ?? TEMPLATE_COMMENT.exec(ctx.body.text)?.[1];
    const codeEvidence = ev(errorHeader ? 'header:x-squid-error' : 'body', `Squid template ${code}`);
    // Without the trace we cannot see the route; a Squid that was reached
    // directly (no proxy configured) is an accelerator in front of the site.
    const direct = ctx.exchange.trace?.proxy && !ctx.exchange.trace.proxy.used;
    return found.result({ code, codeEvidence, ...(direct ? { layer: 'reverse-proxy' as const } : {}) });
  },
  explain(ctx, { code, codeEvidence }, report) {
    if (!code) return;
    if (NOT_A_DENIAL.test(code)) {
      report.note(
        `Squid answered ${ctx.status} with ${code}: the proxy allowed the request but could not complete it. That is not a denial.`,
      );
      return;
    }
    const url = ctx.url?.href ?? 'URL';
    const host = ctx.url?.hostname ?? 'HOST';
    const proxy = proxyAddress(ctx);
    // Values for the fixes' placeholders (texts.json).
    const target = { url, host, proxy, proxyWithUser: proxy.replace('://', '://USER:PASSWORD@') };

    if (code === 'ERR_CACHE_ACCESS_DENIED') {
      const challenge = ctx.proxyChallenges[0];
      const realm = challenge?.params.realm;
      const sent = ctx.requestHeader('proxy-authorization');
      const serverCredential = ctx.requestHeader('authorization');
      const authEvidence: Evidence[] = [
        codeEvidence,
        ...(challenge
          ? [ev('header:proxy-authenticate', `${challenge.scheme}${realm ? ` realm="${realm}"` : ''}`)]
          : []),
      ];
      const where = realm ? ` (realm "${realm}")` : '';
      if (sent)
        report.claim('credential-invalid', 'authRefused', 0.8, {
          data: { ...target, where },
          evidence: [
            ...authEvidence,
            ev('request-header:proxy-authorization', `${sent.split(/\s/)[0]} … (sent and refused)`),
          ],
          fixes: ['proxyAuth', 'checkHelper'],
        });
      else
        report.claim('credential-missing', 'authMissing', 0.85, {
          data: {
            ...target,
            where,
            serverNote: serverCredential ? '; the Authorization header is for the server and the proxy ignores it' : '',
          },
          evidence: [
            ...authEvidence,
            ev(
              'request',
              serverCredential
                ? 'Authorization sent, but no Proxy-Authorization'
                : 'no Proxy-Authorization header sent',
            ),
          ],
          fixes: ['proxyAuth'],
        });
      return;
    }
    if (code === 'ERR_ACL_TIME_QUOTA_EXCEEDED') {
      report.claim('rate-limited', 'timeQuota', 0.7, {
        data: target,
        evidence: [codeEvidence],
        fixes: ['quota', 'bypass'],
      });
      return;
    }
    const via = ctx.header('via');
    const policyText = /Access control configuration prevents your request/i.test(ctx.body.text);
    report.claim(
      'proxy-interference',
      'refused',
      code === 'ERR_ACCESS_DENIED' || code === 'ERR_FORWARDING_DENIED' ? 0.85 : 0.6,
      {
        data: {
          ...target,
          what: refusal(code, host),
          credentialNote: ctx.requestHeader('proxy-authorization')
            ? ' Proxy credentials were sent, so this is the policy, not authentication.'
            : '',
        },
        evidence: [
          codeEvidence,
          ...(via && VIA_SQUID.test(via) ? [ev('header:via', via)] : []),
          ...(policyText
            ? [ev('body', 'Access control configuration prevents your request from being allowed at this time.')]
            : []),
        ],
        fixes: ['confirmProxy', 'bypass', 'askAdmin'],
      },
    );
  },
  relayed: relayedNote,
});
