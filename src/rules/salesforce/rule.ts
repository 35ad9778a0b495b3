// Salesforce's REST APIs (/services/data/vXX.X/…, /services/apexrest/…) answer
// errors as a JSON array of {"message","errorCode","fields"?} with Salesforce's
// own codes, and count every call in a Sforce-Limit-Info header
// (api-usage=used/allowed). One 403 is no permission problem at all:
// REQUEST_LIMIT_EXCEEDED is the org's 24-hour API allowance (or a concurrency
// limit) running out, and waiting — not a grant — is what fixes it.
import { defineProducer, ev, jsonString, signals } from '../define.ts';
import type { Context, Fix } from '../define.ts';

const SF_HOST = /(^|\.)(salesforce|force|salesforce-sites|cloudforce|database)\.com$|(^|\.)sfcrmproducts\.cn$/i;
const SF_PATH = /^\/services\/(data|apexrest|async|oauth2)\//;
const ERRORS_DOC = 'https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/errorcodes.htm';
const LIMITS_DOC =
  'https://developer.salesforce.com/docs/atlas.en-us.salesforce_app_limits_cheatsheet.meta/salesforce_app_limits_cheatsheet/salesforce_app_limits_platform_api.htm';
const ORG_DISPLAY = 'sf org display --target-org ALIAS --verbose';

// Codes only Salesforce's APIs send (REST errorCode / SOAP ExceptionCode values).
const SF_CODES =
  /^(INVALID_SESSION_ID|INSUFFICIENT_ACCESS_OR_READONLY|INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY|API_DISABLED_FOR_ORG|API_CURRENTLY_DISABLED|REQUEST_LIMIT_EXCEEDED|FORBIDDEN|INVALID_AUTH_HEADER|INVALID_OPERATION_WITH_EXPIRED_PASSWORD|LOGIN_MUST_USE_SECURITY_TOKEN|INVALID_TYPE|INVALID_FIELD|MALFORMED_QUERY|NOT_FOUND|ENTITY_IS_DELETED|REQUIRED_FIELD_MISSING|FUNCTIONALITY_NOT_ENABLED|INSUFFICIENT_ACCESS|INVALID_CROSS_REFERENCE_KEY|UNABLE_TO_LOCK_ROW|OPERATION_TOO_LARGE)$/;

const INSUFFICIENT_ACCESS = [
  'INSUFFICIENT_ACCESS_OR_READONLY',
  'INSUFFICIENT_ACCESS',
  'INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY',
];

// ---- Fixes -------------------------------------------------------------------------------------

const instance = (ctx: Context) =>
  ctx.url && SF_HOST.test(ctx.url.hostname) ? ctx.url.origin : 'https://yourInstance.my.salesforce.com';
const apiVersion = (ctx: Context) => /\/services\/data\/(v\d+\.\d+)/.exec(ctx.url?.pathname ?? '')?.[1] ?? 'v60.0';
/** The org's limits resource on the instance called, for the API version called. */
const limitsUrl = (ctx: Context) => `${instance(ctx)}/services/data/${apiVersion(ctx)}/limits`;

const DISPLAY_ORG: Fix = {
  title: 'See which user, org and instance the CLI’s session belongs to',
  difficulty: 'easy',
  commands: [ORG_DISPLAY],
};

const INSTANCE_URL: Fix = {
  ...DISPLAY_ORG,
  title: 'Call the instance_url that came with the token, with a token from an API-enabled connected app (scope api)',
  verify: 'The Instance Url shown is the host you call.',
};

function newSession(ctx: Context): Fix {
  return {
    title: 'Get a new access token (refresh it, or log in again) and retry',
    difficulty: 'easy',
    commands: ['sf org login web --alias ALIAS', `${ORG_DISPLAY}   # shows the new access token and instance URL`],
    verify: `curl -s -o /dev/null -w "%{http_code}\\n" -H "Authorization: Bearer $SF_TOKEN" ${limitsUrl(ctx)} prints 200.`,
  };
}

const OBJECT_PERMISSION: Fix = {
  title:
    'Grant the object permission (Read/Edit/Create/Delete) through a permission set, and check the record’s sharing',
  difficulty: 'medium',
  commands: [
    '# Setup → Permission Sets → (set) → Object Settings → the object → Edit → tick the permission → Save; then Manage Assignments → add the user',
    'sf org assign permset --name PERMSET_API_NAME --target-org ALIAS',
  ],
  verify: `sf data query --query "SELECT RecordId, HasReadAccess, HasEditAccess FROM UserRecordAccess WHERE UserId='USER_ID' AND RecordId='RECORD_ID'" --target-org ALIAS`,
  docs: 'https://help.salesforce.com/s/articleView?id=sf.perm_sets_object_perms_edit.htm',
};

function apiEnabledFixes(ctx: Context): Fix[] {
  const query = `sf data query --query "SELECT PermissionsApiEnabled FROM User WHERE Username='USER'" --target-org ALIAS`;
  return [
    {
      title:
        'Give the user the "API Enabled" system permission (a permission set is preferred over editing the profile)',
      difficulty: 'easy',
      commands: [
        '# Setup → Permission Sets → New (or existing) → System Permissions → Edit → tick API Enabled → Save → Manage Assignments → add the user',
        'sf org assign permset --name API_ENABLED_PERMSET --target-org ALIAS',
      ],
      verify: `${query} returns true; GET ${limitsUrl(ctx)} answers 200.`,
      docs: 'https://help.salesforce.com/s/articleView?id=sf.admin_userperms.htm',
    },
    {
      title: 'If the edition has no API access, API access must be bought for the org (no setting turns it on)',
      difficulty: 'hard',
    },
  ];
}

function apiAllowance(ctx: Context): Fix {
  return {
    title:
      'See the remaining allowance and who uses it; wait for the rolling window, reduce calls (bulk/composite APIs), or buy more API capacity',
    difficulty: 'medium',
    commands: [
      `curl -s -H "Authorization: Bearer $SF_TOKEN" ${limitsUrl(ctx)} | jq .DailyApiRequests`,
      'sf limits api display --target-org ALIAS',
    ],
    verify:
      'DailyApiRequests.Remaining is above 0 again and the Sforce-Limit-Info header shows usage below the allowance.',
    docs: LIMITS_DOC,
  };
}

const BEARER_HEADER: Fix = { title: 'Send Authorization: Bearer <access token>', difficulty: 'easy' };
const RESET_PASSWORD: Fix = {
  title: 'Reset the password (or set the integration user’s profile to "Password never expires")',
  difficulty: 'easy',
};

// ---- Reading the response ----------------------------------------------------------------------

interface SfError {
  code: string;
  message: string;
}

function readErrors(ctx: Context): SfError[] {
  const j = ctx.body.json;
  const list = Array.isArray(j)
    ? j
    : j && typeof j === 'object' && Array.isArray((j as Record<string, unknown>).errors)
      ? ((j as Record<string, unknown>).errors as unknown[])
      : [];
  const out: SfError[] = [];
  for (const e of list) {
    const code = jsonString(e, 'errorCode');
    if (code) out.push({ code, message: jsonString(e, 'message') ?? '' });
  }
  return out;
}

export default defineProducer({
  meta: {
    id: 'salesforce',
    product: 'salesforce',
    layer: 'application',
    description:
      'Salesforce REST API refusals by errorCode: INVALID_SESSION_ID, INSUFFICIENT_ACCESS_OR_READONLY, API_DISABLED_FOR_ORG, FORBIDDEN, and REQUEST_LIMIT_EXCEEDED (the org’s API allowance, named as the rate limit it is), with Sforce-Limit-Info usage.',
    docs: [
      ERRORS_DOC,
      LIMITS_DOC,
      'https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_limits.htm',
      'https://developer.salesforce.com/docs/atlas.en-us.api_meta.meta/api_meta/meta_error_handling_session_exp.htm',
    ],
    causes: [
      'credential-expired',
      'credential-invalid',
      'credential-malformed',
      'insufficient-role',
      'feature-disabled',
      'rate-limited',
      'account-state',
      'field-restricted',
    ],
    // A 400 too: some of these codes come with it.
    statuses: [400, 401, 403],
    messages: {
      sessionEnded:
        'Salesforce no longer accepts the session or OAuth token ("{{message}}"): sessions end after the org’s timeout (two hours by default), at logout, or when an admin revokes them.',
      sessionScope:
        'The token is valid but its connected app did not get an OAuth scope this API requires: {{scopes}}.',
      sessionElsewhere:
        'The same code answers a token used against another instance or My Domain than the one it was issued for, a session locked to another IP, or a Lightning UI session id used on the REST API.',
      insufficientAccess:
        'The user may not do this to the record or object ({{code}}): the profile or permission sets lack the object permission, or sharing does not give access to this record.',
      apiDisabled:
        'API access is not enabled: the org’s edition has no API access (Professional/Essentials/Group without the add-on), or the user’s profile and permission sets lack the "API Enabled" permission.',
      apiEnabledPermission:
        'When the edition does include the API, the missing piece is the user’s "API Enabled" permission — a per-user grant.',
      concurrentLimit:
        'Salesforce refused the call because too many long-running requests are in flight for the org ("{{message}}"). This 403 is a concurrency limit, not a missing permission.',
      dailyLimit:
        'The org has used up its API request allowance for the rolling 24 hours ("{{message}}"). This 403 is the org’s daily API limit, not a missing permission: every integration in the org shares it.',
      dailyLimitUsage:
        'The org has used up its API request allowance for the rolling 24 hours ("{{message}}"; {{usage}}). This 403 is the org’s daily API limit, not a missing permission: every integration in the org shares it.',
      forbidden: 'Salesforce refused the request (FORBIDDEN): the user lacks the permission this resource needs.',
      authHeader: 'The Authorization header is not "Bearer <access token>" (or "OAuth <session id>").',
      passwordExpired: 'The user’s password has expired; the API refuses calls until it is reset.',
    },
  },
  recognise(ctx) {
    const errors = readErrors(ctx);
    const found = signals();
    const host = ctx.url?.hostname ?? '';
    const path = ctx.url?.pathname ?? '';
    if (SF_HOST.test(host)) found.add(SF_PATH.test(path) ? 0.95 : 0.8, ev('request:url', `Salesforce host ${host}`));
    else if (SF_PATH.test(path) && errors.length) found.add(0.7, ev('request:url', `Salesforce REST path ${path}`));
    const limit = ctx.header('sforce-limit-info');
    if (limit) found.add(0.95, ev('header:sforce-limit-info', limit));
    const known = errors.find((e) => SF_CODES.test(e.code));
    // The array-of-{message,errorCode} envelope with one of Salesforce's codes is its REST error format.
    if (known && Array.isArray(ctx.body.json)) found.add(0.8, ev('body:errorCode', `${known.code}: ${known.message}`));
    return found.result({ errors });
  },
  explain(ctx, { errors }, report) {
    const codes = new Set(errors.map((e) => e.code));
    const first = (code: string) => errors.find((e) => e.code === code)!.message;
    const evOf = (code: string) =>
      errors.filter((e) => e.code === code).map((e) => ev('body:errorCode', `${e.code}: ${e.message}`));

    if (codes.has('INVALID_SESSION_ID')) {
      const message = first('INVALID_SESSION_ID');
      const scopes = /One of the following scopes is required: (.+)$/.exec(message)?.[1];
      const evidence = evOf('INVALID_SESSION_ID');
      report.claim('credential-expired', 'sessionEnded', scopes ? 0.3 : 0.8, {
        data: { message },
        evidence,
        fixes: [newSession(ctx)],
      });
      report.claim('credential-invalid', scopes ? 'sessionScope' : 'sessionElsewhere', scopes ? 0.85 : 0.55, {
        data: { scopes },
        evidence,
        fixes: [INSTANCE_URL, DISPLAY_ORG],
      });
    }

    if (INSUFFICIENT_ACCESS.some((c) => codes.has(c))) {
      const code = [...codes].find((c) => c.startsWith('INSUFFICIENT_ACCESS'))!;
      report.claim('insufficient-role', 'insufficientAccess', 0.82, {
        data: { code },
        evidence: evOf(code),
        fixes: [OBJECT_PERMISSION],
      });
    }

    if (codes.has('API_DISABLED_FOR_ORG') || codes.has('API_CURRENTLY_DISABLED')) {
      const evidence = evOf(codes.has('API_DISABLED_FOR_ORG') ? 'API_DISABLED_FOR_ORG' : 'API_CURRENTLY_DISABLED');
      report.claim('feature-disabled', 'apiDisabled', 0.85, { evidence, fixes: apiEnabledFixes(ctx) });
      report.claim('insufficient-role', 'apiEnabledPermission', 0.45, { evidence });
    }

    if (codes.has('REQUEST_LIMIT_EXCEEDED')) {
      const message = first('REQUEST_LIMIT_EXCEEDED');
      const usage = ctx.header('sforce-limit-info');
      report.claim(
        'rate-limited',
        /Concurrent/i.test(message) ? 'concurrentLimit' : usage ? 'dailyLimitUsage' : 'dailyLimit',
        0.95,
        {
          data: { message, usage },
          evidence: [...evOf('REQUEST_LIMIT_EXCEEDED'), ...(usage ? [ev('header:sforce-limit-info', usage)] : [])],
          fixes: [apiAllowance(ctx)],
        },
      );
    }

    if (codes.has('FORBIDDEN'))
      report.claim('insufficient-role', 'forbidden', 0.7, { evidence: evOf('FORBIDDEN'), fixes: [DISPLAY_ORG] });
    if (codes.has('INVALID_AUTH_HEADER'))
      report.claim('credential-malformed', 'authHeader', 0.85, {
        evidence: evOf('INVALID_AUTH_HEADER'),
        fixes: [BEARER_HEADER],
      });
    if (codes.has('INVALID_OPERATION_WITH_EXPIRED_PASSWORD'))
      report.claim('account-state', 'passwordExpired', 0.85, {
        evidence: evOf('INVALID_OPERATION_WITH_EXPIRED_PASSWORD'),
        fixes: [RESET_PASSWORD],
      });
  },
});
