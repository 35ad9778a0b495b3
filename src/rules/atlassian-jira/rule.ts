// Jira and Confluence (Atlassian): Seraph, their login filter, reports in
// X-Seraph-LoginReason why a login was refused (AUTHENTICATION_DENIED /
// AUTHENTICATED_FAILED mean CAPTCHA is in the way, whatever the password);
// the REST layer's XSRF filter answers "XSRF check failed"; REST errors come as
// {"errorMessages":[…],"errors":{}} or Cloud's {"message", "status-code"}.
import { defineProducer, ev, signals, type Context } from '../define.ts';
import texts from './texts.json' with { type: 'json' };

const HEADERS = [
  'x-arequestid',
  'x-seraph-loginreason',
  'x-authentication-denied-reason',
  'x-ausername',
  'x-atenant-id',
  'atl-traceid',
  'x-confluence-request-time',
];

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

export default defineProducer({
  meta: {
    id: 'atlassian-jira',
    product: 'atlassian-jira',
    layer: 'application',
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
    ...texts,
  },
  recognise(ctx) {
    const found = signals().headers(ctx, 0.95, HEADERS);
    // An Atlassian Cloud site also serves Confluence (under /wiki): the host
    // alone is Jira only outside it.
    const host = ctx.url?.hostname ?? '';
    const path = ctx.url?.pathname ?? '';
    // api.atlassian.com serves every Atlassian Cloud product: only /ex/jira/ is Jira's.
    const confluence = /^\/wiki(\/|$)/.test(path);
    if (
      (host.endsWith('.atlassian.net') && !confluence) ||
      (host === 'api.atlassian.com' && path.startsWith('/ex/jira/'))
    )
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
    const data = { site: site(ctx) };

    if (/XSRF check failed/i.test(all))
      report.claim('csrf', 'xsrf', 0.9, {
        data: { method: ctx.method, url: ctx.url?.href ?? `${data.site}/rest/api/3/…` },
        evidence: msgEv,
        fixes: ['xsrf'],
      });

    const captcha = /^(AUTHENTICATION_DENIED|AUTHENTICATED_FAILED)/.test(seraph ?? '') || /CAPTCHA/i.test(denied ?? '');
    if (captcha) {
      const hard = seraph === 'AUTHENTICATION_DENIED' || /CAPTCHA/i.test(denied ?? '');
      report.claim('account-state', 'captcha', hard ? 0.88 : 0.7, {
        evidence: [
          ...(seraph ? [ev('header:x-seraph-loginreason', seraph)] : []),
          ...(denied ? [ev('header:x-authentication-denied-reason', denied)] : []),
        ],
        data,
        fixes: ['captcha', 'stopOldPassword'],
      });
      if (!hard)
        report.claim('credential-invalid', 'authFailed', 0.45, {
          data,
          evidence: [ev('header:x-seraph-loginreason', seraph!)],
          fixes: ['checkCredentials'],
        });
    }

    if (/Client must be authenticated|not authenticated|Authentication required/i.test(all) && !captcha) {
      const sent = ctx.requestHeader('authorization') !== undefined || ctx.requestHeader('cookie') !== undefined;
      if (sent) {
        report.claim('credential-invalid', 'rejected', 0.7, { data, evidence: msgEv, fixes: ['newToken'] });
        report.claim('credential-expired', 'tokenExpired', 0.25, { evidence: msgEv, fixes: ['expiry'] });
      } else {
        report.claim('credential-missing', 'missing', 0.8, { data, evidence: msgEv, fixes: ['send'] });
      }
    }

    if (/scope does not match|insufficient scope|scope.*required/i.test(all)) {
      report.claim('insufficient-scope', 'scope', 0.85, { evidence: msgEv, fixes: ['addScope'] });
    }

    if (/do not have (the )?permission|don't have permission|not have permission to/i.test(all)) {
      const issueKey = /\/issue\/([A-Z][A-Z0-9_]+-\d+)/.exec(ctx.url?.pathname ?? '')?.[1];
      report.claim('insufficient-role', 'permission', 0.75, {
        data: { ...data, issueKeyParam: issueKey ? `&issueKey=${issueKey}` : '' },
        evidence: msgEv,
        gap: {
          required: [`BROWSE_PROJECTS${issueKey ? ` on ${issueKey}` : ''} (or the permission the action needs)`],
          held: [],
        },
        fixes: ['permission'],
      });
    }
  },
});
