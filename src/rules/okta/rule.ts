// Okta's management and authentication APIs answer with one error object,
// {"errorCode":"E0000006","errorSummary","errorLink","errorId","errorCauses"},
// whose E-codes are Okta's own (developer.okta.com/docs/reference/error-codes).
// OAuth-protected endpoints (the org authorization server, /api/v1/* called
// with an OAuth access token) refuse in a Bearer challenge instead, whose
// realm and authorization_uri name the Okta org, and whose scope names the
// okta.* scope that was missing.
import { defineProducer, epochSeconds, ev, jsonString, signals, type Challenge, type Context } from '../define.ts';
import texts from './texts.json' with { type: 'json' };

const OKTA_HOST = /(^|\.)(okta|oktapreview|okta-emea|okta-gov|trexcloud)\.com$|(^|\.)okta\.mil$/i;
const E_CODE = /^E0\d{6}$/;

interface OktaError {
  code: string;
  summary: string;
  causes: string[];
}

function readError(ctx: Context): OktaError | undefined {
  const j = ctx.body.json;
  if (!j || typeof j !== 'object' || Array.isArray(j)) return undefined;
  const code = jsonString(j, 'errorCode');
  if (!code || !E_CODE.test(code)) return undefined;
  const raw = (j as Record<string, unknown>).errorCauses;
  const causes = Array.isArray(raw)
    ? raw.map((c) => jsonString(c, 'errorSummary')).filter((s): s is string => Boolean(s))
    : [];
  return { code, summary: jsonString(j, 'errorSummary') ?? '', causes };
}

function oktaChallenge(ctx: Context): Challenge | undefined {
  return ctx.challenges.find((c) => {
    if (c.scheme.toLowerCase() !== 'bearer') return false;
    for (const v of [c.params.realm, c.params.authorization_uri]) {
      try {
        if (v && OKTA_HOST.test(new URL(v).hostname)) return true;
      } catch {
        /* not a URL */
      }
    }
    return false;
  });
}

function recogniseOkta(ctx: Context) {
  const err = readError(ctx);
  const challenge = oktaChallenge(ctx);
  const found = signals();
  const host = ctx.url?.hostname ?? '';
  if (OKTA_HOST.test(host)) found.add(err || challenge ? 0.95 : 0.75, ev('request:url', `Okta org domain ${host}`));
  const reqId = ctx.header('x-okta-request-id');
  if (reqId) found.add(0.95, ev('header:x-okta-request-id', reqId));
  if (challenge)
    found.add(
      0.92,
      ev(
        'header:www-authenticate',
        `Bearer challenge from the Okta org ${challenge.params.realm ?? challenge.params.authorization_uri}`,
      ),
    );
  if (err) {
    const object = ctx.body.json as Record<string, unknown>;
    // errorLink echoing the code, or errorId, beside an E-code is Okta's object; a bare errorCode could be anyone's.
    const full =
      typeof object.errorSummary === 'string' && (object.errorLink === err.code || typeof object.errorId === 'string');
    found.add(full ? 0.85 : 0.4, ev('body:errorCode', `${err.code}: ${err.summary}`));
  }
  return found.result({ err, challenge });
}

const tenantOf = (ctx: Context) =>
  ctx.url && OKTA_HOST.test(ctx.url.hostname) ? ctx.url.hostname : '${yourOktaDomain}';

/** What the scope fix fills in: the scopes to grant, or words for them when the challenge named none. */
function scopeData(ctx: Context, scopes: string[]) {
  return {
    list: scopes.length ? scopes.join(' ') : 'the okta.* scope the endpoint requires',
    scopeParam: scopes.join(' ') || 'okta.users.read',
    tenant: tenantOf(ctx),
  };
}

export default defineProducer({
  meta: {
    id: 'okta',
    product: 'okta',
    layer: 'identity-provider',
    causes: [
      'insufficient-scope',
      'insufficient-role',
      'credential-invalid',
      'credential-expired',
      'credential-missing',
      'feature-disabled',
      'rate-limited',
      'account-state',
      'resource-state',
    ],
    statuses: [401, 403, 429],
    ...texts,
  },
  recognise: recogniseOkta,
  explain(ctx, { err, challenge }, report) {
    const errEv = err
      ? [
          ev('body:errorCode', err.code),
          ev('body:errorSummary', err.summary),
          ...err.causes.map((c) => ev('body:errorCauses', c)),
        ]
      : [];
    const held = [...new Set(ctx.credential.items.flatMap((i) => i.scopes ?? []))];

    if (challenge?.params.error === 'insufficient_scope') {
      const { scope, resource } = challenge.params;
      const wanted = (scope ?? '').split(/\s+/).filter(Boolean);
      const missing = wanted.filter((s) => !held.includes(s));
      const shown = `error="insufficient_scope" scope="${scope ?? ''}"${resource ? ` resource="${resource}"` : ''}`;
      report.claim('insufficient-scope', 'scope', 0.92, {
        data: {
          scopes: wanted.join(' or ') || 'this endpoint needs',
          resource: resource ? ` for ${resource}` : '',
          ...scopeData(ctx, wanted),
        },
        evidence: [
          ev('header:www-authenticate', shown),
          ...(held.length ? [ev('credential:scope', held.join(' '))] : []),
        ],
        ...(wanted.length ? { gap: { required: missing.length ? missing : wanted, held } } : {}),
        fixes: ['grantScope'],
      });
    }
    if (!err) return;
    const data = { summary: err.summary, tenant: tenantOf(ctx) };
    const path = ctx.url?.pathname ?? '';

    switch (err.code) {
      case 'E0000006': {
        const bearer = /^Bearer\s/i.test(ctx.requestHeader('authorization') ?? '');
        report.claim('insufficient-role', 'noPermission', 0.8, { data, evidence: errEv, fixes: ['adminRole'] });
        report.claim('insufficient-scope', 'noPermissionScope', bearer ? 0.6 : 0.3, {
          data: scopeData(ctx, []),
          evidence: errEv,
          fixes: ['grantScope'],
        });
        break;
      }
      case 'E0000011': {
        const stateToken = /\/api\/v1\/authn\b/.test(path);
        report.claim('credential-invalid', 'invalidToken', 0.75, { data, evidence: errEv, fixes: ['checkToken'] });
        report.claim('credential-expired', stateToken ? 'stateTokenExpired' : 'tokenExpired', stateToken ? 0.85 : 0.5, {
          evidence: errEv,
          fixes: [stateToken ? 'newStateToken' : 'newToken'],
        });
        break;
      }
      case 'E0000015': {
        const custom = /\/oauth2\/(?!v1\/)[^/]+\/v1\//.test(path);
        report.claim('feature-disabled', 'featureDisabled', 0.88, {
          data: {
            ...data,
            customServer: custom ? ' — a custom authorization server needs the paid API Access Management feature' : '',
          },
          evidence: [...errEv, ...(ctx.url ? [ev('request:url', ctx.url.pathname)] : [])],
          fixes: ['orgServer'],
        });
        break;
      }
      case 'E0000047': {
        const reset = ctx.header('x-rate-limit-reset');
        const remaining = ctx.header('x-rate-limit-remaining');
        report.claim('rate-limited', 'rateLimited', 0.9, {
          data: { resets: reset ? `; it resets at ${epochSeconds(reset) ?? reset}` : '' },
          evidence: [...errEv, ...(remaining ? [ev('header:x-rate-limit-remaining', remaining)] : [])],
          fixes: ['rateLimit'],
        });
        break;
      }
      case 'E0000004':
        report.claim('credential-invalid', 'signInFailed', 0.7, { data, evidence: errEv, fixes: ['systemLog'] });
        report.claim('account-state', 'lockedOut', 0.35, { evidence: errEv });
        break;
      case 'E0000005':
        report.claim('credential-invalid', 'sessionRejected', 0.75, {
          data,
          evidence: errEv,
          fixes: ['signInAgain'],
        });
        break;
      case 'E0000079':
        report.claim('resource-state', 'transactionState', 0.8, { data, evidence: errEv, fixes: ['followNext'] });
        break;
      default:
        break;
    }
  },
});
