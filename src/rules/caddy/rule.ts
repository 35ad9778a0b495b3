// Caddy's own refusals carry `Server: Caddy` and, unless `handle_errors` is
// configured, an empty body: a `respond … 403` on a remote_ip matcher, a
// `respond` on a path, and a file its user cannot read all look alike (the
// last one only leaves a debug-level "permission denied" in the log). A
// `respond` with a body says only what the config's author wrote. Behind
// `reverse_proxy` Caddy still adds `Server: Caddy` to the upstream's answer,
// so a body that is not Caddy's shape is not taken as Caddy's denial.
import { defineProducer, ev, type Context, type Fix } from '../define.ts';
import { claimBasicAuth } from '../_lib/basic-auth.ts';
import { BASIC_MESSAGES, sendPasswordFix } from '../_lib/basic-auth.ts';
import { challenge } from '../_lib/challenges.ts';

const CONFIG = '/etc/caddy/Caddyfile';
const DOCS_RESPOND = 'https://caddyserver.com/docs/caddyfile/directives/respond';
const DOCS_REMOTE_IP = 'https://caddyserver.com/docs/caddyfile/matchers#remote-ip';
const DOCS_BASICAUTH = 'https://caddyserver.com/docs/caddyfile/directives/basicauth';
const DOCS_FILE_SERVER = 'https://caddyserver.com/docs/caddyfile/directives/file_server';

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

const logFix: Fix = {
  title:
    'Read Caddy’s log for this request: the access line shows the status, the error line (debug level in Caddy 2.6) the reason',
  difficulty: 'easy',
  commands: [
    'journalctl -u caddy --since "15 min ago" | grep -E "\\"status\\":40[13]|permission denied|not authenticated"',
  ],
  verify:
    '"permission denied" = the file is unreadable to the caddy user; "not authenticated" = basicauth; an access line with no error line = a `respond` directive.',
  docs: 'https://caddyserver.com/docs/caddyfile/options#debug',
};
const adaptFix: Fix = {
  title: 'See which matcher answers this path: adapt the Caddyfile to JSON and look for static_response and remote_ip',
  difficulty: 'easy',
  commands: [
    `caddy validate --config ${CONFIG}`,
    `caddy adapt --config ${CONFIG} --pretty | grep -nE "remote_ip|static_response|status_code|path"`,
    `grep -nE "remote_ip|respond|basicauth|error" ${CONFIG}`,
  ],
  verify: 'No `respond … 403` (or `error … 403`) matcher covers this path and client address.',
  docs: DOCS_RESPOND,
};

const basicFixes = (ctx: Context): Fix[] => [
  sendPasswordFix(ctx, 'this route expects (basicauth)'),
  {
    title: 'Check the account in the basicauth block and set a new password hash',
    difficulty: 'medium',
    commands: [
      `grep -n -A4 basicauth ${CONFIG}`,
      'caddy hash-password  # paste the hash into the basicauth block, then: systemctl reload caddy',
    ],
    docs: DOCS_BASICAUTH,
  },
  logFix,
];

const addressFixes: Fix[] = [
  {
    title: 'Compare the address Caddy sees with the remote_ip ranges',
    difficulty: 'medium',
    commands: [
      `grep -n -B2 -A2 "remote_ip\\|client_ip" ${CONFIG}`,
      'journalctl -u caddy --since "15 min ago" | grep -o "\\"remote_ip\\":\\"[^\\"]*\\"" | sort | uniq -c',
    ],
    verify:
      'Your address, as logged in request.remote_ip, is outside the blocked matcher (behind a proxy, see `trusted_proxies`).',
    docs: DOCS_REMOTE_IP,
  },
  adaptFix,
];

const permissionFixes = (file: string): Fix[] => [
  {
    title: 'Check that the caddy user can read the file and enter every directory above it',
    difficulty: 'easy',
    commands: [`namei -l <root>${file}`, `sudo -u caddy test -r <root>${file} && echo readable`],
    verify: 'Every directory on the path has x for caddy and the file has r.',
    docs: DOCS_FILE_SERVER,
  },
  logFix,
];

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
    description:
      'Caddy’s own 401/403 answers: respond on remote_ip or path matchers, unreadable files under file_server, basicauth.',
    docs: [
      DOCS_RESPOND,
      DOCS_REMOTE_IP,
      DOCS_BASICAUTH,
      DOCS_FILE_SERVER,
      'https://caddyserver.com/docs/caddyfile/directives/reverse_proxy',
    ],
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
    messages: {
      basicRejected:
        'Caddy’s basicauth rejected the Basic credentials for realm "{{realm}}": unknown user or wrong password.',
      basicWrongScheme:
        'Caddy wants HTTP Basic credentials (realm "{{realm}}") but the request sent a {{scheme}} credential, which basicauth ignores.',
      basicMissing: 'Caddy’s basicauth requires HTTP Basic credentials (realm "{{realm}}") and the request sent none.',
      respondText: 'A `respond` directive answered 403 with the text "{{text}}": the configuration refuses this path.',
      respondPath: 'A `respond … 403` (or `error … 403`) on a path matcher may refuse this path for everyone.',
      remoteIp:
        'A `respond … 403` on a remote_ip (or client_ip) matcher may exclude your address; Caddy’s answer is the same as for any other `respond`.',
      unreadable:
        'Caddy answers an empty 403 when the caddy user cannot read the file or enter a directory on its path (directories without index and hidden files get 404, not 403).',
    },
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
      return { confidence: 0.4, evidence, layer: 'reverse-proxy' as const, body: 'foreign' as const };
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
      if (challenge(ctx, 'basic')) claimBasicAuth(ctx, report, BASIC_MESSAGES, { evidence, fixes: basicFixes(ctx) });
      return;
    }
    if (ctx.status !== 403) return;
    const text = ctx.body.text.trim().slice(0, 80);
    report.claim('path-forbidden', body === 'plain' ? 'respondText' : 'respondPath', body === 'plain' ? 0.45 : 0.4, {
      data: { text },
      evidence: [...evidence, ...(body === 'plain' ? [ev('body', `"${text}" (text from the Caddyfile)`)] : [])],
      fixes: [adaptFix, logFix],
    });
    report.claim('ip-restricted', 'remoteIp', 0.4, { evidence: [...evidence], fixes: addressFixes });
    // file_server's error carries no body; a body means a `respond` wrote it.
    if (body === 'empty')
      report.claim('filesystem-permission', 'unreadable', 0.35, {
        evidence: [...evidence],
        fixes: permissionFixes(ctx.url?.pathname || '/FILE'),
      });
  },
  relayed: relayedNote,
});
