// Caddy's own refusals carry `Server: Caddy` and, unless `handle_errors` is
// configured, an empty body: a `respond … 403` on a remote_ip matcher, a
// `respond` on a path, and a file its user cannot read all look alike (the
// last one only leaves a debug-level "permission denied" in the log). A
// `respond` with a body says only what the config's author wrote. Behind
// `reverse_proxy` Caddy still adds `Server: Caddy` to the upstream's answer,
// so a body that is not Caddy's shape is not taken as Caddy's denial.
import { defineRule, ev, type CauseClaim } from '../define.ts';
import type { Context } from '../../engine/context.ts';

const CONFIG = '/etc/caddy/Caddyfile';
const DOCS_RESPOND = 'https://caddyserver.com/docs/caddyfile/directives/respond';
const DOCS_REMOTE_IP = 'https://caddyserver.com/docs/caddyfile/matchers#remote-ip';
const DOCS_BASICAUTH = 'https://caddyserver.com/docs/caddyfile/directives/basicauth';
const DOCS_FILE_SERVER = 'https://caddyserver.com/docs/caddyfile/directives/file_server';

function servers(ctx: Context): string[] {
  return ctx.headers('server').flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
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

const logFix = {
  title: 'Read Caddy’s log for this request: the access line shows the status, the error line (debug level in Caddy 2.6) the reason',
  difficulty: 'easy' as const,
  commands: ['journalctl -u caddy --since "15 min ago" | grep -E "\\"status\\":40[13]|permission denied|not authenticated"'],
  verify: '"permission denied" = the file is unreadable to the caddy user; "not authenticated" = basicauth; an access line with no error line = a `respond` directive.',
  docs: 'https://caddyserver.com/docs/caddyfile/options#debug',
};
const adaptFix = {
  title: 'See which matcher answers this path: adapt the Caddyfile to JSON and look for static_response and remote_ip',
  difficulty: 'easy' as const,
  commands: [`caddy validate --config ${CONFIG}`, `caddy adapt --config ${CONFIG} --pretty | grep -nE "remote_ip|static_response|status_code|path"`, `grep -nE "remote_ip|respond|basicauth|error" ${CONFIG}`],
  verify: 'No `respond … 403` (or `error … 403`) matcher covers this path and client address.',
  docs: DOCS_RESPOND,
};

export default defineRule({
  meta: {
    id: 'caddy',
    kind: 'producer',
    product: 'caddy',
    layer: 'web-server',
    description: 'Caddy’s own 401/403 answers: respond on remote_ip or path matchers, unreadable files under file_server, basicauth.',
    docs: [DOCS_RESPOND, DOCS_REMOTE_IP, DOCS_BASICAUTH, DOCS_FILE_SERVER, 'https://caddyserver.com/docs/caddyfile/directives/reverse_proxy'],
    causes: ['ip-restricted', 'path-forbidden', 'filesystem-permission', 'credential-missing', 'credential-malformed', 'credential-invalid'],
  },
  applies: (ctx) => servers(ctx).some(isCaddy),
  run(ctx) {
    const all = servers(ctx);
    const others = all.filter((v) => !isCaddy(v));
    const via = ctx.header('via');
    // reverse_proxy adds its own Server to the upstream's, so two names mean Caddy relayed someone else's answer.
    if (others.length)
      return { notes: [`Caddy relayed this response from an upstream that names itself "${others.join(', ')}" (Server headers: ${all.join(', ')}); the upstream, not Caddy, decided.`] };

    const evidence = [ev('header:server', 'Caddy'), ...(via ? [ev('header:via', via)] : [])];
    const body = shape(ctx);
    if (body === 'foreign' || via) {
      // Caddy's `handle_errors` can serve such a page too, so Caddy stays possible, but not as the one that said no.
      return {
        producer: { product: 'caddy', layer: 'reverse-proxy', confidence: 0.4, evidence: [...evidence, ev('body', 'the body is not one Caddy makes by itself (empty, or the text of a `respond`)')] },
        notes: ['Caddy answered, but the body looks like an upstream’s (reverse_proxy) or a custom error page: the denial is probably the application’s. Check `caddy adapt --config /etc/caddy/Caddyfile --pretty | grep -n reverse_proxy`.'],
      };
    }
    const producer = {
      product: 'caddy' as const,
      layer: 'web-server' as const,
      confidence: body === 'empty' ? 0.85 : 0.7,
      evidence: [...evidence, ev('body', body === 'empty' ? 'empty body: Caddy’s default for its own errors and for `respond` without a body' : `short text/plain body, as \`respond "…" ${ctx.status}\` sends`)],
    };

    const causes: CauseClaim[] = [];
    if (ctx.status === 401) {
      const basic = ctx.challenges.find((c) => c.scheme.toLowerCase() === 'basic');
      if (!basic) return { producer };
      const realm = basic.params.realm ?? '?';
      const sent = ctx.requestHeader('authorization');
      const challenge = ev('header:www-authenticate', `Basic realm="${realm}"${realm === 'restricted' ? ' (basicauth’s default realm)' : ''}`);
      const fixes = [
        { title: 'Send the user name and password this route expects (basicauth)', difficulty: 'easy' as const, commands: [`curl -u USER ${ctx.url?.href ?? 'URL'}`], verify: 'The same request answers 200 instead of 401.' },
        { title: 'Check the account in the basicauth block and set a new password hash', difficulty: 'medium' as const, commands: [`grep -n -A4 basicauth ${CONFIG}`, 'caddy hash-password  # paste the hash into the basicauth block, then: systemctl reload caddy'], docs: DOCS_BASICAUTH },
        logFix,
      ];
      if (sent && /^basic\s/i.test(sent))
        causes.push({ id: 'credential-invalid', weight: 0.8, summary: `Caddy’s basicauth rejected the Basic credentials for realm "${realm}": unknown user or wrong password.`, evidence: [...evidence, challenge, ev('request-header:authorization', 'Basic credentials were sent')], fixes });
      else if (sent)
        causes.push({ id: 'credential-malformed', weight: 0.75, summary: `Caddy wants HTTP Basic credentials (realm "${realm}") but the request sent a ${sent.split(/\s/)[0]} credential, which basicauth ignores.`, evidence: [...evidence, challenge, ev('request-header:authorization', `${sent.split(/\s/)[0]} … (not Basic)`)], fixes });
      else causes.push({ id: 'credential-missing', weight: 0.8, summary: `Caddy’s basicauth requires HTTP Basic credentials (realm "${realm}") and the request sent none.`, evidence: [...evidence, challenge], fixes });
      return { producer, causes };
    }
    if (ctx.status !== 403) return { producer };

    const path = ctx.url?.pathname || '/FILE';
    const ipCause: CauseClaim = {
      id: 'ip-restricted',
      weight: 0.4,
      summary: 'A `respond … 403` on a remote_ip (or client_ip) matcher may exclude your address; Caddy’s answer is the same as for any other `respond`.',
      evidence: [...producer.evidence],
      fixes: [
        { title: 'Compare the address Caddy sees with the remote_ip ranges', difficulty: 'medium', commands: [`grep -n -B2 -A2 "remote_ip\\|client_ip" ${CONFIG}`, 'journalctl -u caddy --since "15 min ago" | grep -o "\\"remote_ip\\":\\"[^\\"]*\\"" | sort | uniq -c'], verify: 'Your address, as logged in request.remote_ip, is outside the blocked matcher (behind a proxy, see `trusted_proxies`).', docs: DOCS_REMOTE_IP },
        adaptFix,
      ],
    };
    const pathCause: CauseClaim = {
      id: 'path-forbidden',
      weight: body === 'plain' ? 0.45 : 0.4,
      summary: body === 'plain'
        ? `A \`respond\` directive answered 403 with the text "${ctx.body.text.trim().slice(0, 80)}": the configuration refuses this path.`
        : 'A `respond … 403` (or `error … 403`) on a path matcher may refuse this path for everyone.',
      evidence: [...producer.evidence, ...(body === 'plain' ? [ev('body', `"${ctx.body.text.trim().slice(0, 80)}" (text from the Caddyfile)`)] : [])],
      fixes: [adaptFix, logFix],
    };
    causes.push(pathCause, ipCause);
    // file_server's error carries no body; a body means a `respond` wrote it.
    if (body === 'empty')
      causes.push({
        id: 'filesystem-permission',
        weight: 0.35,
        summary: 'Caddy answers an empty 403 when the caddy user cannot read the file or enter a directory on its path (directories without index and hidden files get 404, not 403).',
        evidence: [...producer.evidence],
        fixes: [
          { title: 'Check that the caddy user can read the file and enter every directory above it', difficulty: 'easy', commands: [`namei -l <root>${path}`, `sudo -u caddy test -r <root>${path} && echo readable`], verify: 'Every directory on the path has x for caddy and the file has r.', docs: DOCS_FILE_SERVER },
          logFix,
        ],
      });
    return { producer, causes };
  },
});
