// Salesforce's REST APIs (/services/data/vXX.X/…, /services/apexrest/…) answer
// errors as a JSON array of {"message","errorCode","fields"?} with Salesforce's
// own codes, and count every call in a Sforce-Limit-Info header
// (api-usage=used/allowed). One 403 is no permission problem at all:
// REQUEST_LIMIT_EXCEEDED is the org's 24-hour API allowance (or a concurrency
// limit) running out, and waiting — not a grant — is what fixes it.
import { defineProducer, ev, jsonString, signals } from '../define.ts';
import type { Context } from '../define.ts';
import texts from './texts.json' with { type: 'json' };

const SF_HOST = /(^|\.)(salesforce|force|salesforce-sites|cloudforce|database)\.com$|(^|\.)sfcrmproducts\.cn$/i;
const SF_PATH = /^\/services\/(data|apexrest|async|oauth2)\//;

// Codes only Salesforce's APIs send (REST errorCode / SOAP ExceptionCode values).
const SF_CODES =
  /^(INVALID_SESSION_ID|INSUFFICIENT_ACCESS_OR_READONLY|INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY|API_DISABLED_FOR_ORG|API_CURRENTLY_DISABLED|REQUEST_LIMIT_EXCEEDED|FORBIDDEN|INVALID_AUTH_HEADER|INVALID_OPERATION_WITH_EXPIRED_PASSWORD|LOGIN_MUST_USE_SECURITY_TOKEN|INVALID_TYPE|INVALID_FIELD|MALFORMED_QUERY|NOT_FOUND|ENTITY_IS_DELETED|REQUIRED_FIELD_MISSING|FUNCTIONALITY_NOT_ENABLED|INSUFFICIENT_ACCESS|INVALID_CROSS_REFERENCE_KEY|UNABLE_TO_LOCK_ROW|OPERATION_TOO_LARGE)$/;

const INSUFFICIENT_ACCESS = [
  'INSUFFICIENT_ACCESS_OR_READONLY',
  'INSUFFICIENT_ACCESS',
  'INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY',
];

const instance = (ctx: Context) =>
  ctx.url && SF_HOST.test(ctx.url.hostname) ? ctx.url.origin : 'https://yourInstance.my.salesforce.com';
const apiVersion = (ctx: Context) => /\/services\/data\/(v\d+\.\d+)/.exec(ctx.url?.pathname ?? '')?.[1] ?? 'v60.0';
/** The org's limits resource on the instance called, for the API version called: the fixes' check. */
const limitsUrl = (ctx: Context) => `${instance(ctx)}/services/data/${apiVersion(ctx)}/limits`;

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
    ...texts,
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
        data: { message, limits: limitsUrl(ctx) },
        evidence,
        fixes: ['newSession'],
      });
      report.claim('credential-invalid', scopes ? 'sessionScope' : 'sessionElsewhere', scopes ? 0.85 : 0.55, {
        data: { scopes },
        evidence,
        fixes: ['instanceUrl', 'displayOrg'],
      });
    }

    if (INSUFFICIENT_ACCESS.some((c) => codes.has(c))) {
      const code = [...codes].find((c) => c.startsWith('INSUFFICIENT_ACCESS'))!;
      report.claim('insufficient-role', 'insufficientAccess', 0.82, {
        data: { code },
        evidence: evOf(code),
        fixes: ['objectPermission'],
      });
    }

    if (codes.has('API_DISABLED_FOR_ORG') || codes.has('API_CURRENTLY_DISABLED')) {
      const evidence = evOf(codes.has('API_DISABLED_FOR_ORG') ? 'API_DISABLED_FOR_ORG' : 'API_CURRENTLY_DISABLED');
      report.claim('feature-disabled', 'apiDisabled', 0.85, {
        data: { limits: limitsUrl(ctx) },
        evidence,
        fixes: ['apiEnabled', 'buyApiAccess'],
      });
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
          data: { message, usage, limits: limitsUrl(ctx) },
          evidence: [...evOf('REQUEST_LIMIT_EXCEEDED'), ...(usage ? [ev('header:sforce-limit-info', usage)] : [])],
          fixes: ['apiAllowance'],
        },
      );
    }

    if (codes.has('FORBIDDEN'))
      report.claim('insufficient-role', 'forbidden', 0.7, { evidence: evOf('FORBIDDEN'), fixes: ['displayOrg'] });
    if (codes.has('INVALID_AUTH_HEADER'))
      report.claim('credential-malformed', 'authHeader', 0.85, {
        evidence: evOf('INVALID_AUTH_HEADER'),
        fixes: ['bearerHeader'],
      });
    if (codes.has('INVALID_OPERATION_WITH_EXPIRED_PASSWORD'))
      report.claim('account-state', 'passwordExpired', 0.85, {
        evidence: evOf('INVALID_OPERATION_WITH_EXPIRED_PASSWORD'),
        fixes: ['resetPassword'],
      });
  },
});
