// Tomcat answers its own refusals in two shapes. The ErrorReportValve writes
// "HTTP Status 403 – Forbidden" pages with a "Message" line and the
// "Apache Tomcat/x.y.z" footer: the authenticator's role refusal carries the
// message "Access to the requested resource has been denied", an address
// valve's (RemoteAddrValve, RemoteCIDRValve) carries none. The Manager app
// maps 401 and 403 to its own pages (401.jsp, 403.jsp); its 403 page is the
// same for a missing manager-gui role, its address valve and its CSRF filter,
// and only `Cache-Control: private` (set by the authenticator, which runs
// after the valve) hints which one answered. What the rule says and suggests
// is in texts.json.
import { defineProducer, ev, type Context } from '../define.ts';
import { basicChallenge, sentCredential } from '../_lib/basic-auth.ts';
import texts from './texts.json' with { type: 'json' };

/** The authenticator's message for a failed auth-constraint (LocalStrings "authenticator.forbidden"). */
const ROLE_MESSAGE = 'Access to the requested resource has been denied';

type Page =
  { kind: 'report'; status: number; message?: string; version?: string } | { kind: 'manager'; status: number };

function decode(s: string): string {
  return s
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
    .trim();
}

function page(ctx: Context): Page | undefined {
  const text = ctx.body.text;
  const report = /<title>HTTP Status (\d{3}) – [^<]*<\/title>[\s\S]*<p><b>Type<\/b> Status Report<\/p>/.exec(text);
  if (report) {
    const message = /<p><b>Message<\/b> ([^<]*)<\/p>/.exec(text)?.[1];
    const version = /<h3>(Apache Tomcat\/[^<]+)<\/h3>/.exec(text)?.[1];
    return {
      kind: 'report',
      status: Number(report[1]),
      ...(message ? { message: decode(message) } : {}),
      ...(version ? { version } : {}),
    };
  }
  const manager = /<title>(401 Unauthorized|403 Access Denied)<\/title>/.exec(text);
  if (manager && text.includes('<tt>conf/tomcat-users.xml</tt>') && text.includes('<tt>manager-gui</tt>'))
    return { kind: 'manager', status: Number(manager[1].slice(0, 3)) };
  return undefined;
}

const TOMCAT_STATUSES = [401, 403];

const CSRF_NOTE =
  'If you reached this page with the browser’s back button or a bookmark, the Manager’s CSRF protection may be the cause: open /manager/html again.';

export default defineProducer({
  meta: {
    id: 'tomcat',
    product: 'tomcat',
    layer: 'web-server',
    causes: ['credential-missing', 'credential-invalid', 'credential-malformed', 'insufficient-role', 'ip-restricted'],
    statuses: TOMCAT_STATUSES,
    ...texts,
  },
  recognise(ctx) {
    // Tomcat's pages are read only on the statuses it refuses with, as before the declared gate.
    const p = TOMCAT_STATUSES.includes(ctx.status) ? page(ctx) : undefined;
    if (!p) return undefined;
    const pageEvidence =
      p.kind === 'manager'
        ? ev(
            'body',
            `Tomcat Manager’s ${p.status === 401 ? '401 Unauthorized' : '403 Access Denied'} page (names conf/tomcat-users.xml and the manager-gui role)`,
          )
        : ev('body', `Tomcat’s error report “HTTP Status ${p.status}”${p.version ? ` signed ${p.version}` : ''}`);
    // The footer is Tomcat's own signature; without it (showServerInfo="false") the page shape alone is less sure.
    return {
      confidence: p.kind === 'manager' || p.version ? 0.9 : 0.7,
      evidence: [pageEvidence],
      page: p,
      pageEvidence,
    };
  },
  explain(ctx, { page: p, pageEvidence }, report) {
    if (p.status !== ctx.status) {
      report.note(
        `The body is Tomcat’s ${p.status} page but the status is ${ctx.status}: something relayed or remapped it.`,
      );
      return;
    }
    const manager = p.kind === 'manager' || Boolean(ctx.url?.pathname.startsWith('/manager/'));
    const users = manager ? 'managerRole' : 'realmRoles';

    if (ctx.status === 401) {
      const basic = basicChallenge(ctx);
      const sent = sentCredential(ctx);
      const data = {
        where: basic.realm !== undefined ? ` (realm "${basic.realm}")` : '',
        scheme: sent.scheme,
        url: ctx.url?.href ?? 'URL',
      };
      const fixes = [manager ? 'sendManagerPassword' : 'sendPassword', users] as const;
      if (sent.kind === 'basic')
        report.claim('credential-invalid', 'basicRejected', 0.8, {
          data,
          evidence: [pageEvidence, basic.evidence, sent.evidence],
          fixes,
        });
      else if (sent.kind === 'other')
        report.claim('credential-malformed', 'basicWrongScheme', 0.75, {
          data,
          evidence: [pageEvidence, basic.evidence, sent.evidence],
          fixes,
        });
      else
        report.claim('credential-missing', 'basicMissing', 0.8, {
          data,
          evidence: [pageEvidence, basic.evidence, sent.evidence],
          fixes,
        });
      return;
    }

    if (p.kind === 'report') {
      if (p.message === ROLE_MESSAGE) {
        report.claim('insufficient-role', 'roleConstraint', 0.8, {
          evidence: [pageEvidence, ev('body', `Message: "${ROLE_MESSAGE}" (the authenticator’s refusal)`)],
          fixes: [users],
        });
        return;
      }
      // An address valve calls sendError(403) without a message; so may an application.
      report.claim('ip-restricted', 'valve', p.message ? 0.3 : 0.6, {
        evidence: [
          pageEvidence,
          ev('body', p.message ? `Message: "${p.message}"` : 'no Message line (a valve’s refusal carries none)'),
        ],
        fixes: ['compareAddress'],
      });
      if (p.message)
        report.note(`Tomcat’s page carries the message "${p.message}", which may come from the application itself.`);
      return;
    }

    // The Manager's one 403 page: weigh the two causes by whether the authenticator ran.
    const authenticated =
      /\bprivate\b/i.test(ctx.header('cache-control') ?? '') && Boolean(ctx.requestHeader('authorization'));
    const samePage = ev(
      'body',
      'the Manager shows the same “403 Access Denied” page for a missing role, its address valve and its CSRF filter',
    );
    const cacheEvidence = ev(
      'header:cache-control',
      authenticated
        ? 'Cache-Control: private with credentials sent: the authenticator ran, so the address valve passed'
        : 'no Cache-Control: private: the authenticator did not run, as when the address valve refuses first',
    );
    const evidence = [pageEvidence, samePage, cacheEvidence];
    const claims = [
      () => report.claim('insufficient-role', 'managerRole', authenticated ? 0.7 : 0.35, { evidence, fixes: [users] }),
      () =>
        report.claim('ip-restricted', 'managerValve', authenticated ? 0.35 : 0.7, {
          evidence,
          fixes: ['compareAddress'],
        }),
    ];
    // The likelier one first, as the tests and readers of the rule's output expect.
    for (const claim of authenticated ? claims : claims.reverse()) claim();
    report.note(CSRF_NOTE);
  },
});
