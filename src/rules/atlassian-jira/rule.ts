// Jira and Confluence (Atlassian): Seraph, their login filter, reports in
// X-Seraph-LoginReason why a login was refused (AUTHENTICATION_DENIED /
// AUTHENTICATED_FAILED mean CAPTCHA is in the way, whatever the password);
// the REST layer's XSRF filter answers "XSRF check failed"; REST errors come as
// {"errorMessages":[…],"errors":{}} or Cloud's {"message", "status-code"}.
import { defineProducer, ev, signals, type Context, type Fix } from '../define.ts';

const HEADERS = [
  'x-arequestid',
  'x-seraph-loginreason',
  'x-authentication-denied-reason',
  'x-ausername',
  'x-atenant-id',
  'atl-traceid',
  'x-confluence-request-time',
];
const XSRF_DOC = 'https://confluence.atlassian.com/cloudkb/xsrf-check-failed-when-calling-cloud-apis-826874382.html';
const API_TOKENS = 'open https://id.atlassian.com/manage-profile/security/api-tokens';

function messages(ctx: Context): string[] {
  const j = ctx.body.json as Record<string, unknown> | undefined;
  const out: string[] = [];
  if (j && typeof j === 'object' && !Array.isArray(j)) {
    if (Array.isArray(j.errorMessages)) for (const m of j.errorMessages) if (typeof m === 'string') out.push(m);
    if (typeof j.message === 'string') out.push(j.message);
  }
  if (!ctx.body.json && ctx.body.text.trim() && ctx.body.text.length < 500) out.push(ctx.body.text.trim());
  return out;
}

function site(ctx: Context): string {
  return ctx.url ? `${ctx.url.protocol}//${ctx.url.host}` : 'https://your-site.atlassian.net';
}

const xsrfFix = (ctx: Context): Fix => ({
  title:
    'From scripts and servers, send X-Atlassian-Token: no-check (browsers cannot set it cross-origin, which is the point)',
  difficulty: 'easy',
  commands: [
    `curl -u "$EMAIL:$API_TOKEN" -X ${ctx.method} -H "X-Atlassian-Token: no-check" '${ctx.url?.href ?? `${site(ctx)}/rest/api/3/…`}'`,
  ],
  verify: 'The same call no longer answers "XSRF check failed".',
  docs: XSRF_DOC,
});

const captchaFixes = (myself: string): Fix[] => [
  {
    title:
      'Log in once in the browser and solve the CAPTCHA (Data Center admins: User management → the user → Reset failed login count)',
    difficulty: 'easy',
    verify: `${myself}   # 200 and X-Seraph-LoginReason: OK`,
  },
  {
    title: 'Stop the job that keeps sending the old password; on Cloud use email + API token',
    difficulty: 'easy',
    commands: [API_TOKENS],
  },
];

function permissionFix(ctx: Context, issueKey: string | undefined): Fix {
  const query = `permissions=BROWSE_PROJECTS${issueKey ? `&issueKey=${issueKey}` : ''}`;
  return {
    title:
      'Ask a Jira admin to grant the permission in the project’s permission scheme (Project settings → Permissions), or add you to a role that has it',
    difficulty: 'medium',
    verify: `curl -s -u "$EMAIL:$API_TOKEN" '${site(ctx)}/rest/api/3/mypermissions?${query}'   # havePermission: true`,
  };
}

export default defineProducer({
  meta: {
    id: 'atlassian-jira',
    product: 'atlassian-jira',
    layer: 'application',
    description:
      'Jira / Confluence denials: XSRF check failures, logins blocked by CAPTCHA (X-Seraph-LoginReason), rejected or missing credentials, missing project permissions and OAuth scopes.',
    docs: [
      XSRF_DOC,
      'https://developer.atlassian.com/server/jira/platform/jira-rest-api-example-basic-authentication-6291732/',
      'https://developer.atlassian.com/cloud/jira/platform/basic-auth-for-rest-apis/',
      'https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-permissions/#api-rest-api-3-mypermissions-get',
    ],
    causes: [
      'csrf',
      'account-state',
      'credential-invalid',
      'credential-expired',
      'credential-missing',
      'insufficient-role',
      'insufficient-scope',
    ],
    statuses: [401, 403],
    messages: {
      xsrf: 'Atlassian’s XSRF protection refused a state-changing request that did not prove it came from a script rather than a browser form.',
      captcha:
        'The account has hit the failed-login limit and Jira now requires a CAPTCHA, which a REST client cannot solve: every Basic-auth call is refused, even with the right password, until someone logs in through the browser.',
      authFailed: 'AUTHENTICATED_FAILED is also what a wrong password or API token gets.',
      rejected:
        'Credentials were sent but Atlassian did not accept them: on Cloud, Basic auth needs the account email and an API token (passwords are refused), and the token must belong to that email.',
      missing:
        'No credentials reached Jira, which answers anonymous REST calls this way (it sends no challenge first).',
      tokenExpired: 'API tokens now expire (one year at most); an expired one gets the same answer.',
      scope: 'The OAuth 2.0 (3LO) token does not carry the scope this endpoint needs.',
      permission:
        'You are authenticated, but the project’s permission scheme (or an issue security level) does not grant this user the permission the action needs.',
    },
  },
  recognise(ctx) {
    const found = signals().headers(ctx, 0.95, HEADERS);
    const host = ctx.url?.hostname ?? '';
    if (host.endsWith('.atlassian.net') || host === 'api.atlassian.com')
      found.add(0.9, ev('request:url', `host ${host}`));
    if (/^XSRF check failed/.test(ctx.body.text.trim())) found.add(0.8, ev('body', 'XSRF check failed'));
    const j = ctx.body.json as Record<string, unknown> | undefined;
    if (j && Array.isArray(j.errorMessages) && j.errors !== undefined)
      found.add(0.8, ev('body', 'Jira’s {"errorMessages":[…],"errors":{…}} error shape'));
    if (j && typeof j.message === 'string' && j['status-code'] !== undefined)
      found.add(0.7, ev('body', 'Atlassian Cloud’s {"message","status-code"} error shape'));
    return found.result();
  },
  explain(ctx, _recognised, report) {
    const msgs = messages(ctx);
    const all = msgs.join(' | ');
    const msgEv = msgs.length ? [ev('body', all.slice(0, 300))] : [];
    const seraph = ctx.header('x-seraph-loginreason');
    const denied = ctx.header('x-authentication-denied-reason');
    const myself = `curl -s -u "$EMAIL:$API_TOKEN" ${site(ctx)}/rest/api/3/myself`;

    if (/XSRF check failed/i.test(all)) report.claim('csrf', 'xsrf', 0.9, { evidence: msgEv, fixes: [xsrfFix(ctx)] });

    const captcha = /^(AUTHENTICATION_DENIED|AUTHENTICATED_FAILED)/.test(seraph ?? '') || /CAPTCHA/i.test(denied ?? '');
    if (captcha) {
      const hard = seraph === 'AUTHENTICATION_DENIED' || /CAPTCHA/i.test(denied ?? '');
      report.claim('account-state', 'captcha', hard ? 0.88 : 0.7, {
        evidence: [
          ...(seraph ? [ev('header:x-seraph-loginreason', seraph)] : []),
          ...(denied ? [ev('header:x-authentication-denied-reason', denied)] : []),
        ],
        fixes: captchaFixes(myself),
      });
      if (!hard)
        report.claim('credential-invalid', 'authFailed', 0.45, {
          evidence: [ev('header:x-seraph-loginreason', seraph!)],
          fixes: [{ title: 'Check the credentials', difficulty: 'easy', commands: [myself] }],
        });
    }

    if (/Client must be authenticated|not authenticated|Authentication required/i.test(all) && !captcha) {
      const sent = ctx.requestHeader('authorization') !== undefined || ctx.requestHeader('cookie') !== undefined;
      if (sent) {
        const newToken: Fix = {
          title: 'Create an API token and use it with the account’s email address',
          difficulty: 'easy',
          commands: [API_TOKENS, myself],
          verify: 'GET /rest/api/3/myself answers 200 with your accountId.',
        };
        report.claim('credential-invalid', 'rejected', 0.7, { evidence: msgEv, fixes: [newToken] });
        const expiry: Fix = {
          title: 'Check the token’s expiry on the API tokens page and create a new one',
          difficulty: 'easy',
          commands: [API_TOKENS],
        };
        report.claim('credential-expired', 'tokenExpired', 0.25, { evidence: msgEv, fixes: [expiry] });
      } else {
        const send: Fix = {
          title: 'Send Basic auth preemptively (email:API token) or a Bearer token',
          difficulty: 'easy',
          commands: [myself],
        };
        report.claim('credential-missing', 'missing', 0.8, { evidence: msgEv, fixes: [send] });
      }
    }

    if (/scope does not match|insufficient scope|scope.*required/i.test(all)) {
      const addScope: Fix = {
        title:
          'Add the scope to the app in the developer console (Permissions), then have the user re-consent to get a new token',
        difficulty: 'medium',
        commands: ['open https://developer.atlassian.com/console/myapps/'],
        docs: 'https://developer.atlassian.com/cloud/jira/platform/scopes-for-oauth-2-3LO-and-forge-apps/',
      };
      report.claim('insufficient-scope', 'scope', 0.85, { evidence: msgEv, fixes: [addScope] });
    }

    if (/do not have (the )?permission|don't have permission|not have permission to/i.test(all)) {
      const issueKey = /\/issue\/([A-Z][A-Z0-9_]+-\d+)/.exec(ctx.url?.pathname ?? '')?.[1];
      report.claim('insufficient-role', 'permission', 0.75, {
        evidence: msgEv,
        gap: {
          required: [`BROWSE_PROJECTS${issueKey ? ` on ${issueKey}` : ''} (or the permission the action needs)`],
          held: [],
        },
        fixes: [permissionFix(ctx, issueKey)],
      });
    }
  },
});
