// Tomcat answers its own refusals in two shapes. The ErrorReportValve writes
// "HTTP Status 403 – Forbidden" pages with a "Message" line and the
// "Apache Tomcat/x.y.z" footer: the authenticator's role refusal carries the
// message "Access to the requested resource has been denied", an address
// valve's (RemoteAddrValve, RemoteCIDRValve) carries none. The Manager app
// maps 401 and 403 to its own pages (401.jsp, 403.jsp); its 403 page is the
// same for a missing manager-gui role, its address valve and its CSRF filter,
// and only `Cache-Control: private` (set by the authenticator, which runs
// after the valve) hints which one answered.
import { defineRule, ev, type CauseClaim } from '../define.ts';
import type { Context } from '../../engine/context.ts';
import type { Fix } from '../../model/report.ts';

const DOCS = {
  manager: 'https://tomcat.apache.org/tomcat-10.1-doc/manager-howto.html#Configuring_Manager_Application_Access',
  valve: 'https://tomcat.apache.org/tomcat-10.1-doc/config/valve.html#Remote_Address_Valve',
  realm: 'https://tomcat.apache.org/tomcat-10.1-doc/realm-howto.html',
  errorReport: 'https://tomcat.apache.org/tomcat-10.1-doc/config/valve.html#Error_Report_Valve',
};
/** The authenticator's message for a failed auth-constraint (LocalStrings "authenticator.forbidden"). */
const ROLE_MESSAGE = 'Access to the requested resource has been denied';

type Page =
  | { kind: 'report'; status: number; message?: string; version?: string }
  | { kind: 'manager'; status: number };

function decode(s: string): string {
  return s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&').trim();
}

function page(ctx: Context): Page | undefined {
  const text = ctx.body.text;
  const report = /<title>HTTP Status (\d{3}) – [^<]*<\/title>[\s\S]*<p><b>Type<\/b> Status Report<\/p>/.exec(text);
  if (report) {
    const message = /<p><b>Message<\/b> ([^<]*)<\/p>/.exec(text)?.[1];
    const version = /<h3>(Apache Tomcat\/[^<]+)<\/h3>/.exec(text)?.[1];
    return { kind: 'report', status: Number(report[1]), ...(message ? { message: decode(message) } : {}), ...(version ? { version } : {}) };
  }
  const manager = /<title>(401 Unauthorized|403 Access Denied)<\/title>/.exec(text);
  if (manager && text.includes('<tt>conf/tomcat-users.xml</tt>') && text.includes('<tt>manager-gui</tt>')) return { kind: 'manager', status: Number(manager[1].slice(0, 3)) };
  return undefined;
}

export default defineRule({
  meta: {
    id: 'tomcat',
    kind: 'producer',
    product: 'tomcat',
    layer: 'web-server',
    description: 'Apache Tomcat’s own denials: the ErrorReportValve’s “HTTP Status 403 – Forbidden” page (a web.xml role constraint or an address valve), and the Manager app’s 401 and “403 Access Denied” pages (no credentials, wrong password, missing manager-gui role, RemoteAddrValve).',
    docs: [DOCS.manager, DOCS.valve, DOCS.realm, DOCS.errorReport],
    causes: ['credential-missing', 'credential-invalid', 'credential-malformed', 'insufficient-role', 'ip-restricted'],
  },
  applies: (ctx) => (ctx.status === 401 || ctx.status === 403) && Boolean(page(ctx)),
  run(ctx) {
    const p = page(ctx);
    if (!p) return undefined;
    const pageEvidence =
      p.kind === 'manager'
        ? ev('body', `Tomcat Manager’s ${p.status === 401 ? '401 Unauthorized' : '403 Access Denied'} page (names conf/tomcat-users.xml and the manager-gui role)`)
        : ev('body', `Tomcat’s error report “HTTP Status ${p.status}”${p.version ? ` signed ${p.version}` : ''}`);
    // The footer is Tomcat's own signature; without it (showServerInfo="false") the page shape alone is less sure.
    const confidence = p.kind === 'manager' || p.version ? 0.9 : 0.7;
    const producer = { product: 'tomcat' as const, layer: 'web-server' as const, confidence, evidence: [pageEvidence] };
    if (p.status !== ctx.status) return { producer, notes: [`The body is Tomcat’s ${p.status} page but the status is ${ctx.status}: something relayed or remapped it.`] };

    const url = ctx.url?.href ?? 'URL';
    const manager = p.kind === 'manager' || ctx.url?.pathname.startsWith('/manager/');
    const users: Fix = {
      title: manager ? 'Give the user the manager-gui role in tomcat-users.xml' : 'Check the user’s roles in the realm against the web.xml auth-constraint',
      difficulty: 'easy',
      commands: ['grep -n "<role\\|<user" $CATALINA_BASE/conf/tomcat-users.xml', ...(manager ? [] : ['grep -n -A3 "<auth-constraint>" $CATALINA_BASE/webapps/*/WEB-INF/web.xml']), '$CATALINA_HOME/bin/catalina.sh configtest'],
      verify: manager
        ? 'Your user’s roles include manager-gui (HTML interface) or manager-script (/manager/text); Tomcat reads tomcat-users.xml at start, so restart it, then the same request answers 200.'
        : 'One of your user’s roles is a role-name in the auth-constraint covering this path; after a restart the same request answers 200.',
      docs: manager ? DOCS.manager : DOCS.realm,
    };
    const valve: Fix = {
      title: 'Find the RemoteAddrValve / RemoteCIDRValve on this context and compare its allow with your address',
      difficulty: 'medium',
      commands: [
        'grep -rn "RemoteAddrValve\\|RemoteCIDRValve" $CATALINA_BASE/conf/ $CATALINA_BASE/webapps/*/META-INF/context.xml',
        '$CATALINA_HOME/bin/catalina.sh configtest',
      ],
      verify: 'Your address, as Tomcat sees it (the TCP peer unless a RemoteIpValve is configured), matches the valve’s `allow` regular expression (RemoteAddrValve) or CIDR list (RemoteCIDRValve); a context XML in conf/Catalina/localhost/ replaces the webapp’s META-INF/context.xml.',
      docs: DOCS.valve,
    };

    if (ctx.status === 401) {
      const basic = ctx.headers('www-authenticate').map((c) => /^\s*basic\b(?:.*?realm="([^"]*)")?/i.exec(c)).find(Boolean);
      const realm = basic?.[1];
      const where = realm !== undefined ? ` (realm "${realm}")` : '';
      const challenge = ev('header:www-authenticate', basic ? `Basic${realm !== undefined ? ` realm="${realm}"` : ''}` : 'no Basic challenge');
      const sent = ctx.requestHeader('authorization');
      const fixes: Fix[] = [
        { title: 'Send the user name and password of a user in Tomcat’s realm', difficulty: 'easy', commands: [`curl -u USER ${url}`], verify: 'The same request no longer answers 401.', docs: manager ? DOCS.manager : DOCS.realm },
        users,
      ];
      const causes: CauseClaim[] = [];
      if (sent && /^basic\s/i.test(sent))
        causes.push({ id: 'credential-invalid', weight: 0.8, summary: `Tomcat challenged again${where} although Basic credentials were sent: the user is not in the realm, the password is wrong, or the LockOutRealm has locked the user after repeated failures.`, evidence: [pageEvidence, challenge, ev('request-header:authorization', 'Basic credentials were sent')], fixes });
      else if (sent)
        causes.push({ id: 'credential-malformed', weight: 0.75, summary: `Tomcat asks for HTTP Basic${where}, but the request sent a ${sent.split(/\s/)[0]} credential.`, evidence: [pageEvidence, challenge, ev('request-header:authorization', `${sent.split(/\s/)[0]} … (not Basic)`)], fixes });
      else causes.push({ id: 'credential-missing', weight: 0.8, summary: `Tomcat requires HTTP Basic authentication${where} for this path and the request sent none.`, evidence: [pageEvidence, challenge, ev('request', 'no Authorization header sent')], fixes });
      return { producer, causes };
    }

    if (p.kind === 'report') {
      if (p.message === ROLE_MESSAGE) {
        return {
          producer,
          causes: [{ id: 'insufficient-role', weight: 0.8, summary: 'Tomcat authenticated the user, but none of the user’s roles is allowed by the web.xml security-constraint on this path.', evidence: [pageEvidence, ev('body', `Message: "${ROLE_MESSAGE}" (the authenticator’s refusal)`)], fixes: [users] }],
        };
      }
      // An address valve calls sendError(403) without a message; so may an application.
      return {
        producer,
        causes: [{ id: 'ip-restricted', weight: p.message ? 0.3 : 0.6, summary: 'Tomcat’s 403 without the authenticator’s message: typically a RemoteAddrValve or RemoteCIDRValve on the context whose `allow` does not match your address.', evidence: [pageEvidence, ev('body', p.message ? `Message: "${p.message}"` : 'no Message line (a valve’s refusal carries none)')], fixes: [valve] }],
        ...(p.message ? { notes: [`Tomcat’s page carries the message "${p.message}", which may come from the application itself.`] } : {}),
      };
    }

    // The Manager's one 403 page: weigh the two causes by whether the authenticator ran.
    const authenticated = /\bprivate\b/i.test(ctx.header('cache-control') ?? '') && Boolean(ctx.requestHeader('authorization'));
    const samePage = ev('body', 'the Manager shows the same “403 Access Denied” page for a missing role, its address valve and its CSRF filter');
    const cacheEvidence = ev('header:cache-control', authenticated ? 'Cache-Control: private with credentials sent: the authenticator ran, so the address valve passed' : 'no Cache-Control: private: the authenticator did not run, as when the address valve refuses first');
    const role: CauseClaim = { id: 'insufficient-role', weight: authenticated ? 0.7 : 0.35, summary: 'The user authenticated but lacks the manager-gui role the Manager’s HTML interface requires (manager-script for /manager/text, manager-status for /manager/status).', evidence: [pageEvidence, samePage, cacheEvidence], fixes: [users] };
    const ip: CauseClaim = { id: 'ip-restricted', weight: authenticated ? 0.35 : 0.7, summary: 'The Manager’s RemoteAddrValve / RemoteCIDRValve does not allow your address (by default only 127.0.0.0/8 and ::1).', evidence: [pageEvidence, samePage, cacheEvidence], fixes: [valve] };
    return {
      producer,
      causes: authenticated ? [role, ip] : [ip, role],
      notes: ['If you reached this page with the browser’s back button or a bookmark, the Manager’s CSRF protection may be the cause: open /manager/html again.'],
    };
  },
});
