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
import type { Challenge, Context, Evidence, Fix, Reporter } from '../define.ts';
import type { CredentialItem } from '../../model/credential.ts';

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

const PERMISSIONS_DOC = 'https://learn.microsoft.com/en-us/graph/permissions-reference';
const AUTH_ERRORS_DOC = 'https://learn.microsoft.com/en-us/graph/resolve-auth-errors';
const CAE_DOC = 'https://learn.microsoft.com/en-us/entra/identity-platform/app-resilience-continuous-access-evaluation';
const ROLES_DOC = 'https://learn.microsoft.com/en-us/entra/identity/role-based-access-control/permissions-reference';
const TROUBLESHOOT = 'https://learn.microsoft.com/en-us/troubleshoot/entra/entra-id/users-groups-entra-apis';
const GRAPH_TOKEN = 'az account get-access-token --resource https://graph.microsoft.com';

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

const MESSAGES = {
  // A claims challenge (Conditional Access or continuous access evaluation).
  caeRevoked:
    'Microsoft Graph sent a claims challenge (insufficient_claims): {{description}}continuous access evaluation found the session revoked or the policy changed after the token was issued (the challenge asks for a token issued after its nbf). Retrying with the same token keeps failing until a new one is acquired with the challenge’s claims.',
  caePolicy:
    'Microsoft Graph sent a claims challenge (insufficient_claims): {{description}}a Conditional Access policy (MFA, compliant device, location) is not satisfied by this token. Retrying with the same token keeps failing until a new one is acquired with the challenge’s claims.',
  // 401s: the token itself.
  noAuthorization: 'Microsoft Graph answered 401 to a request that carried no Authorization header.',
  notYetValid:
    'Microsoft Graph rejected the token’s validity window: "{{message}}" — its nbf lies after the server’s clock.',
  expiredAt: 'Microsoft Graph rejected the token’s validity window: "{{message}}" — it expired at {{expiresAt}}.',
  validityWindow: 'Microsoft Graph rejected the token’s validity window: "{{message}}".',
  eitherEnd:
    'Graph’s message covers both ends of the window; a token used before its nbf (a clock running ahead where it was issued) reads the same.',
  audience: 'The token was issued for another resource than Microsoft Graph: "{{message}}".',
  audienceNamed:
    'The token was issued for another resource than Microsoft Graph: "{{message}}" — its aud is {{audience}}.',
  unparsable:
    'Microsoft Graph could not parse the bearer token: "{{firstLine}}". What arrived is not a whole JWT access token — cut short, quoted, prefixed twice with Bearer, or another kind of token (id_token, refresh token, code).',
  emptyToken: 'No token reached Microsoft Graph: "{{message}}".',
  caeRevokedToken: 'Continuous access evaluation revoked the token before its expiry: "{{message}}".',
  badSignature:
    'The token’s signature did not verify: "{{message}}". It was altered, or signed by a key Graph does not trust.',
  rejected: 'Microsoft Graph rejected the token: "{{message}}".',
  validationFailed:
    'Graph says only that validation failed; a token minted for another resource (Azure AD Graph, your own API) is the usual reason — check its aud.',
  // 403s (and permission codes on a 401): what the token or the user may do.
  namedPermission: 'Microsoft Graph names the permission this call needs: {{required}} — "{{message}}".',
  namedPermissionHeld:
    'Microsoft Graph names the permission this call needs: {{required}}, and the {{kind}} token holds {{held}} — "{{message}}".',
  requestDenied:
    'Microsoft Graph refused: "{{message}}" — the token lacks the Graph permission this operation needs. Graph does not say which; the API’s reference page lists it under Permissions.',
  requestDeniedNoToken:
    'Microsoft Graph refused: "{{message}}" — the token lacks the Graph permission this operation needs, or admin consent for it was never granted. Graph does not say which; the API’s reference page lists it under Permissions.',
  appDirectoryRole:
    'Some directory writes (passwords, privileged roles) also need a directory role assigned to the app’s service principal.',
  userDirectoryRole:
    'With delegated permissions Graph also requires the signed-in user to hold a directory role that allows the operation (for example User Administrator, Groups Administrator); a permission alone does not lift the user’s own rights.',
  readOnlyGroup:
    'Graph also answers this for groups it cannot change: distribution groups, mail-enabled security groups and dynamic groups are read-only through Graph, and role-assignable groups need RoleManagement.ReadWrite.Directory as well.',
  unsupportedUserRole: 'The signed-in user lacks the directory role this data needs: "{{message}}".',
  premiumLicence: 'This data needs an Entra ID P1/P2 licence in the tenant: "{{message}}".',
  licenceNeedsDirectoryRead:
    'Without Directory.Read.All next to AuditLog.Read.All Graph cannot read the tenant’s licence and answers the same.',
  meWithoutUser:
    '"{{message}}" — /me needs a signed-in user; an app-only (client credentials) token has no user, so call /users/{id or UPN} instead.',
  noPermissionAtAll: 'The token carries no Graph permission at all.',
  noGraphPermission:
    'The token carries no Microsoft Graph permission: "{{message}}" — no application permission was consented, or the token was requested without Graph scopes.',
  unknownApp:
    'Graph does not know the calling application in this tenant: "{{message}}" — its service principal does not exist there (token from another tenant, or the app was never consented in it).',
  throttled: 'Microsoft Graph throttled the caller: "{{message}}".',
  throttledRetry: 'Microsoft Graph throttled the caller: "{{message}}"; retry after {{retry}} s.',
  workloadLicence: 'The user or tenant lacks the licence this data needs: "{{message}}".',
  workloadDenied:
    '{{said}} — the workload behind Graph refused the call. Most often the token lacks the permission for this resource (Mail.Read for mail, Calendars.Read for calendars, Files.Read for files); Graph does not say which.',
  mailboxPolicy:
    'An Exchange application access policy can limit an app to some mailboxes; the other mailboxes answer exactly this.',
  sharedMailbox:
    'With a delegated token, another user’s mailbox or files are only reachable if that user shared them with the signed-in user (and the token holds the .Shared permission, such as Mail.Read.Shared).',
  itemAccess: 'The signed-in user may also lack access to the item itself (not shared, or a directory role missing).',
};

type Report = Reporter<(typeof CAUSES)[number], keyof typeof MESSAGES>;

// ---- Fixes -------------------------------------------------------------------------------------

const REFRESH: Fix = {
  title:
    'Get a new access token for Microsoft Graph (MSAL and the Graph SDKs refresh on their own when they own the token)',
  difficulty: 'easy',
  commands: [`${GRAPH_TOKEN} --query expiresOn -o tsv`],
  verify: 'The new token’s exp lies after the server’s Date and the call succeeds.',
};

const BEARER_SHAPE: Fix = {
  title:
    'Send the access token itself — not the id_token, refresh token or authorization code — as `Authorization: Bearer <token>`, once, unquoted and whole',
  difficulty: 'easy',
  commands: [
    'curl -s -o /dev/null -w "%{http_code}\\n" -H "Authorization: Bearer $TOKEN" https://graph.microsoft.com/v1.0/me',
    'printf %s "$TOKEN" | tr -cd . | wc -c   # a JWT access token has 2 dots',
  ],
  verify:
    'why403 token "$TOKEN" decodes it and shows aud https://graph.microsoft.com (or 00000003-0000-0000-c000-000000000000).',
  docs: AUTH_ERRORS_DOC,
};

const SEND_BEARER: Fix = {
  title: 'Send "Authorization: Bearer <access token>"',
  difficulty: 'easy',
  commands: [
    `curl -H "Authorization: Bearer $(${GRAPH_TOKEN} --query accessToken -o tsv)" https://graph.microsoft.com/v1.0/me`,
  ],
};

const GRAPH_AUDIENCE_FIX: Fix = {
  title:
    'Request the token for Microsoft Graph: scope https://graph.microsoft.com/.default (or Graph scopes such as User.Read), not your own API’s or another resource’s',
  difficulty: 'easy',
  commands: [
    GRAPH_TOKEN,
    '# MSAL: AcquireToken*(new[] { "https://graph.microsoft.com/.default" }) for app-only, or ["User.Read", …] for delegated',
  ],
  verify: 'The new token’s aud is https://graph.microsoft.com or 00000003-0000-0000-c000-000000000000.',
  docs: 'https://learn.microsoft.com/en-us/entra/identity-platform/access-tokens',
};

const SIGN_IN_LOGS: Fix = {
  title: 'Find which Conditional Access policy or revocation caused it in the sign-in logs',
  difficulty: 'medium',
  commands: ['# Entra admin center → Sign-in logs → filter by the user and time → Conditional Access tab'],
  verify: 'The log names the policy (or the session revocation / location change) that failed.',
};

/** Acquire a token that satisfies a claims challenge; `claimsParam` is the challenge's base64 claims, when sent. */
function caeFixes(claimsParam: string | undefined): Fix[] {
  const reauth: Fix = {
    title:
      'Acquire a new token interactively, passing the challenge’s claims to the sign-in (MSAL: WithClaims / claims parameter), then retry',
    difficulty: 'medium',
    commands: [
      ...(claimsParam ? [`printf %s '${claimsParam}' | base64 -d   # what the new token must satisfy`] : []),
      'Connect-MgGraph   # the Graph PowerShell SDK v2 answers CAE claims challenges by signing in again',
      '# MSAL.NET: app.AcquireTokenInteractive(scopes).WithClaims(claimsChallenge); MSAL.js: acquireTokenPopup({ scopes, claims })',
    ],
    verify:
      'The sign-in completes the step the policy asks for (MFA, compliant device, trusted location) and the retried call succeeds.',
    docs: CAE_DOC,
  };
  return [reauth, SIGN_IN_LOGS];
}

const DIRECTORY_ROLE_FIXES: Fix[] = [
  {
    title: 'List the directory roles of the signed-in user (or the app’s service principal)',
    difficulty: 'easy',
    commands: [
      'az rest --method get --url "https://graph.microsoft.com/v1.0/me/memberOf/microsoft.graph.directoryRole?\\$select=displayName"',
      'Get-MgUserMemberOf -UserId USER_ID | Where-Object { $_.AdditionalProperties."@odata.type" -eq "#microsoft.graph.directoryRole" }',
    ],
    verify: 'One of the roles the API’s reference page lists for delegated calls is present.',
  },
  {
    title: 'Assign the least-privileged Entra role the operation needs',
    difficulty: 'hard',
    commands: ['# Entra admin center → Roles and administrators → ROLE → Add assignments'],
    docs: ROLES_DOC,
  },
];

const UNSUPPORTED_ROLE_FIX: Fix = {
  title:
    'Have the user assigned a role that may read it (for sign-in data: Reports Reader, Security Reader or Global Reader), or call with an application permission',
  difficulty: 'medium',
  docs: ROLES_DOC,
};

const PREMIUM_LICENCE_FIX: Fix = {
  title: 'Check the tenant’s licence (Entra admin center → Overview → License); sign-in activity needs P1 or P2',
  difficulty: 'hard',
  docs: `${TROUBLESHOOT}/b2c-or-tenant-premium-license-sign-in-activities`,
};

const THROTTLE_FIX: Fix = {
  title: 'Back off: honour Retry-After, batch or spread the requests',
  difficulty: 'medium',
  docs: 'https://learn.microsoft.com/en-us/graph/throttling',
};
const WORKLOAD_LICENCE_FIX: Fix = {
  title: 'Assign a licence that includes the workload (Exchange Online, SharePoint, Teams) to the user',
  difficulty: 'hard',
};
const SHARED_MAILBOX_FIX: Fix = {
  title: 'Have the owner share the folder or grant mailbox permission, and request the .Shared permission',
  difficulty: 'medium',
  docs: 'https://learn.microsoft.com/en-us/graph/outlook-share-messages-folders',
};

/** Read a group's type: distribution, mail-enabled, dynamic and role-assignable groups refuse member changes. */
function groupTypeFix(path: string): Fix {
  const group = path.replace(/\/members.*$/i, '').replace(VERSION_PREFIX, '');
  const select = '?\\$select=displayName,groupTypes,mailEnabled,securityEnabled,isAssignableToRole';
  return {
    title: 'Check the group’s type',
    difficulty: 'easy',
    commands: [`az rest --method get --url "https://graph.microsoft.com/v1.0${group}${select}"`],
    docs: `${TROUBLESHOOT}/authorization-requestdenied-403-error-add-user-group`,
  };
}

/** The /users/{id} form of a /me call, for an app-only token. */
function usersEndpointFix(path: string): Fix {
  return {
    title: 'Call /users/{id | userPrincipalName} with the app-only token, holding User.Read.All',
    difficulty: 'easy',
    commands: [
      `az rest --method get --url "https://graph.microsoft.com/v1.0/users/USER_ID${path.replace(/^\/(v1\.0|beta)\/me/, '')}"`,
    ],
    docs: `${TROUBLESHOOT}/error-call-me-endpoint-microsoft-graph`,
  };
}

function consentAppFix(t: TokenView): Fix {
  const app = t.appId ?? 'APP_ID';
  return {
    title: 'Consent the app in the target tenant (creates its service principal)',
    difficulty: 'medium',
    commands: [
      `# https://login.microsoftonline.com/${t.tenant ?? 'TENANT_ID'}/adminconsent?client_id=${app}`,
      `az ad sp create --id ${app}`,
    ],
    docs: `${TROUBLESHOOT}/identity-of-calling-application-not-established`,
  };
}

function mailboxPolicyFix(t: TokenView): Fix {
  return {
    title: 'Test the app against the mailbox',
    difficulty: 'medium',
    commands: [`Test-ApplicationAccessPolicy -Identity MAILBOX -AppId ${t.appId ?? 'APP_ID'}`],
    docs: 'https://learn.microsoft.com/en-us/graph/auth-limit-mailbox-access',
  };
}

/** How to add a Graph permission and consent to it, for the permission type the token shows. */
function grantFixes(t: TokenView, permission?: string): Fix[] {
  const perm = permission ?? 'PERMISSION';
  const app = t.appId ?? 'APP_ID';
  const known = t.kind !== undefined;
  const types =
    t.kind === 'application'
      ? ['Application']
      : t.kind === 'delegated'
        ? ['Delegated']
        : ['Delegated (user signed in)', 'Application (no user)'];
  // Application permissions are Graph's appRoles (added as =Role), delegated ones its oauth2PermissionScopes (=Scope).
  const delegated = t.kind === 'delegated';
  const claimName =
    t.kind === 'application' ? 'roles' : t.kind === 'delegated' ? 'scp' : 'scp (delegated) or roles (application)';
  const portal = `# Entra admin center → App registrations → ${t.appId ?? 'your app'} → API permissions → Add a permission → Microsoft Graph → ${types.join(' / ')} → ${perm} → Grant admin consent`;
  const permId = `PERM_ID=$(az ad sp show --id ${GRAPH_APP_ID} --query "${delegated ? 'oauth2PermissionScopes' : 'appRoles'}[?value=='${perm}'].id" -o tsv)`;
  const add = `az ad app permission add --id ${app} --api ${GRAPH_APP_ID} --api-permissions $PERM_ID=${delegated ? 'Scope' : 'Role'}`;
  const grant: Fix = {
    title: `Add the Microsoft Graph ${types.join(' or ')} permission ${perm} to the app registration and grant admin consent`,
    difficulty: 'medium',
    commands: [
      portal,
      known ? permId : `${permId}   # delegated: oauth2PermissionScopes`,
      known ? add : `${add}   # delegated: =Scope`,
      `az ad app permission admin-consent --id ${app}`,
    ],
    verify: `A new token’s ${claimName} claim lists ${perm}; the API’s reference page names the least-privileged permission for this call.`,
    docs: PERMISSIONS_DOC,
  };
  if (t.kind === 'application') return [grant, appOnlyTokenFix(t, perm)];
  const signIn: Fix = {
    title: `Sign in again asking for ${perm} (tokens only carry the permissions consented when they were issued)`,
    difficulty: 'easy',
    commands: [
      `Connect-MgGraph -Scopes "${perm}"`,
      `${GRAPH_TOKEN} --query expiresOn -o tsv   # after consent, a fresh token`,
    ],
    verify: `(Get-MgContext).Scopes lists ${perm}.`,
  };
  return [grant, signIn];
}

function appOnlyTokenFix(t: TokenView, perm: string): Fix {
  const token = `https://login.microsoftonline.com/${t.tenant ?? 'TENANT_ID'}/oauth2/v2.0/token`;
  const form = `-d grant_type=client_credentials -d client_id=${t.appId ?? 'APP_ID'} -d client_secret="$SECRET" -d scope=https://graph.microsoft.com/.default`;
  return {
    title: 'Request a new app-only token after consent (client credentials with the .default scope)',
    difficulty: 'easy',
    commands: [`curl -s -X POST ${token} ${form}`],
    verify: `The new token’s roles claim lists ${perm}.`,
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
    data: { description: description ? `"${description}" — ` : '' },
    evidence: [
      ...(challenge ? [ev('header:www-authenticate', `error="${challenge.params.error}"`)] : []),
      ...(description ? [ev('header:www-authenticate.errorDescription', description)] : []),
      ...(decoded ? [ev('header:www-authenticate.claims', decoded)] : []),
      ...base,
    ],
    fixes: caeFixes(challenge?.params.claims),
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
    report.claim(cause, id, 0.85, { data: { message, expiresAt }, evidence: base, fixes: [REFRESH] });
    if (!t.item) report.claim('credential-not-yet-valid', 'eitherEnd', 0.15, { evidence: base, fixes: [REFRESH] });
  } else if (/audience/i.test(message) || audOk === false) {
    const gap = {
      required: [`aud https://graph.microsoft.com (or ${GRAPH_APP_ID})`],
      held: t.audience.map((a) => `aud ${a}`),
    };
    report.claim('wrong-audience', t.audience.length ? 'audienceNamed' : 'audience', audOk === false ? 0.9 : 0.85, {
      data: { message, audience: t.audience.join(', ') },
      evidence: [...base, ...audEvidence],
      fixes: [GRAPH_AUDIENCE_FIX],
      ...(audOk === false ? { gap } : {}),
    });
  } else if (UNPARSABLE.test(message)) {
    report.claim('credential-malformed', 'unparsable', 0.85, {
      data: { firstLine: message.split('\n')[0] },
      evidence: base,
      fixes: [BEARER_SHAPE],
    });
  } else if (/Access token is empty/i.test(message)) {
    report.claim('credential-missing', 'emptyToken', 0.9, { data: { message }, evidence: base, fixes: [SEND_BEARER] });
  } else if (CAE_MESSAGE.test(message)) {
    report.claim('conditional-access', 'caeRevokedToken', 0.8, {
      data: { message },
      evidence: base,
      fixes: caeFixes(undefined),
    });
  } else if (/signature|signing key/i.test(message)) {
    report.claim('credential-invalid', 'badSignature', 0.8, { data: { message }, evidence: base, fixes: [REFRESH] });
  } else {
    const evidence = [...base, ...audEvidence];
    report.claim('credential-invalid', 'rejected', 0.55, {
      data: { message },
      evidence,
      fixes: [REFRESH, GRAPH_AUDIENCE_FIX],
    });
    // "Access token validation failure." without a reason is most often a token for another resource (graph.windows.net).
    report.claim('wrong-audience', 'validationFailed', 0.35, { evidence, fixes: [GRAPH_AUDIENCE_FIX] });
  }
}

/** The message names the permission the call needs: the gap, against what the token holds. */
function namedPermission(required: string[], { err, t, base }: Refusal, report: Report): void {
  const have = held(t);
  const missing = required.filter((r) => !have.includes(r));
  report.claim('insufficient-scope', t.item ? 'namedPermissionHeld' : 'namedPermission', 0.92, {
    data: {
      required: required.join(' or '),
      kind: t.kind === 'application' ? 'application' : 'delegated',
      held: have.length ? have.join(' ') : 'none',
      message: err.message.replace(/\s+/g, ' '),
    },
    evidence: [...base, ...heldEvidence(t)],
    fixes: grantFixes(t, required[0]),
    ...(t.item ? { gap: { required: missing.length ? missing : required, held: have } } : {}),
  });
}

/** Authorization_RequestDenied: a permission missing, or (delegated) the user's own directory role. */
function requestDenied({ err, t, base, path }: Refusal, report: Report): void {
  const heldEv = [...base, ...heldEvidence(t)];
  const app = t.kind === 'application';
  const data = { message: err.message };
  report.claim('insufficient-scope', t.item ? 'requestDenied' : 'requestDeniedNoToken', app ? 0.85 : 0.75, {
    data,
    evidence: heldEv,
    fixes: grantFixes(t),
  });
  // Delegated calls are limited to what the signed-in user may do, so a missing directory role reads the same.
  const roleWeight = app ? 0.15 : t.kind === 'delegated' ? 0.45 : 0.35;
  report.claim('insufficient-role', app ? 'appDirectoryRole' : 'userDirectoryRole', roleWeight, {
    evidence: heldEv,
    fixes: DIRECTORY_ROLE_FIXES,
  });
  if (/\/groups\/[^/]+\/members/i.test(path))
    report.claim('resource-state', 'readOnlyGroup', 0.3, { evidence: base, fixes: [groupTypeFix(path)] });
}

/** NoPermissionsInAccessToken: on /me, most often an app-only token calling a user's endpoint. */
function noPermissions({ err, t, base, path }: Refusal, report: Report): void {
  const heldEv = [...base, ...heldEvidence(t)];
  const data = { message: err.message };
  if (/\/me(\/|$)/.test(path.replace(VERSION_PREFIX, '')) && t.kind !== 'delegated') {
    report.claim('wrong-endpoint', 'meWithoutUser', 0.8, { data, evidence: heldEv, fixes: [usersEndpointFix(path)] });
    report.claim('insufficient-scope', 'noPermissionAtAll', 0.3, { evidence: heldEv, fixes: grantFixes(t) });
  } else
    report.claim('insufficient-scope', 'noGraphPermission', 0.85, { data, evidence: heldEv, fixes: grantFixes(t) });
}

/** accessDenied and kin from the workloads (Exchange, SharePoint): a permission, a licence, or the item itself. */
function workloadDenied(ctx: Context, { err, t, base, path }: Refusal, report: Report): void {
  const { code, message } = err;
  if (/licen[cs]e/i.test(message)) {
    report.claim('feature-disabled', 'workloadLicence', 0.7, {
      data: { message },
      evidence: base,
      fixes: [WORKLOAD_LICENCE_FIX],
    });
    return;
  }
  const heldEv = [...base, ...heldEvidence(t)];
  const otherUser = /^\/(v1\.0|beta)\/users\/[^/]+\//i.test(path);
  const said = message
    ? `${code ? `${code}: ` : ''}"${message}"`
    : `Graph answered ${ctx.status} without an error body`;
  report.claim('insufficient-scope', 'workloadDenied', message ? 0.7 : 0.5, {
    data: { said },
    evidence: heldEv,
    fixes: grantFixes(t),
  });
  if (t.kind === 'application' && otherUser)
    report.claim('resource-policy', 'mailboxPolicy', 0.35, { evidence: base, fixes: [mailboxPolicyFix(t)] });
  else if (otherUser)
    report.claim('insufficient-role', 'sharedMailbox', 0.3, { evidence: heldEv, fixes: [SHARED_MAILBOX_FIX] });
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
      fixes: [UNSUPPORTED_ROLE_FIX],
    });
  else if (code === 'Authentication_RequestFromNonPremiumTenantOrB2CTenant') {
    report.claim('feature-disabled', 'premiumLicence', 0.85, {
      data: { message },
      evidence: base,
      fixes: [PREMIUM_LICENCE_FIX],
    });
    report.claim('insufficient-scope', 'licenceNeedsDirectoryRead', 0.25, {
      evidence: heldEv,
      fixes: grantFixes(t, 'Directory.Read.All'),
    });
  } else if (code === 'NoPermissionsInAccessToken') noPermissions(refusal, report);
  else if (code === 'Authorization_IdentityNotFound')
    report.claim('wrong-audience', 'unknownApp', 0.6, { data: { message }, evidence: base, fixes: [consentAppFix(t)] });
  else if (THROTTLE_CODES.test(code)) {
    const retry = ctx.header('retry-after');
    report.claim('rate-limited', retry ? 'throttledRetry' : 'throttled', 0.85, {
      data: { message, retry },
      evidence: [...base, ...(retry ? [ev('header:retry-after', retry)] : [])],
      fixes: [THROTTLE_FIX],
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
    description:
      'Microsoft Graph (graph.microsoft.com), Microsoft’s API in front of Microsoft 365 data, answering as an application from the Entra ID token’s delegated (scp) or application (roles) permissions: token errors (expired, wrong audience, unparsable, missing), missing permissions (Authorization_RequestDenied, Authentication_MSGraphPermissionMissing with the permission named, ErrorAccessDenied), directory roles, licences, Conditional Access / CAE claims challenges and throttling.',
    docs: [
      'https://learn.microsoft.com/en-us/graph/errors',
      AUTH_ERRORS_DOC,
      PERMISSIONS_DOC,
      CAE_DOC,
      `${TROUBLESHOOT}/add-owner-for-application-microsoft-graph`,
      'https://learn.microsoft.com/en-us/graph/throttling',
    ],
    causes: CAUSES,
    statuses: [401, 403],
    messages: MESSAGES,
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
          fixes: [SEND_BEARER],
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
