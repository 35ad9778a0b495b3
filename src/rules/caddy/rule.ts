// Caddy's own refusals carry `Server: Caddy` and, unless `handle_errors` is
// configured, an empty body: a `respond … 403` on a remote_ip matcher, a
// `respond` on a path, and a file its user cannot read all look alike (the
// last one only leaves a debug-level "permission denied" in the log). A
// `respond` with a body says only what the config's author wrote. Behind
// `reverse_proxy` Caddy still adds `Server: Caddy` to the upstream's answer,
// so a body that is not Caddy's shape is not taken as Caddy's denial. What
// the rule says and suggests is in texts.json.
import { defineProducer, ev, type Context } from '../define.ts';
import { claimBasicAuth } from '../_lib/basic-auth.ts';
import { BASIC_MESSAGES, sendPasswordFix } from '../_lib/basic-auth.ts';
import { challenge } from '../_lib/challenges.ts';
import texts from './texts.json' with { type: 'json' };

function servers(ctx: Context): string[] {
  return ctx
    .headers('server')
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter(Boolean);
}

const isCaddy = (v: string) => /^caddy$/i.test(v);

/** How much of the response is Caddy's own making. */
function shape(ctx: Context): 'empty' | 'plain' | 'foreign' {
  const text = ctx.body.text;
  if (!text.trim()) return 'empty';
  // `respond "…" 403` answers text/plain with the config's string; anything richer came from elsewhere.
  if (/^text\/plain/i.test(ctx.body.contentType) && text.length <= 512 && !ctx.body.json) return 'plain';
  return 'foreign';
}

const FOREIGN_NOTE =
  'Caddy answered, but the body looks like an upstream’s (reverse_proxy) or a custom error page: the denial is probably the application’s. Check `caddy adapt --config /etc/caddy/Caddyfile --pretty | grep -n reverse_proxy`.';

/** reverse_proxy adds its own Server to the upstream's, so two names mean Caddy relayed someone else's answer. */
function relayedNote(ctx: Context): string | undefined {
  const all = servers(ctx);
  const others = all.filter((v) => !isCaddy(v));
  if (!others.length || others.length === all.length) return undefined;
  return `Caddy relayed this response from an upstream that names itself "${others.join(', ')}" (Server headers: ${all.join(', ')}); the upstream, not Caddy, decided.`;
}

export default defineProducer({
  meta: {
    id: 'caddy',
    product: 'caddy',
    layer: 'web-server',
    relays: true,
    causes: [
      'ip-restricted',
      'path-forbidden',
      'filesystem-permission',
      'credential-missing',
      'credential-malformed',
      'credential-invalid',
    ],
    // The note on a relayed page is due whatever the status; causes only for 401 and 403.
    statuses: 'any',
    ...texts,
  },
  recognise(ctx) {
    const all = servers(ctx);
    // Another Server name beside Caddy's: the upstream's answer, noted by relayedNote.
    if (!all.some(isCaddy) || all.some((v) => !isCaddy(v))) return undefined;
    const via = ctx.header('via');
    const evidence = [ev('header:server', 'Caddy'), ...(via ? [ev('header:via', via)] : [])];
    const body = shape(ctx);
    // Caddy's `handle_errors` can serve such a page too, so Caddy stays possible, but not as the one that said no.
    if (body === 'foreign' || via) {
      evidence.push(ev('body', 'the body is not one Caddy makes by itself (empty, or the text of a `respond`)'));
      return {
        confidence: 0.4,
        evidence,
        layer: 'reverse-proxy' as const,
        body: 'foreign' as const,
      };
    }
    const status = ctx.status;
    evidence.push(
      ev(
        'body',
        body === 'empty'
          ? 'empty body: Caddy’s default for its own errors and for `respond` without a body'
          : `short text/plain body, as \`respond "…" ${status}\` sends`,
      ),
    );
    return { confidence: body === 'empty' ? 0.85 : 0.7, evidence, body };
  },
  explain(ctx, { body, evidence }, report) {
    if (body === 'foreign') {
      report.note(FOREIGN_NOTE);
      return;
    }
    if (ctx.status === 401) {
      if (challenge(ctx, 'basic'))
        claimBasicAuth(ctx, report, BASIC_MESSAGES, {
          evidence,
          fixes: [sendPasswordFix(ctx, 'this route expects (basicauth)'), 'resetPassword', 'log'],
        });
      return;
    }
    if (ctx.status !== 403) return;
    const text = ctx.body.text.trim().slice(0, 80);
    report.claim('path-forbidden', body === 'plain' ? 'respondText' : 'respondPath', body === 'plain' ? 0.45 : 0.4, {
      data: { text },
      evidence: [...evidence, ...(body === 'plain' ? [ev('body', `"${text}" (text from the Caddyfile)`)] : [])],
      fixes: ['adapt', 'log'],
    });
    report.claim('ip-restricted', 'remoteIp', 0.4, { evidence: [...evidence], fixes: ['compareAddress', 'adapt'] });
    // file_server's error carries no body; a body means a `respond` wrote it.
    if (body === 'empty')
      report.claim('filesystem-permission', 'unreadable', 0.35, {
        data: { file: ctx.url?.pathname || '/FILE' },
        evidence: [...evidence],
        fixes: ['caddyCanRead', 'log'],
      });
  },
  relayed: relayedNote,
});
