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
import { defineRule, ev, type CauseClaim, type ProducerClaim } from '../define.ts';
import type { Context } from '../../engine/context.ts';
import { jsonAt, jsonString } from '../../engine/context.ts';
import type { CredentialItem } from '../../model/credential.ts';
import type { Evidence, Fix, Gap } from '../../model/report.ts';
import type { CauseId } from '../../model/vocabulary.ts';

/** Graph's first-party application id: the `client_id` of its challenge and one spelling of its audience. */
const GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';
const GRAPH_HOST = /^(graph\.microsoft\.com|canary\.graph\.microsoft\.com|graph\.microsoft\.us|dod-graph\.microsoft\.us|microsoftgraph\.chinacloudapi\.cn)$/i;
const GRAPH_AUDIENCE = /^(https:\/\/(graph\.microsoft\.com|canary\.graph\.microsoft\.com|graph\.microsoft\.us|dod-graph\.microsoft\.us|microsoftgraph\.chinacloudapi\.cn)\/?|00000003-0000-0000-c000-000000000000)$/i;

// Codes Graph and the workloads behind it use for refusals (errors page, the
// Entra troubleshooting articles, and the SDK issues cited in the fixtures).
const GRAPH_CODES = /^(InvalidAuthenticationToken|Authorization_RequestDenied|Authorization_IdentityNotFound|Authentication_\w+|NoPermissionsInAccessToken|accessDenied|ErrorAccessDenied|AccessDenied|Forbidden|unauthenticated|activityLimitReached|throttledRequest|TooManyRequests|ApplicationThrottled|accessRestricted|notAllowed)$/;
const PERMISSION_CODES = /^(Authorization_\w+|Authentication_\w+|NoPermissionsInAccessToken|accessDenied|ErrorAccessDenied|AccessDenied|Forbidden|activityLimitReached|throttledRequest|TooManyRequests|ApplicationThrottled)$/;
// Sentences only Graph's services write; they identify it when the URL is not known.
const GRAPH_SENTENCE = /Access token validation failure|CompactToken parsing failed|IDX14100: JWT is not well formed|Access token has expired or is not yet valid|Access token is empty|Insufficient privileges to complete the operation|Calling principal does not have required MSGraph permissions|Access is denied\. Check credentials and try again|The token contains no permissions, or permissions can not be understood|Continuous access evaluation resulted in/;

const PERMISSIONS_DOC = 'https://learn.microsoft.com/en-us/graph/permissions-reference';
const AUTH_ERRORS_DOC = 'https://learn.microsoft.com/en-us/graph/resolve-auth-errors';

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

function graphChallenge(ctx: Context) {
  return ctx.challenges.find((c) => c.scheme.toLowerCase() === 'bearer' && (c.params.client_id === GRAPH_APP_ID || /login\.(microsoftonline|windows)\.(com|net|us)|login\.partner\.microsoftonline\.cn/.test(c.params.authorization_uri ?? '')));
}

function signature(ctx: Context) {
  const evidence: Evidence[] = [];
  const host = ctx.url?.hostname ?? '';
  const graphHost = GRAPH_HOST.test(host);
  const ags = ctx.header('x-ms-ags-diagnostic');
  const challenge = graphChallenge(ctx);
  const graphClient = challenge?.params.client_id === GRAPH_APP_ID;
  const err = readError(ctx);
  const envelope = Boolean(err.code && err.innerDate && err.innerRequestId);
  const knownCode = Boolean(err.code && GRAPH_CODES.test(err.code));
  const sentence = GRAPH_SENTENCE.test(err.message);
  if (graphHost) evidence.push(ev('request:url', `Microsoft Graph endpoint ${host}`));
  if (ags) {
    let where = ags;
    try {
      const info = JSON.parse(ags) as { ServerInfo?: { DataCenter?: string; RoleInstance?: string } };
      if (info.ServerInfo?.DataCenter) where = `Graph front end in ${info.ServerInfo.DataCenter}${info.ServerInfo.RoleInstance ? ` (${info.ServerInfo.RoleInstance})` : ''}`;
    } catch {
      /* kept verbatim */
    }
    evidence.push(ev('header:x-ms-ags-diagnostic', where));
  }
  if (graphClient) evidence.push(ev('header:www-authenticate', `Bearer challenge with client_id="${GRAPH_APP_ID}", Microsoft Graph’s application id`));
  const requestId = ctx.header('request-id');
  if (requestId) evidence.push(ev('header:request-id', requestId));
  if (envelope) evidence.push(ev('body:error.innerError', `OData error with innerError date ${err.innerDate} and request-id ${err.innerRequestId}, Graph’s error envelope`));
  if (err.code && (knownCode || sentence)) evidence.push(ev('body:error.code', err.code));

  let confidence = 0;
  if (ags || graphClient) confidence = 0.97;
  else if (graphHost && (err.code || requestId)) confidence = 0.95;
  else if (graphHost) confidence = 0.7;
  else if (envelope && (knownCode || sentence)) confidence = 0.85;
  else if (sentence && knownCode) confidence = 0.6;
  else if (envelope && requestId) confidence = 0.55;
  return { confidence, evidence, err, challenge };
}

/** The Entra access token the request carried, when it could be decoded. */
function graphToken(ctx: Context): CredentialItem | undefined {
  return ctx.credential.items.find((i) => i.kind === 'bearer-jwt' && i.claims);
}

const words = (v: unknown): string[] => (typeof v === 'string' ? v.split(/\s+/).filter(Boolean) : Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

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

function tokenView(ctx: Context): TokenView {
  const item = graphToken(ctx);
  const claims = item?.claims ?? {};
  const scp = words(claims.scp);
  const roles = words(claims.roles);
  const app = claims.idtyp === 'app' || (!scp.length && roles.length > 0);
  const appId = typeof claims.appid === 'string' ? claims.appid : typeof claims.azp === 'string' ? claims.azp : undefined;
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

function claim(id: CauseId, weight: number, summary: string, evidence: Evidence[], fixes: Fix[], gap?: Gap): CauseClaim {
  return { id, weight, summary, evidence, fixes, ...(gap ? { gap } : {}) };
}

/** How to add a Graph permission and consent to it, for the permission type the token shows. */
function grantFixes(t: TokenView, permission?: string): Fix[] {
  const perm = permission ?? 'PERMISSION';
  const app = t.appId ?? 'APP_ID';
  const types = t.kind === 'application' ? ['Application'] : t.kind === 'delegated' ? ['Delegated'] : ['Delegated (user signed in)', 'Application (no user)'];
  // Application permissions are Graph's appRoles (added as =Role), delegated ones its oauth2PermissionScopes (=Scope).
  const delegated = t.kind === 'delegated';
  const either = t.kind === undefined ? '   # delegated: oauth2PermissionScopes' : '';
  const fixes: Fix[] = [
    {
      title: `Add the Microsoft Graph ${types.join(' or ')} permission ${perm} to the app registration and grant admin consent`,
      difficulty: 'medium',
      commands: [
        `# Entra admin center → App registrations → ${t.appId ?? 'your app'} → API permissions → Add a permission → Microsoft Graph → ${types.join(' / ')} → ${perm} → Grant admin consent`,
        `PERM_ID=$(az ad sp show --id ${GRAPH_APP_ID} --query "${delegated ? 'oauth2PermissionScopes' : 'appRoles'}[?value=='${perm}'].id" -o tsv)${either}`,
        `az ad app permission add --id ${app} --api ${GRAPH_APP_ID} --api-permissions $PERM_ID=${delegated ? 'Scope' : 'Role'}${t.kind === undefined ? '   # delegated: =Scope' : ''}`,
        `az ad app permission admin-consent --id ${app}`,
      ],
      verify: `A new token’s ${t.kind === 'application' ? 'roles' : t.kind === 'delegated' ? 'scp' : 'scp (delegated) or roles (application)'} claim lists ${perm}; the API’s reference page names the least-privileged permission for this call.`,
      docs: PERMISSIONS_DOC,
    },
  ];
  if (t.kind !== 'application')
    fixes.push({
      title: `Sign in again asking for ${perm} (tokens only carry the permissions consented when they were issued)`,
      difficulty: 'easy',
      commands: [`Connect-MgGraph -Scopes "${perm}"`, `az account get-access-token --resource https://graph.microsoft.com --query expiresOn -o tsv   # after consent, a fresh token`],
      verify: `(Get-MgContext).Scopes lists ${perm}.`,
    });
  else
    fixes.push({
      title: 'Request a new app-only token after consent (client credentials with the .default scope)',
      difficulty: 'easy',
      commands: [`curl -s -X POST https://login.microsoftonline.com/${t.tenant ?? 'TENANT_ID'}/oauth2/v2.0/token -d grant_type=client_credentials -d client_id=${app} -d client_secret="$SECRET" -d scope=https://graph.microsoft.com/.default`],
      verify: `The new token’s roles claim lists ${perm}.`,
    });
  return fixes;
}

const REFRESH: Fix = {
  title: 'Get a new access token for Microsoft Graph (MSAL and the Graph SDKs refresh on their own when they own the token)',
  difficulty: 'easy',
  commands: ['az account get-access-token --resource https://graph.microsoft.com --query expiresOn -o tsv'],
  verify: 'The new token’s exp lies after the server’s Date and the call succeeds.',
};

const BEARER_SHAPE: Fix = {
  title: 'Send the access token itself — not the id_token, refresh token or authorization code — as `Authorization: Bearer <token>`, once, unquoted and whole',
  difficulty: 'easy',
  commands: ['curl -s -o /dev/null -w "%{http_code}\\n" -H "Authorization: Bearer $TOKEN" https://graph.microsoft.com/v1.0/me', 'printf %s "$TOKEN" | tr -cd . | wc -c   # a JWT access token has 2 dots'],
  verify: 'why403 token "$TOKEN" decodes it and shows aud https://graph.microsoft.com (or 00000003-0000-0000-c000-000000000000).',
  docs: AUTH_ERRORS_DOC,
};

function decodeClaimsChallenge(claims: string | undefined): string | undefined {
  if (!claims) return undefined;
  try {
    const text = Buffer.from(claims, 'base64').toString('utf8');
    return text.trim().startsWith('{') ? text : undefined;
  } catch {
    return undefined;
  }
}

function tokenCauses(ctx: Context, err: GraphError, t: TokenView, base: Evidence[]): CauseClaim[] {
  const m = err.message;
  const out: CauseClaim[] = [];
  const audEvidence = t.audience.length ? [ev('claim:aud', t.audience.join(' '))] : [];
  const audOk = t.audience.length ? t.audience.some((a) => GRAPH_AUDIENCE.test(a)) : undefined;
  const audFix: Fix = {
    title: 'Request the token for Microsoft Graph: scope https://graph.microsoft.com/.default (or Graph scopes such as User.Read), not your own API’s or another resource’s',
    difficulty: 'easy',
    commands: ['az account get-access-token --resource https://graph.microsoft.com', '# MSAL: AcquireToken*(new[] { "https://graph.microsoft.com/.default" }) for app-only, or ["User.Read", …] for delegated'],
    verify: 'The new token’s aud is https://graph.microsoft.com or 00000003-0000-0000-c000-000000000000.',
    docs: 'https://learn.microsoft.com/en-us/entra/identity-platform/access-tokens',
  };
  const audGap = t.audience.length ? { required: ['aud https://graph.microsoft.com (or 00000003-0000-0000-c000-000000000000)'], held: t.audience.map((a) => `aud ${a}`) } : undefined;

  if (/expired or is not yet valid|token has expired|Lifetime validation failed|IDX10223/i.test(m)) {
    const findings = ctx.credential.findings.map((f) => f.cause);
    const notYet = findings.includes('credential-not-yet-valid') && !findings.includes('credential-expired');
    out.push(claim(notYet ? 'credential-not-yet-valid' : 'credential-expired', 0.85, `Microsoft Graph rejected the token’s validity window: "${m}"${notYet ? ' — its nbf lies after the server’s clock' : t.item?.expiresAt ? ` — it expired at ${t.item.expiresAt}` : ''}.`, base, [REFRESH]));
    if (!t.item) out.push(claim('credential-not-yet-valid', 0.15, 'Graph’s message covers both ends of the window; a token used before its nbf (a clock running ahead where it was issued) reads the same.', base, [REFRESH]));
  } else if (/audience/i.test(m) || audOk === false) {
    out.push(claim('wrong-audience', audOk === false ? 0.9 : 0.85, `The token was issued for another resource than Microsoft Graph: "${m}"${t.audience.length ? ` — its aud is ${t.audience.join(', ')}` : ''}.`, [...base, ...audEvidence], [audFix], audOk === false ? audGap : undefined));
  } else if (/CompactToken parsing failed|IDX14100|JWT is not well formed|IDX12741|IDX14102|Unable to decode/i.test(m)) {
    out.push(claim('credential-malformed', 0.85, `Microsoft Graph could not parse the bearer token: "${m.split('\n')[0]}". What arrived is not a whole JWT access token — cut short, quoted, prefixed twice with Bearer, or another kind of token (id_token, refresh token, code).`, base, [BEARER_SHAPE]));
  } else if (/Access token is empty/i.test(m)) {
    out.push(claim('credential-missing', 0.9, `No token reached Microsoft Graph: "${m}".`, base, [{ title: 'Send "Authorization: Bearer <access token>"', difficulty: 'easy', commands: ['curl -H "Authorization: Bearer $(az account get-access-token --resource https://graph.microsoft.com --query accessToken -o tsv)" https://graph.microsoft.com/v1.0/me'] }]));
  } else if (/Continuous access evaluation|ClaimsChallengeRequired/i.test(m)) {
    out.push(claim('conditional-access', 0.8, `Continuous access evaluation revoked the token before its expiry: "${m}".`, base, caeFixes(undefined)));
  } else if (/signature|signing key/i.test(m)) {
    out.push(claim('credential-invalid', 0.8, `The token’s signature did not verify: "${m}". It was altered, or signed by a key Graph does not trust.`, base, [REFRESH]));
  } else {
    out.push(claim('credential-invalid', 0.55, `Microsoft Graph rejected the token: "${m}".`, [...base, ...audEvidence], [REFRESH, audFix]));
    // "Access token validation failure." without a reason is most often a token for another resource (graph.windows.net).
    out.push(claim('wrong-audience', 0.35, 'Graph says only that validation failed; a token minted for another resource (Azure AD Graph, your own API) is the usual reason — check its aud.', [...base, ...audEvidence], [audFix]));
  }
  return out;
}

function caeFixes(claimsParam: string | undefined): Fix[] {
  return [
    {
      title: 'Acquire a new token interactively, passing the challenge’s claims to the sign-in (MSAL: WithClaims / claims parameter), then retry',
      difficulty: 'medium',
      commands: [
        ...(claimsParam ? [`printf %s '${claimsParam}' | base64 -d   # what the new token must satisfy`] : []),
        'Connect-MgGraph   # the Graph PowerShell SDK v2 answers CAE claims challenges by signing in again',
        '# MSAL.NET: app.AcquireTokenInteractive(scopes).WithClaims(claimsChallenge); MSAL.js: acquireTokenPopup({ scopes, claims })',
      ],
      verify: 'The sign-in completes the step the policy asks for (MFA, compliant device, trusted location) and the retried call succeeds.',
      docs: 'https://learn.microsoft.com/en-us/entra/identity-platform/app-resilience-continuous-access-evaluation',
    },
    {
      title: 'Find which Conditional Access policy or revocation caused it in the sign-in logs',
      difficulty: 'medium',
      commands: ['# Entra admin center → Sign-in logs → filter by the user and time → Conditional Access tab'],
      verify: 'The log names the policy (or the session revocation / location change) that failed.',
    },
  ];
}

function permissionCauses(ctx: Context, err: GraphError, t: TokenView, base: Evidence[]): CauseClaim[] {
  const code = err.code ?? '';
  const m = err.message;
  const causes: CauseClaim[] = [];
  const heldEv = heldEvidence(t);
  const path = ctx.url?.pathname ?? '';

  const named = /required MSGraph permissions?\s+([\w.]+(?:\s*,\s*[\w.]+)*)/i.exec(m) ?? /Application must have one of the following scopes: ([\w.]+(?:,\s*[\w.]+)*)/i.exec(m) ?? /API requires one of '([^']+)'/i.exec(m);
  if (named) {
    const required = named[1].split(/(?<!\s)\s*,\s*/).filter(Boolean);
    const have = held(t);
    const missing = required.filter((r) => !have.includes(r));
    const gap = t.item ? { required: missing.length ? missing : required, held: have } : undefined;
    causes.push(claim('insufficient-scope', 0.92, `Microsoft Graph names the permission this call needs: ${required.join(' or ')}${t.item ? `, and the ${t.kind === 'application' ? 'application' : 'delegated'} token holds ${have.length ? have.join(' ') : 'none'}` : ''} — "${m.replace(/\s+/g, ' ')}".`, [...base, ...heldEv], grantFixes(t, required[0]), gap));
    return causes;
  }

  switch (code) {
    case 'Authorization_RequestDenied': {
      // Delegated calls are limited to what the signed-in user may do, so a missing directory role reads the same.
      const scopeWeight = t.kind === 'application' ? 0.85 : 0.75;
      const roleWeight = t.kind === 'application' ? 0.15 : t.kind === 'delegated' ? 0.45 : 0.35;
      causes.push(claim('insufficient-scope', scopeWeight, `Microsoft Graph refused: "${m}" — the token lacks the Graph permission this operation needs${t.item ? '' : ', or admin consent for it was never granted'}. Graph does not say which; the API’s reference page lists it under Permissions.`, [...base, ...heldEv], grantFixes(t)));
      causes.push(claim('insufficient-role', roleWeight, t.kind === 'application' ? 'Some directory writes (passwords, privileged roles) also need a directory role assigned to the app’s service principal.' : 'With delegated permissions Graph also requires the signed-in user to hold a directory role that allows the operation (for example User Administrator, Groups Administrator); a permission alone does not lift the user’s own rights.', [...base, ...heldEv], [
        { title: 'List the directory roles of the signed-in user (or the app’s service principal)', difficulty: 'easy', commands: ['az rest --method get --url "https://graph.microsoft.com/v1.0/me/memberOf/microsoft.graph.directoryRole?\\$select=displayName"', 'Get-MgUserMemberOf -UserId USER_ID | Where-Object { $_.AdditionalProperties."@odata.type" -eq "#microsoft.graph.directoryRole" }'], verify: 'One of the roles the API’s reference page lists for delegated calls is present.' },
        { title: 'Assign the least-privileged Entra role the operation needs', difficulty: 'hard', commands: ['# Entra admin center → Roles and administrators → ROLE → Add assignments'], docs: 'https://learn.microsoft.com/en-us/entra/identity/role-based-access-control/permissions-reference' },
      ]));
      if (/\/groups\/[^/]+\/members/i.test(path)) {
        causes.push(claim('resource-state', 0.3, 'Graph also answers this for groups it cannot change: distribution groups, mail-enabled security groups and dynamic groups are read-only through Graph, and role-assignable groups need RoleManagement.ReadWrite.Directory as well.', base, [{ title: 'Check the group’s type', difficulty: 'easy', commands: [`az rest --method get --url "https://graph.microsoft.com/v1.0${path.replace(/\/members.*$/i, '').replace(/^\/(v1\.0|beta)/, '')}?\\$select=displayName,groupTypes,mailEnabled,securityEnabled,isAssignableToRole"`], docs: 'https://learn.microsoft.com/en-us/troubleshoot/entra/entra-id/users-groups-entra-apis/authorization-requestdenied-403-error-add-user-group' }]));
      }
      break;
    }
    case 'Authentication_RequestFromUnsupportedUserRole':
      causes.push(claim('insufficient-role', 0.85, `The signed-in user lacks the directory role this data needs: "${m}".`, [...base, ...heldEv], [{ title: 'Have the user assigned a role that may read it (for sign-in data: Reports Reader, Security Reader or Global Reader), or call with an application permission', difficulty: 'medium', docs: 'https://learn.microsoft.com/en-us/entra/identity/role-based-access-control/permissions-reference' }]));
      break;
    case 'Authentication_RequestFromNonPremiumTenantOrB2CTenant':
      causes.push(claim('feature-disabled', 0.85, `This data needs an Entra ID P1/P2 licence in the tenant: "${m}".`, base, [{ title: 'Check the tenant’s licence (Entra admin center → Overview → License); sign-in activity needs P1 or P2', difficulty: 'hard', docs: 'https://learn.microsoft.com/en-us/troubleshoot/entra/entra-id/users-groups-entra-apis/b2c-or-tenant-premium-license-sign-in-activities' }]));
      causes.push(claim('insufficient-scope', 0.25, 'Without Directory.Read.All next to AuditLog.Read.All Graph cannot read the tenant’s licence and answers the same.', [...base, ...heldEv], grantFixes(t, 'Directory.Read.All')));
      break;
    case 'NoPermissionsInAccessToken':
      if (/\/me(\/|$)/.test(path.replace(/^\/(v1\.0|beta)/, '')) && t.kind !== 'delegated') {
        causes.push(claim('wrong-endpoint', 0.8, `"${m}" — /me needs a signed-in user; an app-only (client credentials) token has no user, so call /users/{id or UPN} instead.`, [...base, ...heldEv], [{ title: 'Call /users/{id | userPrincipalName} with the app-only token, holding User.Read.All', difficulty: 'easy', commands: [`az rest --method get --url "https://graph.microsoft.com/v1.0/users/USER_ID${path.replace(/^\/(v1\.0|beta)\/me/, '')}"`], docs: 'https://learn.microsoft.com/en-us/troubleshoot/entra/entra-id/users-groups-entra-apis/error-call-me-endpoint-microsoft-graph' }]));
        causes.push(claim('insufficient-scope', 0.3, 'The token carries no Graph permission at all.', [...base, ...heldEv], grantFixes(t)));
      } else causes.push(claim('insufficient-scope', 0.85, `The token carries no Microsoft Graph permission: "${m}" — no application permission was consented, or the token was requested without Graph scopes.`, [...base, ...heldEv], grantFixes(t)));
      break;
    case 'Authorization_IdentityNotFound':
      causes.push(claim('wrong-audience', 0.6, `Graph does not know the calling application in this tenant: "${m}" — its service principal does not exist there (token from another tenant, or the app was never consented in it).`, base, [{ title: 'Consent the app in the target tenant (creates its service principal)', difficulty: 'medium', commands: [`# https://login.microsoftonline.com/${t.tenant ?? 'TENANT_ID'}/adminconsent?client_id=${t.appId ?? 'APP_ID'}`, `az ad sp create --id ${t.appId ?? 'APP_ID'}`], docs: 'https://learn.microsoft.com/en-us/troubleshoot/entra/entra-id/users-groups-entra-apis/identity-of-calling-application-not-established' }]));
      break;
    case 'activityLimitReached':
    case 'throttledRequest':
    case 'TooManyRequests':
    case 'ApplicationThrottled': {
      const retry = ctx.header('retry-after');
      causes.push(claim('rate-limited', 0.85, `Microsoft Graph throttled the caller: "${m}"${retry ? `; retry after ${retry} s` : ''}.`, [...base, ...(retry ? [ev('header:retry-after', retry)] : [])], [{ title: 'Back off: honour Retry-After, batch or spread the requests', difficulty: 'medium', docs: 'https://learn.microsoft.com/en-us/graph/throttling' }]));
      break;
    }
    case 'accessDenied':
    case 'ErrorAccessDenied':
    case 'AccessDenied':
    case 'Forbidden':
    default: {
      if (code && !/^(accessDenied|ErrorAccessDenied|AccessDenied|Forbidden)$/.test(code) && !/^Authentication_|^Authorization_/.test(code)) return causes;
      if (/licen[cs]e/i.test(m)) {
        causes.push(claim('feature-disabled', 0.7, `The user or tenant lacks the licence this data needs: "${m}".`, base, [{ title: 'Assign a licence that includes the workload (Exchange Online, SharePoint, Teams) to the user', difficulty: 'hard' }]));
        break;
      }
      const otherUser = /^\/(v1\.0|beta)\/users\/[^/]+\//i.test(path);
      const said = m ? `${code ? `${code}: ` : ''}"${m}"` : `Graph answered ${ctx.status} without an error body`;
      causes.push(claim('insufficient-scope', m ? 0.7 : 0.5, `${said} — the workload behind Graph refused the call. Most often the token lacks the permission for this resource (Mail.Read for mail, Calendars.Read for calendars, Files.Read for files); Graph does not say which.`, [...base, ...heldEv], grantFixes(t)));
      if (t.kind === 'application' && otherUser)
        causes.push(claim('resource-policy', 0.35, 'An Exchange application access policy can limit an app to some mailboxes; the other mailboxes answer exactly this.', base, [{ title: 'Test the app against the mailbox', difficulty: 'medium', commands: [`Test-ApplicationAccessPolicy -Identity MAILBOX -AppId ${t.appId ?? 'APP_ID'}`], docs: 'https://learn.microsoft.com/en-us/graph/auth-limit-mailbox-access' }]));
      else if (otherUser)
        causes.push(claim('insufficient-role', 0.3, 'With a delegated token, another user’s mailbox or files are only reachable if that user shared them with the signed-in user (and the token holds the .Shared permission, such as Mail.Read.Shared).', [...base, ...heldEv], [{ title: 'Have the owner share the folder or grant mailbox permission, and request the .Shared permission', difficulty: 'medium', docs: 'https://learn.microsoft.com/en-us/graph/outlook-share-messages-folders' }]));
      else causes.push(claim('insufficient-role', 0.2, 'The signed-in user may also lack access to the item itself (not shared, or a directory role missing).', base, []));
    }
  }
  return causes;
}

export default defineRule({
  meta: {
    id: 'microsoft-graph',
    kind: 'producer',
    product: 'microsoft-graph',
    // "application", not "cloud-iam": Graph is the API of the Microsoft 365 workloads and judges
    // each call itself (and through Exchange, SharePoint, the directory) from the token's scp/roles
    // and the user's directory roles — there is no policy engine or role assignment on the
    // resource to consult, as Azure Resource Manager has. Entra ID only issued the token.
    layer: 'application',
    description: 'Microsoft Graph (graph.microsoft.com), Microsoft’s API in front of Microsoft 365 data, answering as an application from the Entra ID token’s delegated (scp) or application (roles) permissions: token errors (expired, wrong audience, unparsable, missing), missing permissions (Authorization_RequestDenied, Authentication_MSGraphPermissionMissing with the permission named, ErrorAccessDenied), directory roles, licences, Conditional Access / CAE claims challenges and throttling.',
    docs: [
      'https://learn.microsoft.com/en-us/graph/errors',
      AUTH_ERRORS_DOC,
      PERMISSIONS_DOC,
      'https://learn.microsoft.com/en-us/entra/identity-platform/app-resilience-continuous-access-evaluation',
      'https://learn.microsoft.com/en-us/troubleshoot/entra/entra-id/users-groups-entra-apis/add-owner-for-application-microsoft-graph',
      'https://learn.microsoft.com/en-us/graph/throttling',
    ],
    causes: ['credential-expired', 'credential-not-yet-valid', 'credential-malformed', 'credential-missing', 'credential-invalid', 'wrong-audience', 'insufficient-scope', 'insufficient-role', 'resource-state', 'resource-policy', 'feature-disabled', 'wrong-endpoint', 'conditional-access', 'rate-limited'],
  },
  applies: (ctx) => signature(ctx).confidence > 0,
  run(ctx) {
    const sig = signature(ctx);
    const producer: ProducerClaim = { product: 'microsoft-graph', layer: 'application', confidence: sig.confidence, evidence: sig.evidence };
    if (ctx.status !== 401 && ctx.status !== 403) return { producer };
    const { err, challenge } = sig;
    const t = tokenView(ctx);
    const base: Evidence[] = [...(err.code ? [ev('body:error.code', err.code)] : []), ...(err.message ? [ev('body:error.message', err.message)] : [])];
    const causes: CauseClaim[] = [];
    const notes: string[] = [];

    // A claims challenge is Conditional Access or CAE speaking, whatever the body says.
    const claimsChallenge = ctx.challenges.find((c) => c.scheme.toLowerCase() === 'bearer' && c.params.error?.toLowerCase() === 'insufficient_claims') ?? challenge;
    if (claimsChallenge?.params.error?.toLowerCase() === 'insufficient_claims' || /AADSTS5300[0-3]|AADSTS5007[69]/.test(err.message)) {
      const challenge = claimsChallenge;
      const decoded = decodeClaimsChallenge(challenge?.params.claims);
      const description = challenge?.params.errordescription ?? challenge?.params.error_description;
      const revoked = decoded && /"nbf"/.test(decoded);
      causes.push(claim('conditional-access', 0.85, `Microsoft Graph sent a claims challenge (insufficient_claims): ${description ? `"${description}" — ` : ''}${revoked ? 'continuous access evaluation found the session revoked or the policy changed after the token was issued (the challenge asks for a token issued after its nbf)' : 'a Conditional Access policy (MFA, compliant device, location) is not satisfied by this token'}. Retrying with the same token keeps failing until a new one is acquired with the challenge’s claims.`, [
        ...(challenge ? [ev('header:www-authenticate', `error="${challenge.params.error}"`)] : []),
        ...(description ? [ev('header:www-authenticate.errorDescription', description)] : []),
        ...(decoded ? [ev('header:www-authenticate.claims', decoded)] : []),
        ...base,
      ], caeFixes(challenge?.params.claims)));
      return { producer, causes, notes };
    }

    // Codes that name a permission, role, licence or throttle are judged as such even on a 401
    // (Authorization_IdentityNotFound is one); everything else on a 401 is about the token.
    const permissionCode = Boolean(err.code && PERMISSION_CODES.test(err.code));
    if (!permissionCode && (ctx.status === 401 || err.code === 'InvalidAuthenticationToken' || err.code === 'unauthenticated')) {
      if (err.message) causes.push(...tokenCauses(ctx, err, t, base));
      else if (ctx.exchange.request && !ctx.requestHeader('authorization'))
        causes.push(claim('credential-missing', 0.8, 'Microsoft Graph answered 401 to a request that carried no Authorization header.', [ev('request', 'no Authorization header'), ...(challenge ? [ev('header:www-authenticate', 'Bearer challenge from Graph')] : [])], [{ title: 'Send "Authorization: Bearer <access token>"', difficulty: 'easy', commands: ['curl -H "Authorization: Bearer $(az account get-access-token --resource https://graph.microsoft.com --query accessToken -o tsv)" https://graph.microsoft.com/v1.0/me'] }]));
      if (causes.length && t.item && t.kind) notes.push(`The token is ${t.kind === 'delegated' ? `delegated (scp: ${t.scp.join(' ')})` : `app-only (roles: ${t.roles.join(' ') || 'none'})`}.`);
      return { producer, causes, notes };
    }

    causes.push(...permissionCauses(ctx, err, t, base));
    if (err.innerRequestId || ctx.header('request-id')) notes.push(`Quote request-id ${err.innerRequestId ?? ctx.header('request-id')} (and the date) when asking Microsoft support about this refusal.`);
    return { producer, causes, notes };
  },
});
