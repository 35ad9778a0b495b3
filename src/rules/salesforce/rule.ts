// Salesforce's REST APIs (/services/data/vXX.X/…, /services/apexrest/…) answer
// errors as a JSON array of {"message","errorCode","fields"?} with Salesforce's
// own codes, and count every call in a Sforce-Limit-Info header
// (api-usage=used/allowed). One 403 is no permission problem at all:
// REQUEST_LIMIT_EXCEEDED is the org's 24-hour API allowance (or a concurrency
// limit) running out, and waiting — not a grant — is what fixes it.
import { defineRule, ev, type CauseClaim } from '../define.ts';
import type { Context } from '../../engine/context.ts';
import { jsonString } from '../../engine/context.ts';
import type { Evidence, Fix } from '../../model/report.ts';

const SF_HOST = /(^|\.)(salesforce|force|salesforce-sites|cloudforce|database)\.com$|(^|\.)sfcrmproducts\.cn$/i;
const SF_PATH = /^\/services\/(data|apexrest|async|oauth2)\//;
const ERRORS_DOC = 'https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/errorcodes.htm';
const LIMITS_DOC = 'https://developer.salesforce.com/docs/atlas.en-us.salesforce_app_limits_cheatsheet.meta/salesforce_app_limits_cheatsheet/salesforce_app_limits_platform_api.htm';

// Codes only Salesforce's APIs send (REST errorCode / SOAP ExceptionCode values).
const SF_CODES = /^(INVALID_SESSION_ID|INSUFFICIENT_ACCESS_OR_READONLY|INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY|API_DISABLED_FOR_ORG|API_CURRENTLY_DISABLED|REQUEST_LIMIT_EXCEEDED|FORBIDDEN|INVALID_AUTH_HEADER|INVALID_OPERATION_WITH_EXPIRED_PASSWORD|LOGIN_MUST_USE_SECURITY_TOKEN|INVALID_TYPE|INVALID_FIELD|MALFORMED_QUERY|NOT_FOUND|ENTITY_IS_DELETED|REQUIRED_FIELD_MISSING|FUNCTIONALITY_NOT_ENABLED|INSUFFICIENT_ACCESS|INVALID_CROSS_REFERENCE_KEY|UNABLE_TO_LOCK_ROW|OPERATION_TOO_LARGE)$/;

interface SfError {
  code: string;
  message: string;
}

function readErrors(ctx: Context): SfError[] {
  const j = ctx.body.json;
  const list = Array.isArray(j) ? j : j && typeof j === 'object' && Array.isArray((j as Record<string, unknown>).errors) ? ((j as Record<string, unknown>).errors as unknown[]) : [];
  const out: SfError[] = [];
  for (const e of list) {
    const code = jsonString(e, 'errorCode');
    if (code) out.push({ code, message: jsonString(e, 'message') ?? '' });
  }
  return out;
}

function signature(ctx: Context, errors: SfError[]) {
  const evidence: Evidence[] = [];
  let confidence = 0;
  const bump = (c: number, e: Evidence) => {
    confidence = Math.max(confidence, c);
    evidence.push(e);
  };
  const host = ctx.url?.hostname ?? '';
  const path = ctx.url?.pathname ?? '';
  if (SF_HOST.test(host)) bump(SF_PATH.test(path) ? 0.95 : 0.8, ev('request:url', `Salesforce host ${host}`));
  else if (SF_PATH.test(path) && errors.length) bump(0.7, ev('request:url', `Salesforce REST path ${path}`));
  const limit = ctx.header('sforce-limit-info');
  if (limit) bump(0.95, ev('header:sforce-limit-info', limit));
  const known = errors.find((e) => SF_CODES.test(e.code));
  // The array-of-{message,errorCode} envelope with one of Salesforce's codes is its REST error format.
  if (known && Array.isArray(ctx.body.json)) bump(0.8, ev('body:errorCode', `${known.code}: ${known.message}`));
  return { confidence, evidence };
}

const instance = (ctx: Context) => (ctx.url && SF_HOST.test(ctx.url.hostname) ? ctx.url.origin : 'https://yourInstance.my.salesforce.com');
const apiVersion = (ctx: Context) => /\/services\/data\/(v\d+\.\d+)/.exec(ctx.url?.pathname ?? '')?.[1] ?? 'v60.0';

const displayOrg: Fix = {
  title: 'See which user, org and instance the CLI’s session belongs to',
  difficulty: 'easy',
  commands: ['sf org display --target-org ALIAS --verbose'],
};

export default defineRule({
  meta: {
    id: 'salesforce',
    kind: 'producer',
    product: 'salesforce',
    layer: 'application',
    description: 'Salesforce REST API refusals by errorCode: INVALID_SESSION_ID, INSUFFICIENT_ACCESS_OR_READONLY, API_DISABLED_FOR_ORG, FORBIDDEN, and REQUEST_LIMIT_EXCEEDED (the org’s API allowance, named as the rate limit it is), with Sforce-Limit-Info usage.',
    docs: [ERRORS_DOC, LIMITS_DOC, 'https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_limits.htm', 'https://developer.salesforce.com/docs/atlas.en-us.api_meta.meta/api_meta/meta_error_handling_session_exp.htm'],
    causes: ['credential-expired', 'credential-invalid', 'credential-malformed', 'insufficient-role', 'feature-disabled', 'rate-limited', 'account-state', 'field-restricted'],
  },
  applies: (ctx) => Array.isArray(ctx.body.json) || SF_HOST.test(ctx.url?.hostname ?? '') || Boolean(ctx.header('sforce-limit-info')) || (ctx.body.json !== undefined && SF_PATH.test(ctx.url?.pathname ?? '')),
  run(ctx) {
    const errors = readErrors(ctx);
    const sig = signature(ctx, errors);
    if (!sig.confidence) return undefined;
    const producer = { product: 'salesforce' as const, layer: 'application' as const, confidence: sig.confidence, evidence: sig.evidence };
    if (ctx.status !== 400 && ctx.status !== 401 && ctx.status !== 403) return { producer };
    const causes: CauseClaim[] = [];
    const codes = new Set(errors.map((e) => e.code));
    const evOf = (code: string) => errors.filter((e) => e.code === code).map((e) => ev('body:errorCode', `${e.code}: ${e.message}`));
    const limit = ctx.header('sforce-limit-info');
    const base = instance(ctx);
    const v = apiVersion(ctx);

    if (codes.has('INVALID_SESSION_ID')) {
      const m = errors.find((e) => e.code === 'INVALID_SESSION_ID')!.message;
      const scopeText = /One of the following scopes is required: (.+)$/.exec(m)?.[1];
      causes.push({
        id: 'credential-expired',
        weight: scopeText ? 0.3 : 0.8,
        summary: `Salesforce no longer accepts the session or OAuth token ("${m}"): sessions end after the org’s timeout (two hours by default), at logout, or when an admin revokes them.`,
        evidence: evOf('INVALID_SESSION_ID'),
        fixes: [
          { title: 'Get a new access token (refresh it, or log in again) and retry', difficulty: 'easy', commands: ['sf org login web --alias ALIAS', 'sf org display --target-org ALIAS --verbose   # shows the new access token and instance URL'], verify: `curl -s -o /dev/null -w "%{http_code}\\n" -H "Authorization: Bearer $SF_TOKEN" ${base}/services/data/${v}/limits prints 200.` },
        ],
      });
      causes.push({
        id: 'credential-invalid',
        weight: scopeText ? 0.85 : 0.55,
        summary: scopeText
          ? `The token is valid but its connected app did not get an OAuth scope this API requires: ${scopeText}.`
          : 'The same code answers a token used against another instance or My Domain than the one it was issued for, a session locked to another IP, or a Lightning UI session id used on the REST API.',
        evidence: evOf('INVALID_SESSION_ID'),
        fixes: [{ title: 'Call the instance_url that came with the token, with a token from an API-enabled connected app (scope api)', difficulty: 'easy', commands: ['sf org display --target-org ALIAS --verbose'], verify: 'The Instance Url shown is the host you call.' }, displayOrg],
      });
    }

    if (codes.has('INSUFFICIENT_ACCESS_OR_READONLY') || codes.has('INSUFFICIENT_ACCESS') || codes.has('INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY')) {
      const code = [...codes].find((c) => c.startsWith('INSUFFICIENT_ACCESS'))!;
      causes.push({
        id: 'insufficient-role',
        weight: 0.82,
        summary: `The user may not do this to the record or object (${code}): the profile or permission sets lack the object permission, or sharing does not give access to this record.`,
        evidence: evOf(code),
        fixes: [
          {
            title: 'Grant the object permission (Read/Edit/Create/Delete) through a permission set, and check the record’s sharing',
            difficulty: 'medium',
            commands: ['# Setup → Permission Sets → (set) → Object Settings → the object → Edit → tick the permission → Save; then Manage Assignments → add the user', 'sf org assign permset --name PERMSET_API_NAME --target-org ALIAS'],
            verify: `sf data query --query "SELECT RecordId, HasReadAccess, HasEditAccess FROM UserRecordAccess WHERE UserId='USER_ID' AND RecordId='RECORD_ID'" --target-org ALIAS`,
            docs: 'https://help.salesforce.com/s/articleView?id=sf.perm_sets_object_perms_edit.htm',
          },
        ],
      });
    }

    if (codes.has('API_DISABLED_FOR_ORG') || codes.has('API_CURRENTLY_DISABLED')) {
      const code = codes.has('API_DISABLED_FOR_ORG') ? 'API_DISABLED_FOR_ORG' : 'API_CURRENTLY_DISABLED';
      causes.push({
        id: 'feature-disabled',
        weight: 0.85,
        summary: 'API access is not enabled: the org’s edition has no API access (Professional/Essentials/Group without the add-on), or the user’s profile and permission sets lack the "API Enabled" permission.',
        evidence: evOf(code),
        fixes: [
          {
            title: 'Give the user the "API Enabled" system permission (a permission set is preferred over editing the profile)',
            difficulty: 'easy',
            commands: ['# Setup → Permission Sets → New (or existing) → System Permissions → Edit → tick API Enabled → Save → Manage Assignments → add the user', 'sf org assign permset --name API_ENABLED_PERMSET --target-org ALIAS'],
            verify: `sf data query --query "SELECT PermissionsApiEnabled FROM User WHERE Username='USER'" --target-org ALIAS returns true; GET ${base}/services/data/${v}/limits answers 200.`,
            docs: 'https://help.salesforce.com/s/articleView?id=sf.admin_userperms.htm',
          },
          { title: 'If the edition has no API access, API access must be bought for the org (no setting turns it on)', difficulty: 'hard' },
        ],
      });
      causes.push({ id: 'insufficient-role', weight: 0.45, summary: 'When the edition does include the API, the missing piece is the user’s "API Enabled" permission — a per-user grant.', evidence: evOf(code), fixes: [] });
    }

    if (codes.has('REQUEST_LIMIT_EXCEEDED')) {
      const m = errors.find((e) => e.code === 'REQUEST_LIMIT_EXCEEDED')!.message;
      const concurrent = /Concurrent/i.test(m);
      causes.push({
        id: 'rate-limited',
        weight: 0.95,
        summary: concurrent
          ? `Salesforce refused the call because too many long-running requests are in flight for the org ("${m}"). This 403 is a concurrency limit, not a missing permission.`
          : `The org has used up its API request allowance for the rolling 24 hours ("${m}"${limit ? `; ${limit}` : ''}). This 403 is the org’s daily API limit, not a missing permission: every integration in the org shares it.`,
        evidence: [...evOf('REQUEST_LIMIT_EXCEEDED'), ...(limit ? [ev('header:sforce-limit-info', limit)] : [])],
        fixes: [
          {
            title: 'See the remaining allowance and who uses it; wait for the rolling window, reduce calls (bulk/composite APIs), or buy more API capacity',
            difficulty: 'medium',
            commands: [`curl -s -H "Authorization: Bearer $SF_TOKEN" ${base}/services/data/${v}/limits | jq .DailyApiRequests`, 'sf limits api display --target-org ALIAS'],
            verify: 'DailyApiRequests.Remaining is above 0 again and the Sforce-Limit-Info header shows usage below the allowance.',
            docs: LIMITS_DOC,
          },
        ],
      });
    }

    if (codes.has('FORBIDDEN')) {
      causes.push({ id: 'insufficient-role', weight: 0.7, summary: 'Salesforce refused the request (FORBIDDEN): the user lacks the permission this resource needs.', evidence: evOf('FORBIDDEN'), fixes: [displayOrg] });
    }

    if (codes.has('INVALID_AUTH_HEADER')) {
      causes.push({ id: 'credential-malformed', weight: 0.85, summary: 'The Authorization header is not "Bearer <access token>" (or "OAuth <session id>").', evidence: evOf('INVALID_AUTH_HEADER'), fixes: [{ title: 'Send Authorization: Bearer <access token>', difficulty: 'easy' }] });
    }

    if (codes.has('INVALID_OPERATION_WITH_EXPIRED_PASSWORD')) {
      causes.push({ id: 'account-state', weight: 0.85, summary: 'The user’s password has expired; the API refuses calls until it is reset.', evidence: evOf('INVALID_OPERATION_WITH_EXPIRED_PASSWORD'), fixes: [{ title: 'Reset the password (or set the integration user’s profile to "Password never expires")', difficulty: 'easy' }] });
    }

    return causes.length ? { producer, causes } : { producer };
  },
});
