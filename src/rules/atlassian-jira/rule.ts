// Jira and Confluence (Atlassian): Seraph, their login filter, reports in
// X-Seraph-LoginReason why a login was refused (AUTHENTICATION_DENIED /
// AUTHENTICATED_FAILED mean CAPTCHA is in the way, whatever the password);
// the REST layer's XSRF filter answers "XSRF check failed"; REST errors come as
// {"errorMessages":[…],"errors":{}} or Cloud's {"message", "status-code"}.
import { defineRule, ev, type CauseClaim } from '../define.ts';
import type { Context } from '../../engine/context.ts';
import type { Evidence } from '../../model/report.ts';

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

function signature(ctx: Context): { confidence: number; evidence: Evidence[] } {
  const evidence: Evidence[] = [];
  let confidence = 0;
  const bump = (c: number, e: Evidence) => {
    confidence = Math.max(confidence, c);
    evidence.push(e);
  };
  for (const h of ['x-arequestid', 'x-seraph-loginreason', 'x-authentication-denied-reason', 'x-ausername', 'x-atenant-id', 'atl-traceid', 'x-confluence-request-time']) {
    const v = ctx.header(h);
    if (v !== undefined) bump(0.95, ev(`header:${h}`, v));
  }
  const host = ctx.url?.hostname ?? '';
  if (host.endsWith('.atlassian.net') || host === 'api.atlassian.com') bump(0.9, ev('request:url', `host ${host}`));
  if (/^XSRF check failed/.test(ctx.body.text.trim())) bump(0.8, ev('body', 'XSRF check failed'));
  const j = ctx.body.json as Record<string, unknown> | undefined;
  if (j && Array.isArray(j.errorMessages) && j.errors !== undefined) bump(0.8, ev('body', 'Jira’s {"errorMessages":[…],"errors":{…}} error shape'));
  if (j && typeof j.message === 'string' && j['status-code'] !== undefined) bump(0.7, ev('body', 'Atlassian Cloud’s {"message","status-code"} error shape'));
  return { confidence, evidence };
}

function site(ctx: Context): string {
  return ctx.url ? `${ctx.url.protocol}//${ctx.url.host}` : 'https://your-site.atlassian.net';
}

export default defineRule({
  meta: {
    id: 'atlassian-jira',
    kind: 'producer',
    product: 'atlassian-jira',
    layer: 'application',
    description: 'Jira / Confluence denials: XSRF check failures, logins blocked by CAPTCHA (X-Seraph-LoginReason), rejected or missing credentials, missing project permissions and OAuth scopes.',
    docs: [
      'https://confluence.atlassian.com/cloudkb/xsrf-check-failed-when-calling-cloud-apis-826874382.html',
      'https://developer.atlassian.com/server/jira/platform/jira-rest-api-example-basic-authentication-6291732/',
      'https://developer.atlassian.com/cloud/jira/platform/basic-auth-for-rest-apis/',
      'https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-permissions/#api-rest-api-3-mypermissions-get',
    ],
    causes: ['csrf', 'account-state', 'credential-invalid', 'credential-expired', 'credential-missing', 'insufficient-role', 'insufficient-scope'],
  },
  applies: (ctx) => signature(ctx).confidence > 0,
  run(ctx) {
    const sig = signature(ctx);
    const producer = { product: 'atlassian-jira' as const, layer: 'application' as const, confidence: sig.confidence, evidence: sig.evidence };
    if (ctx.status !== 401 && ctx.status !== 403) return { producer };
    const msgs = messages(ctx);
    const all = msgs.join(' | ');
    const msgEv = msgs.length ? [ev('body', all.slice(0, 300))] : [];
    const seraph = ctx.header('x-seraph-loginreason');
    const denied = ctx.header('x-authentication-denied-reason');
    const myself = `curl -s -u "$EMAIL:$API_TOKEN" ${site(ctx)}/rest/api/3/myself`;
    const causes: CauseClaim[] = [];

    if (/XSRF check failed/i.test(all)) {
      causes.push({
        id: 'csrf',
        weight: 0.9,
        summary: 'Atlassian’s XSRF protection refused a state-changing request that did not prove it came from a script rather than a browser form.',
        evidence: msgEv,
        fixes: [{ title: 'From scripts and servers, send X-Atlassian-Token: no-check (browsers cannot set it cross-origin, which is the point)', difficulty: 'easy', commands: [`curl -u "$EMAIL:$API_TOKEN" -X ${ctx.method} -H "X-Atlassian-Token: no-check" '${ctx.url?.href ?? `${site(ctx)}/rest/api/3/…`}'`], verify: 'The same call no longer answers "XSRF check failed".', docs: 'https://confluence.atlassian.com/cloudkb/xsrf-check-failed-when-calling-cloud-apis-826874382.html' }],
      });
    }

    if (/^(AUTHENTICATION_DENIED|AUTHENTICATED_FAILED)/.test(seraph ?? '') || /CAPTCHA/i.test(denied ?? '')) {
      const hard = seraph === 'AUTHENTICATION_DENIED' || /CAPTCHA/i.test(denied ?? '');
      causes.push({
        id: 'account-state',
        weight: hard ? 0.88 : 0.7,
        summary: 'The account has hit the failed-login limit and Jira now requires a CAPTCHA, which a REST client cannot solve: every Basic-auth call is refused, even with the right password, until someone logs in through the browser.',
        evidence: [...(seraph ? [ev('header:x-seraph-loginreason', seraph)] : []), ...(denied ? [ev('header:x-authentication-denied-reason', denied)] : [])],
        fixes: [
          { title: 'Log in once in the browser and solve the CAPTCHA (Data Center admins: User management → the user → Reset failed login count)', difficulty: 'easy', verify: `${myself}   # 200 and X-Seraph-LoginReason: OK` },
          { title: 'Stop the job that keeps sending the old password; on Cloud use email + API token', difficulty: 'easy', commands: ['open https://id.atlassian.com/manage-profile/security/api-tokens'] },
        ],
      });
      if (!hard) causes.push({ id: 'credential-invalid', weight: 0.45, summary: 'AUTHENTICATED_FAILED is also what a wrong password or API token gets.', evidence: [ev('header:x-seraph-loginreason', seraph!)], fixes: [{ title: 'Check the credentials', difficulty: 'easy', commands: [myself] }] });
    }

    if (/Client must be authenticated|not authenticated|Authentication required/i.test(all) && !causes.some((c) => c.id === 'account-state')) {
      const sent = ctx.requestHeader('authorization') !== undefined || ctx.requestHeader('cookie') !== undefined;
      causes.push(
        sent
          ? { id: 'credential-invalid', weight: 0.7, summary: 'Credentials were sent but Atlassian did not accept them: on Cloud, Basic auth needs the account email and an API token (passwords are refused), and the token must belong to that email.', evidence: msgEv, fixes: [{ title: 'Create an API token and use it with the account’s email address', difficulty: 'easy', commands: ['open https://id.atlassian.com/manage-profile/security/api-tokens', myself], verify: 'GET /rest/api/3/myself answers 200 with your accountId.' }] }
          : { id: 'credential-missing', weight: 0.8, summary: 'No credentials reached Jira, which answers anonymous REST calls this way (it sends no challenge first).', evidence: msgEv, fixes: [{ title: 'Send Basic auth preemptively (email:API token) or a Bearer token', difficulty: 'easy', commands: [myself] }] },
      );
      if (sent) causes.push({ id: 'credential-expired', weight: 0.25, summary: 'API tokens now expire (one year at most); an expired one gets the same answer.', evidence: msgEv, fixes: [{ title: 'Check the token’s expiry on the API tokens page and create a new one', difficulty: 'easy', commands: ['open https://id.atlassian.com/manage-profile/security/api-tokens'] }] });
    }

    if (/scope does not match|insufficient scope|scope.*required/i.test(all)) {
      causes.push({ id: 'insufficient-scope', weight: 0.85, summary: 'The OAuth 2.0 (3LO) token does not carry the scope this endpoint needs.', evidence: msgEv, fixes: [{ title: 'Add the scope to the app in the developer console (Permissions), then have the user re-consent to get a new token', difficulty: 'medium', commands: ['open https://developer.atlassian.com/console/myapps/'], docs: 'https://developer.atlassian.com/cloud/jira/platform/scopes-for-oauth-2-3LO-and-forge-apps/' }] });
    }

    if (/do not have (the )?permission|don't have permission|not have permission to/i.test(all)) {
      const issueKey = /\/issue\/([A-Z][A-Z0-9_]+-\d+)/.exec(ctx.url?.pathname ?? '')?.[1];
      causes.push({
        id: 'insufficient-role',
        weight: 0.75,
        summary: 'You are authenticated, but the project’s permission scheme (or an issue security level) does not grant this user the permission the action needs.',
        evidence: msgEv,
        gap: { required: [`BROWSE_PROJECTS${issueKey ? ` on ${issueKey}` : ''} (or the permission the action needs)`], held: [] },
        fixes: [{ title: 'Ask a Jira admin to grant the permission in the project’s permission scheme (Project settings → Permissions), or add you to a role that has it', difficulty: 'medium', verify: `curl -s -u "$EMAIL:$API_TOKEN" '${site(ctx)}/rest/api/3/mypermissions?permissions=BROWSE_PROJECTS${issueKey ? `&issueKey=${issueKey}` : ''}'   # havePermission: true` }],
      });
    }
    return causes.length ? { producer, causes } : { producer };
  },
});
