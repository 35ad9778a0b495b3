// Microsoft Graph (graph.microsoft.com and its national clouds) is the one API
// in front of Microsoft 365 data: the directory, Exchange mail and calendars,
// SharePoint/OneDrive files, Teams. It trusts Entra ID access tokens and
// decides from what the token carries: `scp` (delegated permissions, further
// limited to what the signed-in user's directory roles allow) or `roles`
// (application permissions). Its refusals are OData errors,
// {"error":{"code","message","innerError":{"date","request-id","client-request-id"}}},
// with request-id / client-request-id headers, an x-ms-ags-diagnostic header
// naming the Graph front end, and a Bearer challenge naming Graph's own app id.
// Messages are not localised but Graph says they may change, so codes decide
// and messages only refine; the workloads behind Graph (Exchange's
// ErrorAccessDenied, the directory's Authorization_RequestDenied) keep their
// own codes.
import { defineProducer, ev, jsonAt, jsonString, signals } from '../define.ts';
import type { Challenge, Context, Evidence, Reporter } from '../define.ts';
import type { CredentialItem } from '../../model/credential.ts';
import texts from './texts.json' with { type: 'json' };

/** Graph's first-party application id: the `client_id` of its challenge and one spelling of its audience. */
const GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';
const GRAPH_HOST =
  /^(graph\.microsoft\.com|canary\.graph\.microsoft\.com|graph\.microsoft\.us|dod-graph\.microsoft\.us|microsoftgraph\.chinacloudapi\.cn)$/i;
const GRAPH_AUDIENCE =
  /^(https:\/\/(graph\.microsoft\.com|canary\.graph\.microsoft\.com|graph\.microsoft\.us|dod-graph\.microsoft\.us|microsoftgraph\.chinacloudapi\.cn)\/?|00000003-0000-0000-c000-000000000000)$/i;
const GRAPH_CLIENT_CHALLENGE = `Bearer challenge with client_id="${GRAPH_APP_ID}", Microsoft Graph’s application id`;
const ENTRA_LOGIN = /login\.(microsoftonline|windows)\.(com|net|us)|login\.partner\.microsoftonline\.cn/;

// Codes Graph and the workloads behind it use for refusals (errors page, the
// Entra troubleshooting articles, and the SDK issues cited in the fixtures).
const GRAPH_CODES =
  /^(InvalidAuthenticationToken|Authorization_RequestDenied|Authorization_IdentityNotFound|Authentication_\w+|NoPermissionsInAccessToken|accessDenied|ErrorAccessDenied|AccessDenied|Forbidden|unauthenticated|activityLimitReached|throttledRequest|TooManyRequests|ApplicationThrottled|accessRestricted|notAllowed)$/;
const PERMISSION_CODES =
  /^(Authorization_\w+|Authentication_\w+|NoPermissionsInAccessToken|accessDenied|ErrorAccessDenied|AccessDenied|Forbidden|activityLimitReached|throttledRequest|TooManyRequests|ApplicationThrottled)$/;
const TOKEN_CODES = /^(InvalidAuthenticationToken|unauthenticated)$/;
const THROTTLE_CODES = /^(activityLimitReached|throttledRequest|TooManyRequests|ApplicationThrottled)$/;
const ACCESS_DENIED_CODES = /^(accessDenied|ErrorAccessDenied|AccessDenied|Forbidden)$/;
// Sentences only Graph's services write; they identify it when the URL is not known.
const GRAPH_SENTENCE =
  /Access token validation failure|CompactToken parsing failed|IDX14100: JWT is not well formed|Access token has expired or is not yet valid|Access token is empty|Insufficient privileges to complete the operation|Calling principal does not have required MSGraph permissions|Access is denied\. Check credentials and try again|The token contains no permissions, or permissions can not be understood|Continuous access evaluation resulted in/;

// What a 401's message says about the token.
const EXPIRED = /expired or is not yet valid|token has expired|Lifetime validation failed|IDX10223/i;
const UNPARSABLE = /CompactToken parsing failed|IDX14100|JWT is not well formed|IDX12741|IDX14102|Unable to decode/i;
const CAE_MESSAGE = /Continuous access evaluation|ClaimsChallengeRequired/i;
const CLAIMS_AADSTS = /AADSTS5300[0-3]|AADSTS5007[69]/;
/** The sentences that name the permission a call needs. */
const NAMED_PERMISSION = [
  /required MSGraph permissions?\s+([\w.]+(?:\s*,\s*[\w.]+)*)/i,
  /Application must have one of the following scopes: ([\w.]+(?:,\s*[\w.]+)*)/i,
  /API requires one of '([^']+)'/i,
];
const VERSION_PREFIX = /^\/(v1\.0|beta)/;

const CAUSES = [
  'credential-expired',
  'credential-not-yet-valid',
  'credential-malformed',
  'credential-missing',
  'credential-invalid',
  'wrong-audience',
  'insufficient-scope',
  'insufficient-role',
  'resource-state',
  'resource-policy',
  'feature-disabled',
  'wrong-endpoint',
  'conditional-access',
  'rate-limited',
] as const;

type Report = Reporter<(typeof CAUSES)[number], keyof typeof texts.messages, keyof typeof texts.fixes>;

// ---- Values for the fixes ----------------------------------------------------------------------

/** The app and tenant the token names, for the fixes' commands. */
const appOf = (t: TokenView) => ({
  app: t.appId ?? 'APP_ID',
  appName: t.appId ?? 'your app',
  tenant: t.tenant ?? 'TENANT_ID',
});

/** How to add a Graph permission and consent to it, for the permission type the token shows. */
function grant(t: TokenView, permission?: string) {
  const known = t.kind !== undefined;
  const delegated = t.kind === 'delegated';
  const types =
    t.kind === 'application'
      ? ['Application']
      : t.kind === 'delegated'
        ? ['Delegated']
        : ['Delegated (user signed in)', 'Application (no user)'];
  return {
    data: {
      ...appOf(t),
      perm: permission ?? 'PERMISSION',
      grantTypes: types.join(' or '),
      grantTypesPath: types.join(' / '),
      // Application permissions are Graph's appRoles (added as =Role), delegated ones its oauth2PermissionScopes (=Scope).
      permissionList: delegated ? 'oauth2PermissionScopes' : 'appRoles',
      permType: delegated ? 'Scope' : 'Role',
      permIdNote: known ? '' : '   # delegated: oauth2PermissionScopes',
      addNote: known ? '' : '   # delegated: =Scope',
      claimName:
        t.kind === 'application' ? 'roles' : t.kind === 'delegated' ? 'scp' : 'scp (delegated) or roles (application)',
    },
    fixes: ['grantPermission', t.kind === 'application' ? 'appOnlyToken' : 'signInAgain'] as const,
  };
}

// ---- Reading the response and the token --------------------------------------------------------

interface GraphError {
  code?: string;
  message: string;
  innerDate?: string;
  innerRequestId?: string;
}

function readError(ctx: Context): GraphError {
  const j = ctx.body.json;
  if (!j || typeof j !== 'object') return { message: '' };
  const inner = jsonAt(j, 'error.innerError') ?? jsonAt(j, 'error.innererror');
  return {
    code: jsonString(j, 'error.code'),
    message: jsonString(j, 'error.message') ?? '',
    innerDate: jsonString(inner, 'date'),
    innerRequestId: jsonString(inner, 'request-id') ?? jsonString(inner, 'requestId'),
  };
}

function graphChallenge(ctx: Context): Challenge | undefined {
  return ctx.challenges.find(
    (c) =>
      c.scheme.toLowerCase() === 'bearer' &&
      (c.params.client_id === GRAPH_APP_ID || ENTRA_LOGIN.test(c.params.authorization_uri ?? '')),
  );
}

/** The Graph front end named by x-ms-ags-diagnostic, or the header verbatim. */
function frontEnd(ags: string): string {
  try {
    const info = JSON.parse(ags) as { ServerInfo?: { DataCenter?: string; RoleInstance?: string } };
    const server = info.ServerInfo;
    if (server?.DataCenter)
      return `Graph front end in ${server.DataCenter}${server.RoleInstance ? ` (${server.RoleInstance})` : ''}`;
  } catch {
    /* kept verbatim */
  }
  return ags;
}

const words = (v: unknown): string[] =>
  typeof v === 'string'
    ? v.split(/\s+/).filter(Boolean)
    : Array.isArray(v)
      ? v.filter((x): x is string => typeof x === 'string')
      : [];

interface TokenView {
  item?: CredentialItem;
  /** Delegated (`scp`, a user signed in) or application (`roles` only, client credentials). */
  kind?: 'delegated' | 'application';
  scp: string[];
  roles: string[];
  audience: string[];
  appId?: string;
  tenant?: string;
}

/** The Entra access token the request carried, when it could be decoded. */
function tokenView(ctx: Context): TokenView {
  const item = ctx.credential.items.find((i) => i.kind === 'bearer-jwt' && i.claims);
  const claims = item?.claims ?? {};
  const scp = words(claims.scp);
  const roles = words(claims.roles);
  const app = claims.idtyp === 'app' || (!scp.length && roles.length > 0);
  const appId =
    typeof claims.appid === 'string' ? claims.appid : typeof claims.azp === 'string' ? claims.azp : undefined;
  return {
    item,
    kind: item ? (scp.length ? 'delegated' : app ? 'application' : undefined) : undefined,
    scp,
    roles,
    audience: item?.audience ?? words(claims.aud),
    appId,
    tenant: item?.tenant ?? (typeof claims.tid === 'string' ? claims.tid : undefined),
  };
}

function heldEvidence(t: TokenView): Evidence[] {
  if (!t.item) return [];
  if (t.kind === 'delegated') return [ev('claim:scp', `delegated permissions held: ${t.scp.join(' ')}`)];
  if (t.kind === 'application') return [ev('claim:roles', `application permissions held: ${t.roles.join(' ')}`)];
  return [ev('claim:scp', 'the token carries neither scp nor roles: no Microsoft Graph permission at all')];
}

const held = (t: TokenView): string[] => (t.kind === 'application' ? t.roles : t.scp);

const describeToken = (t: TokenView): string =>
  t.kind === 'delegated' ? `delegated (scp: ${t.scp.join(' ')})` : `app-only (roles: ${t.roles.join(' ') || 'none'})`;

function decodeClaimsChallenge(claims: string | undefined): string | undefined {
  if (!claims) return undefined;
  try {
    const text = Buffer.from(claims, 'base64').toString('utf8');
    return text.trim().startsWith('{') ? text : undefined;
  } catch {
    return undefined;
  }
}

/** What every claim on a Graph refusal starts from. */
interface Refusal {
  err: GraphError;
  t: TokenView;
  /** The error's code and message as evidence. */
  base: Evidence[];
  path: string;
}

// ---- Causes ------------------------------------------------------------------------------------

/** A claims challenge is Conditional Access or CAE speaking, whatever the body says. */
function claimsChallenge(challenge: Challenge | undefined, { base }: Refusal, report: Report): void {
  const decoded = decodeClaimsChallenge(challenge?.params.claims);
  const description = challenge?.params.errordescription ?? challenge?.params.error_description;
  const revoked = decoded && /"nbf"/.test(decoded);
  report.claim('conditional-access', revoked ? 'caeRevoked' : 'caePolicy', 0.85, {
    data: { description: description ? `"${description}" — ` : '', claims: challenge?.params.claims },
    evidence: [
      ...(challenge ? [ev('header:www-authenticate', `error="${challenge.params.error}"`)] : []),
      ...(description ? [ev('header:www-authenticate.errorDescription', description)] : []),
      ...(decoded ? [ev('header:www-authenticate.claims', decoded)] : []),
      ...base,
    ],
    fixes: [challenge?.params.claims ? 'reauthWithClaims' : 'reauth', 'signInLogs'],
  });
}

/** A 401 whose message speaks about the token: its validity window, audience, shape or signature. */
function tokenCauses(ctx: Context, { err, t, base }: Refusal, report: Report): void {
  const message = err.message;
  const audEvidence = t.audience.length ? [ev('claim:aud', t.audience.join(' '))] : [];
  const audOk = t.audience.length ? t.audience.some((a) => GRAPH_AUDIENCE.test(a)) : undefined;

  if (EXPIRED.test(message)) {
    const findings = ctx.credential.findings.map((f) => f.cause);
    const notYet = findings.includes('credential-not-yet-valid') && !findings.includes('credential-expired');
    const expiresAt = t.item?.expiresAt;
    const id = notYet ? 'notYetValid' : expiresAt ? 'expiredAt' : 'validityWindow';
    const cause = notYet ? 'credential-not-yet-valid' : 'credential-expired';
    report.claim(cause, id, 0.85, { data: { message, expiresAt }, evidence: base, fixes: ['refresh'] });
    if (!t.item) report.claim('credential-not-yet-valid', 'eitherEnd', 0.15, { evidence: base, fixes: ['refresh'] });
  } else if (/audience/i.test(message) || audOk === false) {
    const gap = {
      required: [`aud https://graph.microsoft.com (or ${GRAPH_APP_ID})`],
      held: t.audience.map((a) => `aud ${a}`),
    };
    report.claim('wrong-audience', t.audience.length ? 'audienceNamed' : 'audience', audOk === false ? 0.9 : 0.85, {
      data: { message, audience: t.audience.join(', ') },
      evidence: [...base, ...audEvidence],
      fixes: ['graphAudience'],
      ...(audOk === false ? { gap } : {}),
    });
  } else if (UNPARSABLE.test(message)) {
    report.claim('credential-malformed', 'unparsable', 0.85, {
      data: { firstLine: message.split('\n')[0] },
      evidence: base,
      fixes: ['bearerShape'],
    });
  } else if (/Access token is empty/i.test(message)) {
    report.claim('credential-missing', 'emptyToken', 0.9, { data: { message }, evidence: base, fixes: ['sendBearer'] });
  } else if (CAE_MESSAGE.test(message)) {
    report.claim('conditional-access', 'caeRevokedToken', 0.8, {
      data: { message },
      evidence: base,
      fixes: ['reauth', 'signInLogs'],
    });
  } else if (/signature|signing key/i.test(message)) {
    report.claim('credential-invalid', 'badSignature', 0.8, { data: { message }, evidence: base, fixes: ['refresh'] });
  } else {
    const evidence = [...base, ...audEvidence];
    report.claim('credential-invalid', 'rejected', 0.55, {
      data: { message },
      evidence,
      fixes: ['refresh', 'graphAudience'],
    });
    // "Access token validation failure." without a reason is most often a token for another resource (graph.windows.net).
    report.claim('wrong-audience', 'validationFailed', 0.35, { evidence, fixes: ['graphAudience'] });
  }
}

/** The message names the permission the call needs: the gap, against what the token holds. */
function namedPermission(required: string[], { err, t, base }: Refusal, report: Report): void {
  const have = held(t);
  const missing = required.filter((r) => !have.includes(r));
  const g = grant(t, required[0]);
  report.claim('insufficient-scope', t.item ? 'namedPermissionHeld' : 'namedPermission', 0.92, {
    data: {
      required: required.join(' or '),
      kind: t.kind === 'application' ? 'application' : 'delegated',
      held: have.length ? have.join(' ') : 'none',
      message: err.message.replace(/\s+/g, ' '),
      ...g.data,
    },
    evidence: [...base, ...heldEvidence(t)],
    fixes: g.fixes,
    ...(t.item ? { gap: { required: missing.length ? missing : required, held: have } } : {}),
  });
}

/** Authorization_RequestDenied: a permission missing, or (delegated) the user's own directory role. */
function requestDenied({ err, t, base, path }: Refusal, report: Report): void {
  const heldEv = [...base, ...heldEvidence(t)];
  const app = t.kind === 'application';
  const g = grant(t);
  report.claim('insufficient-scope', t.item ? 'requestDenied' : 'requestDeniedNoToken', app ? 0.85 : 0.75, {
    data: { message: err.message, ...g.data },
    evidence: heldEv,
    fixes: g.fixes,
  });
  // Delegated calls are limited to what the signed-in user may do, so a missing directory role reads the same.
  const roleWeight = app ? 0.15 : t.kind === 'delegated' ? 0.45 : 0.35;
  report.claim('insufficient-role', app ? 'appDirectoryRole' : 'userDirectoryRole', roleWeight, {
    evidence: heldEv,
    fixes: ['listDirectoryRoles', 'assignDirectoryRole'],
  });
  if (/\/groups\/[^/]+\/members/i.test(path))
    report.claim('resource-state', 'readOnlyGroup', 0.3, {
      data: { group: path.replace(/\/members.*$/i, '').replace(VERSION_PREFIX, '') },
      evidence: base,
      fixes: ['groupType'],
    });
}

/** NoPermissionsInAccessToken: on /me, most often an app-only token calling a user's endpoint. */
function noPermissions({ err, t, base, path }: Refusal, report: Report): void {
  const heldEv = [...base, ...heldEvidence(t)];
  const g = grant(t);
  if (/\/me(\/|$)/.test(path.replace(VERSION_PREFIX, '')) && t.kind !== 'delegated') {
    report.claim('wrong-endpoint', 'meWithoutUser', 0.8, {
      // The /users/{id} form of the /me call, for the app-only token.
      data: { message: err.message, rest: path.replace(/^\/(v1\.0|beta)\/me/, '') },
      evidence: heldEv,
      fixes: ['usersEndpoint'],
    });
    report.claim('insufficient-scope', 'noPermissionAtAll', 0.3, { data: g.data, evidence: heldEv, fixes: g.fixes });
  } else
    report.claim('insufficient-scope', 'noGraphPermission', 0.85, {
      data: { message: err.message, ...g.data },
      evidence: heldEv,
      fixes: g.fixes,
    });
}

/** accessDenied and kin from the workloads (Exchange, SharePoint): a permission, a licence, or the item itself. */
function workloadDenied(ctx: Context, { err, t, base, path }: Refusal, report: Report): void {
  const { code, message } = err;
  if (/licen[cs]e/i.test(message)) {
    report.claim('feature-disabled', 'workloadLicence', 0.7, {
      data: { message },
      evidence: base,
      fixes: ['workloadLicence'],
    });
    return;
  }
  const heldEv = [...base, ...heldEvidence(t)];
  const otherUser = /^\/(v1\.0|beta)\/users\/[^/]+\//i.test(path);
  const said = message
    ? `${code ? `${code}: ` : ''}"${message}"`
    : `Graph answered ${ctx.status} without an error body`;
  const g = grant(t);
  report.claim('insufficient-scope', 'workloadDenied', message ? 0.7 : 0.5, {
    data: { said, ...g.data },
    evidence: heldEv,
    fixes: g.fixes,
  });
  if (t.kind === 'application' && otherUser)
    report.claim('resource-policy', 'mailboxPolicy', 0.35, {
      data: appOf(t),
      evidence: base,
      fixes: ['mailboxPolicy'],
    });
  else if (otherUser)
    report.claim('insufficient-role', 'sharedMailbox', 0.3, { evidence: heldEv, fixes: ['sharedMailbox'] });
  else report.claim('insufficient-role', 'itemAccess', 0.2, { evidence: base });
}

/** A 403, or a 401 whose code names a permission, role, licence or throttle. */
function permissionCauses(ctx: Context, refusal: Refusal, report: Report): void {
  const { err, t, base } = refusal;
  const code = err.code ?? '';
  const message = err.message;
  const named = NAMED_PERMISSION.map((re) => re.exec(message)).find(Boolean);
  if (named) return namedPermission(named[1].split(/(?<!\s)\s*,\s*/).filter(Boolean), refusal, report);

  const heldEv = [...base, ...heldEvidence(t)];
  if (code === 'Authorization_RequestDenied') requestDenied(refusal, report);
  else if (code === 'Authentication_RequestFromUnsupportedUserRole')
    report.claim('insufficient-role', 'unsupportedUserRole', 0.85, {
      data: { message },
      evidence: heldEv,
      fixes: ['unsupportedRole'],
    });
  else if (code === 'Authentication_RequestFromNonPremiumTenantOrB2CTenant') {
    report.claim('feature-disabled', 'premiumLicence', 0.85, {
      data: { message },
      evidence: base,
      fixes: ['premiumLicence'],
    });
    const g = grant(t, 'Directory.Read.All');
    report.claim('insufficient-scope', 'licenceNeedsDirectoryRead', 0.25, {
      data: g.data,
      evidence: heldEv,
      fixes: g.fixes,
    });
  } else if (code === 'NoPermissionsInAccessToken') noPermissions(refusal, report);
  else if (code === 'Authorization_IdentityNotFound')
    report.claim('wrong-audience', 'unknownApp', 0.6, {
      data: { message, ...appOf(t) },
      evidence: base,
      fixes: ['consentApp'],
    });
  else if (THROTTLE_CODES.test(code)) {
    const retry = ctx.header('retry-after');
    report.claim('rate-limited', retry ? 'throttledRetry' : 'throttled', 0.85, {
      data: { message, retry },
      evidence: [...base, ...(retry ? [ev('header:retry-after', retry)] : [])],
      fixes: ['throttle'],
    });
  } else if (!code || ACCESS_DENIED_CODES.test(code) || /^Authentication_|^Authorization_/.test(code))
    workloadDenied(ctx, refusal, report);
}

export default defineProducer({
  meta: {
    id: 'microsoft-graph',
    product: 'microsoft-graph',
    // "application", not "cloud-iam": Graph is the API of the Microsoft 365 workloads and judges
    // each call itself (and through Exchange, SharePoint, the directory) from the token's scp/roles
    // and the user's directory roles — there is no policy engine or role assignment on the
    // resource to consult, as Azure Resource Manager has. Entra ID only issued the token.
    layer: 'application',
    causes: CAUSES,
    statuses: [401, 403],
    ...texts,
  },
  recognise(ctx) {
    const host = ctx.url?.hostname ?? '';
    const graphHost = GRAPH_HOST.test(host);
    const ags = ctx.header('x-ms-ags-diagnostic');
    const challenge = graphChallenge(ctx);
    const graphClient = challenge?.params.client_id === GRAPH_APP_ID;
    const requestId = ctx.header('request-id');
    const err = readError(ctx);
    const envelope = Boolean(err.code && err.innerDate && err.innerRequestId);
    const knownCode = Boolean(err.code && GRAPH_CODES.test(err.code));
    const sentence = GRAPH_SENTENCE.test(err.message);
    const found = signals();
    // The host alone is a fair guess; with an error code or a request-id it is Graph answering.
    if (graphHost) found.add(err.code || requestId ? 0.95 : 0.7, ev('request:url', `Microsoft Graph endpoint ${host}`));
    if (ags) found.add(0.97, ev('header:x-ms-ags-diagnostic', frontEnd(ags)));
    if (graphClient) found.add(0.97, ev('header:www-authenticate', GRAPH_CLIENT_CHALLENGE));
    // A request-id header, Graph's envelope and its codes count only together.
    if (requestId) found.add(0, ev('header:request-id', requestId));
    if (envelope) {
      const text = `OData error with innerError date ${err.innerDate} and request-id ${err.innerRequestId}, Graph’s error envelope`;
      found.add(knownCode || sentence ? 0.85 : requestId ? 0.55 : 0, ev('body:error.innerError', text));
    }
    if (err.code && (knownCode || sentence))
      found.add(knownCode && sentence ? 0.6 : 0, ev('body:error.code', err.code));
    return found.result({ err, challenge });
  },
  explain(ctx, { err, challenge }, report) {
    const t = tokenView(ctx);
    const base = [
      ...(err.code ? [ev('body:error.code', err.code)] : []),
      ...(err.message ? [ev('body:error.message', err.message)] : []),
    ];
    const refusal: Refusal = { err, t, base, path: ctx.url?.pathname ?? '' };

    const insufficientClaims = (c: Challenge | undefined) => c?.params.error?.toLowerCase() === 'insufficient_claims';
    const claims =
      ctx.challenges.find((c) => c.scheme.toLowerCase() === 'bearer' && insufficientClaims(c)) ?? challenge;
    if (insufficientClaims(claims) || CLAIMS_AADSTS.test(err.message)) return claimsChallenge(claims, refusal, report);

    // Codes that name a permission, role, licence or throttle are judged as such even on a 401
    // (Authorization_IdentityNotFound is one); everything else on a 401 is about the token.
    const permissionCode = Boolean(err.code && PERMISSION_CODES.test(err.code));
    if (!permissionCode && (ctx.status === 401 || TOKEN_CODES.test(err.code ?? ''))) {
      const noAuthorization = !err.message && ctx.exchange.request && !ctx.requestHeader('authorization');
      if (err.message) tokenCauses(ctx, refusal, report);
      else if (noAuthorization)
        report.claim('credential-missing', 'noAuthorization', 0.8, {
          evidence: [
            ev('request', 'no Authorization header'),
            ...(challenge ? [ev('header:www-authenticate', 'Bearer challenge from Graph')] : []),
          ],
          fixes: ['sendBearer'],
        });
      if ((err.message || noAuthorization) && t.item && t.kind) report.note(`The token is ${describeToken(t)}.`);
      return;
    }

    permissionCauses(ctx, refusal, report);
    if (err.innerRequestId || ctx.header('request-id'))
      report.note(
        `Quote request-id ${err.innerRequestId ?? ctx.header('request-id')} (and the date) when asking Microsoft support about this refusal.`,
      );
  },
});
