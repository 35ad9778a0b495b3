// Azure Storage (Blob, File, Queue, Table, Data Lake) answers refusals with
// <Error><Code>…</Code><Message>…\nRequestId:…\nTime:…</Message> (Table: JSON
// odata.error), the code repeated in x-ms-error-code, and Server:
// Windows-Azure-<Service>/1.0 Microsoft-HTTPAPI/2.0. The code says which
// authorisation layer refused: data-plane RBAC (AuthorizationPermissionMismatch),
// the account firewall (AuthorizationFailure), SAS restrictions (…Mismatch),
// or the signature itself (AuthenticationFailed + AuthenticationErrorDetail).
// The Azurite emulator (Server: Azurite-Blob/…) answers SAS, Shared Key and
// anonymous-access failures alike with 403 AuthorizationFailure, so there the
// request (SAS window, Shared Key, nothing) tells which check refused.
import { defineProducer, ev, type Context, type Evidence, type Fix } from '../define.ts';
import { jsonError } from '../_lib/envelopes.ts';
import { errorDocumentField } from '../_lib/cloud-errors.ts';

const STORAGE_CODES =
  /^(AuthorizationPermissionMismatch|AuthorizationFailure|AuthenticationFailed|AuthorizationSourceIPMismatch|AuthorizationProtocolMismatch|AuthorizationResourceTypeMismatch|AuthorizationServiceMismatch|InsufficientAccountPermissions|AccountIsDisabled|KeyVaultEncryptionKeyNotFound|KeyVaultAccessTokenCannotBeAcquired|KeyVaultVaultNotFound|NoAuthenticationInformation|InvalidAuthenticationInfo|PublicAccessNotPermitted)$/;
const STORAGE_SERVER = /Windows-Azure-(Blob|File|Queue|Table)\/|Azurite-(Blob|Queue|Table)\//i;
const STORAGE_HOST = /\.(blob|file|queue|table|dfs|web)\.core\.(windows\.net|chinacloudapi\.cn|usgovcloudapi\.net)$/;
const IN_AN_HOUR = "$(date -u -d '+1 hour' +%Y-%m-%dT%H:%MZ)";

const field = (ctx: Context, name: string): string | undefined => errorDocumentField(ctx, name)?.trim();

function readError(ctx: Context): { code?: string; message?: string; detail?: string } {
  const json = jsonError(ctx, ['odata.error.code', 'error.code'], ['odata.error.message.value', 'error.message']);
  if (json?.code) return { code: json.code, message: json.message };
  return {
    code: field(ctx, 'Code') ?? ctx.header('x-ms-error-code'),
    message: field(ctx, 'Message'),
    detail: field(ctx, 'AuthenticationErrorDetail'),
  };
}

/** Account, container and blob from https://ACCOUNT.blob.core.windows.net/CONTAINER/BLOB (or Azurite's /ACCOUNT/… path). */
function target(ctx: Context) {
  const url = ctx.url;
  if (!url) return { account: 'ACCOUNT', container: 'CONTAINER', blob: 'BLOB', service: 'blob' };
  const hostMatch = /^([a-z0-9]+)\.(blob|file|queue|table|dfs)\./.exec(url.hostname);
  const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  if (!hostMatch && parts.length) parts.shift();
  return {
    account: hostMatch?.[1] ?? 'ACCOUNT',
    service: hostMatch?.[2] ?? 'blob',
    container: parts[0] ?? 'CONTAINER',
    blob: parts.slice(1).join('/') || 'BLOB',
  };
}

function sas(ctx: Context): Record<string, string> | undefined {
  const q = ctx.url?.searchParams;
  if (!q || !q.has('sig')) return undefined;
  const out: Record<string, string> = {};
  for (const k of ['sv', 'ss', 'srt', 'sp', 'st', 'se', 'sip', 'spr', 'sr', 'skoid']) {
    const v = q.get(k);
    if (v) out[k] = v;
  }
  return out;
}

/** The SAS window against the server's clock (its Date header): seconds past se, or before st. */
function sasWindow(
  ctx: Context,
  s: Record<string, string> | undefined,
): { expired?: number; early?: number; serverTime: string } | undefined {
  const date = ctx.header('date');
  const server = date ? new Date(date) : undefined;
  if (!s || !server || Number.isNaN(server.getTime())) return undefined;
  const se = s.se ? new Date(s.se) : undefined;
  const st = s.st ? new Date(s.st) : undefined;
  const serverTime = server.toISOString();
  // The Date header has one-second resolution.
  if (se && !Number.isNaN(se.getTime()) && server.getTime() - se.getTime() > 1000)
    return { expired: Math.round((server.getTime() - se.getTime()) / 1000), serverTime };
  if (st && !Number.isNaN(st.getTime()) && st.getTime() - server.getTime() > 1000)
    return { early: Math.round((st.getTime() - server.getTime()) / 1000), serverTime };
  return { serverTime };
}

function authKind(ctx: Context): 'sas' | 'shared-key' | 'bearer' | 'none' | 'unknown' {
  if (sas(ctx)) return 'sas';
  const auth = ctx.requestHeader('authorization');
  if (auth && /^SharedKey(Lite)? /i.test(auth)) return 'shared-key';
  if (auth && /^Bearer /i.test(auth)) return 'bearer';
  return ctx.exchange.request ? 'none' : 'unknown';
}

function bracketTimes(detail: string): Date[] {
  return [...detail.matchAll(/\[([^[\]]+)\]/g)].map((m) => new Date(m[1])).filter((d) => !Number.isNaN(d.getTime()));
}

const ROLE_FOR: Record<string, { read: string; write: string }> = {
  blob: { read: 'Storage Blob Data Reader', write: 'Storage Blob Data Contributor' },
  dfs: { read: 'Storage Blob Data Reader', write: 'Storage Blob Data Contributor' },
  queue: { read: 'Storage Queue Data Reader', write: 'Storage Queue Data Contributor' },
  table: { read: 'Storage Table Data Reader', write: 'Storage Table Data Contributor' },
  file: { read: 'Storage File Data SMB Share Reader', write: 'Storage File Data SMB Share Contributor' },
};

type Target = ReturnType<typeof target>;

function assignFix(t: Target, role: string): Fix {
  const accountScope = `$(az storage account show --name ${t.account} --query id -o tsv)`;
  const containerScope = `${accountScope}/blobServices/default/containers/${t.container}`;
  return {
    title: `Assign a data-plane role such as "${role}" to the caller (Owner/Contributor on the account do not grant data access)`,
    difficulty: 'medium',
    commands: [
      'az ad signed-in-user show --query id -o tsv  # or the service principal / managed identity object id',
      `az role assignment list --assignee OBJECT_ID --scope ${accountScope} --include-inherited -o table`,
      `az role assignment create --role "${role}" --assignee OBJECT_ID --scope ${t.service === 'blob' || t.service === 'dfs' ? containerScope : accountScope}`,
    ],
    verify: `az storage ${t.service === 'dfs' ? 'blob' : t.service} list … --auth-mode login succeeds (role assignments can take a few minutes to apply; get a fresh token with az account get-access-token --resource https://storage.azure.com/).`,
    docs: 'https://learn.microsoft.com/en-us/azure/storage/blobs/assign-azure-role-data-access',
  };
}

function newSasFix(t: Target, perms: string): Fix {
  return {
    title: `Issue a new SAS whose permissions, services, resource types, IP range and protocol cover this request`,
    difficulty: 'easy',
    commands: [
      `az storage blob generate-sas --account-name ${t.account} --container-name ${t.container} --name ${t.blob} --permissions ${perms} --expiry ${IN_AN_HOUR} --https-only --auth-mode login --as-user -o tsv`,
    ],
    verify: 'The request with the new token answers 2xx.',
    docs: 'https://learn.microsoft.com/en-us/rest/api/storageservices/create-service-sas',
  };
}

function firewallFix(t: Target): Fix {
  return {
    title: 'Allow your network in the storage account firewall (or reach it through its private endpoint)',
    difficulty: 'medium',
    commands: [
      `az storage account show --name ${t.account} --query "{default:networkRuleSet.defaultAction, ips:networkRuleSet.ipRules[].ipAddressOrRange, vnets:networkRuleSet.virtualNetworkRules[].virtualNetworkResourceId, public:publicNetworkAccess}"`,
      `az storage account network-rule add --account-name ${t.account} --ip-address $(curl -s https://ifconfig.me)`,
    ],
    verify: 'Your public IP (or VNet/private endpoint) is listed, and the request succeeds after a minute.',
    docs: 'https://learn.microsoft.com/en-us/azure/storage/common/storage-network-security',
  };
}

function accountKeyFix(t: Target, azurite: boolean): Fix {
  return {
    title: 'Sign with one of the account’s keys (or regenerate the SAS from it)',
    difficulty: 'easy',
    commands: [
      `az storage account keys list --account-name ${t.account} -o table`,
      ...(azurite
        ? [
            '# Azurite: the key of devstoreaccount1 is the published development key, or the one set in AZURITE_ACCOUNTS',
          ]
        : []),
    ],
    verify: `az storage blob show --account-name ${t.account} --container-name ${t.container} --name ${t.blob} --account-key KEY answers the blob’s properties.`,
    docs: 'https://learn.microsoft.com/en-us/rest/api/storageservices/authorize-with-shared-key',
  };
}

function loginFix(t: Target, title: string, verify?: string): Fix {
  return {
    title,
    difficulty: 'easy',
    commands: [
      `az storage blob show --account-name ${t.account} --container-name ${t.container} --name ${t.blob} --auth-mode login`,
    ],
    ...(verify ? { verify } : {}),
  };
}

function publicAccessFix(t: Target): Fix {
  return {
    title: 'Or, if anonymous reads are really wanted, give the container a public access level',
    difficulty: 'medium',
    commands: [
      `az storage container set-permission --account-name ${t.account} --name ${t.container} --public-access blob`,
    ],
    verify: `az storage container show-permission --account-name ${t.account} --name ${t.container} prints "publicAccess": "blob".`,
    docs: 'https://learn.microsoft.com/en-us/azure/storage/blobs/anonymous-read-access-configure',
  };
}

function sourceIpFix(t: Target): Fix {
  return {
    title: 'Issue a SAS for your address (or without sip)',
    difficulty: 'easy',
    commands: [
      'curl -s https://ifconfig.me  # the address Azure sees',
      `az storage blob generate-sas --account-name ${t.account} --container-name ${t.container} --name ${t.blob} --permissions r --ip $(curl -s https://ifconfig.me) --expiry ${IN_AN_HOUR} --auth-mode login --as-user -o tsv`,
    ],
    verify: 'The address printed lies in the new SAS’s sip.',
  };
}

function accountSasFix(t: Target): Fix {
  return {
    title: 'Issue an account SAS with the needed services and resource types',
    difficulty: 'easy',
    commands: [
      `az storage account generate-sas --account-name ${t.account} --services bfqt --resource-types sco --permissions r --expiry ${IN_AN_HOUR} --https-only -o tsv`,
    ],
  };
}

function accountStateFix(t: Target): Fix {
  return { title: 'Check the subscription state and the account', difficulty: 'hard', commands: ['az account show --query state', `az storage account show --name ${t.account} --query statusOfPrimary`], verify: 'The subscription is Enabled.' };
}

function managedKeyFix(t: Target): Fix {
  return {
    title: 'Restore the key (or the account identity’s access to it)',
    difficulty: 'hard',
    commands: [
      `az storage account show --name ${t.account} --query encryption.keyVaultProperties`,
      'az keyvault key show --vault-name VAULT --name KEY --query attributes.enabled',
    ],
  };
}

function anonymousBlockedFix(t: Target): Fix {
  return { title: 'Authenticate the request (or, if public access is really wanted, allow it on the account and container)', difficulty: 'easy', commands: [`az storage account show --name ${t.account} --query allowBlobPublicAccess`] };
}

function keyMismatchFix(t: Target): Fix {
  return {
    title: 'Compare the account key, and the string Azure says it signed, with your client’s',
    difficulty: 'medium',
    commands: [`az storage account keys list --account-name ${t.account} -o table`],
    verify: 'The key matches one listed (key1 or key2) and the string-to-sign is identical.',
    docs: 'https://learn.microsoft.com/en-us/rest/api/storageservices/authorize-with-shared-key',
  };
}

const START_FIX: Fix = { title: 'Omit st, or set it a few minutes in the past to absorb clock differences', difficulty: 'easy' };
const ISSUER_CLOCK_FIX: Fix = { title: 'Check the clock of the machine that issues the SAS', difficulty: 'easy', commands: ['date -u', 'sudo timedatectl set-ntp true'] };
const ISSUER_NTP_FIX: Fix = { title: 'Synchronise the issuer’s clock with NTP', difficulty: 'easy', commands: ['sudo timedatectl set-ntp true'] };
const ISSUER_SKEW_FIX: Fix = { title: 'Synchronise the issuer’s clock with NTP', difficulty: 'easy', commands: ['date -u; curl -sI https://ACCOUNT.blob.core.windows.net | grep -i "^date:"'] };
const CLIENT_NTP_FIX: Fix = { title: 'Synchronise the client clock with NTP', difficulty: 'easy', commands: ['sudo timedatectl set-ntp true'] };
const TOKEN_FIX: Fix = { title: 'Get a fresh token for https://storage.azure.com/', difficulty: 'easy', commands: ['az account get-access-token --resource https://storage.azure.com/ --query expiresOn'] };
const TENANT_TOKEN_FIX: Fix = { title: 'Request the token for https://storage.azure.com/ in the account’s tenant', difficulty: 'easy', commands: ['az account get-access-token --resource https://storage.azure.com/ --tenant TENANT_ID'] };
const AZURITE_NOTE =
  'This is the Azurite emulator: it answers SAS, Shared Key and anonymous-access failures with 403 AuthorizationFailure, where Azure would say AuthenticationFailed (or 404 ResourceNotFound for an anonymous read of a private container).';

export default defineProducer({
  meta: {
    id: 'azure-storage',
    product: 'azure-storage',
    layer: 'storage',
    description:
      'Azure Storage refusals: data-plane RBAC (AuthorizationPermissionMismatch), firewall (AuthorizationFailure), SAS restrictions (IP, protocol, service, resource type, permissions), Shared Key/SAS signature and validity window, disabled accounts, customer-managed keys.',
    docs: [
      'https://learn.microsoft.com/en-us/rest/api/storageservices/common-rest-api-error-codes',
      'https://learn.microsoft.com/en-us/azure/storage/blobs/assign-azure-role-data-access',
      'https://learn.microsoft.com/en-us/azure/storage/common/storage-network-security',
      'https://learn.microsoft.com/en-us/rest/api/storageservices/create-service-sas',
    ],
    causes: [
      'insufficient-role',
      'insufficient-scope',
      'ip-restricted',
      'credential-expired',
      'credential-not-yet-valid',
      'clock-skew',
      'credential-malformed',
      'credential-invalid',
      'credential-missing',
      'wrong-audience',
      'account-state',
      'resource-state',
      'resource-policy',
    ],
    statuses: [401, 403],
    messages: {
      sasPermissions: '{{say}} — the SAS permissions (sp={{sp}}) do not include what {{method}} needs.',
      noDataRole:
        '{{say}} — the identity authenticated (Microsoft Entra ID) but holds no data-plane role that allows this operation (a role assigned minutes ago may not be effective yet).',
      sasMaybe: 'With a SAS, the same code means its permissions (sp) lack the operation.',
      anonymous:
        '{{say}} — the request carried no Authorization header and no SAS, and the container “{{container}}” does not allow anonymous access{{aside}}.',
      firewallOnAzure: '{{say}} — on Azure, most often the account’s firewall does not admit your address.',
      sasExpired:
        '{{say}} — the SAS expired (se={{se}}) {{late}} s before the server’s clock ({{serverTime}}) judged it.',
      firewallToo: '{{say}} — on Azure this code is also the account firewall’s.',
      sasEarly: '{{say}} — the SAS start (st={{st}}) lies {{early}} s after the server’s clock ({{serverTime}}).',
      signatureFailed:
        '{{say}} — the {{credential}} signature did not verify: signed with a key that is not the account’s, or over a string that differs from the one the service computed{{aside}}.',
      firewallSelectedNetworks:
        '{{say}} — on Azure, most often the account’s firewall ("Firewalls and virtual networks" set to selected networks, or public access disabled) does not admit your address.',
      firewall:
        '{{say}} — most often the account’s firewall ("Firewalls and virtual networks" set to selected networks, or public access disabled) does not admit your address.',
      roleWithoutFirewall: 'Without a firewall, AuthorizationFailure can also come from a missing data-plane role.',
      sourceIp: '{{say}} — the SAS only admits the IP range sip={{sip}} and the request came from elsewhere.',
      protocol: '{{say}} — the SAS is restricted to HTTPS (spr={{spr}}) and the request used another protocol.',
      accountSasScope: '{{say}} — the account SAS does not cover this {{what}}.',
      accountPermissions: '{{say}} — the account SAS or key used lacks the permission this operation needs.',
      disabled: '{{say}} — the storage account (or its subscription) is disabled.',
      managedKey:
        '{{say}} — the account is encrypted with a customer-managed key that is unavailable (deleted, disabled, or its vault unreachable or no longer granting access).',
      noAuth:
        '{{say}} — the request carried no Authorization header and no SAS, and anonymous access is not allowed here.',
      publicBlocked: '{{say}} — the request was anonymous and the account forbids anonymous (public) blob access.',
      publicSetting: 'The account setting allowBlobPublicAccess=false overrides the container’s public access level.',
      expiryBeforeStart:
        '{{say}} — {{detail}}: the SAS had already expired when Azure checked it{{measured}}; when st is omitted Azure takes its own clock as the start, so an expiry computed from a slow client clock lands in the past.',
      issuerClockLags: 'A SAS issuer whose clock lags Azure’s produces expiry times that are already past.',
      sasExpiredBy: '{{say}} — {{detail}}: the SAS expired {{late}} s before the request.',
      sasStartAhead: '{{say}} — {{detail}}: the SAS start time lies {{early}} s in Azure’s future.',
      issuerClockAhead: 'The SAS issuer’s clock runs ahead of Azure’s.',
      withDetail: '{{say}} — {{detail}}.',
      sasMalformed:
        '{{say}} — {{detail}}: a SAS parameter is missing, misspelt or badly encoded (often a URL-decoded sig or a truncated query string).',
      macMismatch: '{{say}} — the signature does not verify: {{why}}.',
      dateTooOld: '{{say}} — {{detail}}: the request’s x-ms-date differs too much from Azure’s clock.',
      audience: '{{say}} — {{detail}}: the token was issued for another resource or tenant.',
      notAuthenticated: '{{say}}{{detail}}: the credentials did not authenticate.',
    },
  },
  recognise(ctx) {
    const evidence: Evidence[] = [];
    const server = ctx.header('server') ?? '';
    const errorCode = ctx.header('x-ms-error-code');
    const reqId = ctx.header('x-ms-request-id');
    const error = readError(ctx);
    const { code, message } = error;
    const storageServer = STORAGE_SERVER.test(server);
    const host = ctx.url?.hostname ?? '';
    const storageHost = STORAGE_HOST.test(host) || (/^127\.0\.0\.1$|^localhost$/.test(host) && storageServer);
    if (server && (storageServer || /Microsoft-HTTPAPI/.test(server))) evidence.push(ev('header:server', server));
    if (errorCode) evidence.push(ev('header:x-ms-error-code', errorCode));
    if (reqId) evidence.push(ev('header:x-ms-request-id', reqId));
    if (storageHost) evidence.push(ev('request:url', `storage endpoint ${host}`));
    // "…\nRequestId:<guid>\nTime:<iso>" inside <Message> is Azure Storage's signature.
    const messageShape = Boolean(message && /RequestId:[0-9a-f-]{36}\s+Time:\d{4}-\d{2}-\d{2}T/.test(message));
    if (code && messageShape)
      evidence.push(ev('body:Error.Message', 'Azure Storage <Error> with RequestId and Time in the message'));
    const knownCode = Boolean(code && STORAGE_CODES.test(code));
    let confidence = 0;
    if (storageServer && (knownCode || code)) confidence = 0.97;
    else if (errorCode && knownCode && reqId && /Microsoft-HTTPAPI/.test(server)) confidence = 0.95;
    else if (knownCode && messageShape) confidence = 0.92;
    else if (knownCode && storageHost) confidence = 0.92;
    else if (storageServer || storageHost) confidence = 0.5;
    return { confidence, evidence, error, azurite: /Azurite/i.test(server) };
  },
  explain(ctx, { error: { code, message, detail }, azurite }, report) {
    if (!code) return;
    const shortMessage = (message ?? '').split(/(?<!\s)\s*RequestId:/)[0].trim();
    const codeEv = ev(ctx.body.text ? 'body:Error.Code' : 'header:x-ms-error-code', code);
    const evidence = [
      codeEv,
      ...(shortMessage ? [ev('body:Error.Message', shortMessage)] : []),
      ...(detail ? [ev('body:AuthenticationErrorDetail', detail)] : []),
    ];
    const t = target(ctx);
    const kind = authKind(ctx);
    const s = sas(ctx);
    const write = !['GET', 'HEAD'].includes(ctx.method);
    const roles = ROLE_FOR[t.service] ?? ROLE_FOR.blob;
    const assign = assignFix(t, write ? roles.write : roles.read);
    const firewall = firewallFix(t);
    if (azurite) report.note(AZURITE_NOTE);
    const say = `Azure Storage answered ${code}${shortMessage ? `: "${shortMessage}"` : ''}`;
    const data = { say };

    switch (code) {
      case 'AuthorizationPermissionMismatch':
        if (kind === 'sas') {
          const gap = { required: [`SAS permission for ${ctx.method}`], held: [`sp=${s?.sp ?? ''}`] };
          report.claim('insufficient-scope', 'sasPermissions', 0.8, {
            data: { say, sp: s?.sp ?? '?', method: ctx.method },
            evidence: [...evidence, ev('request:query', `SAS sp=${s?.sp ?? '?'}`)],
            fixes: [newSasFix(t, write ? 'rw' : 'r')],
            gap,
          });
          return;
        }
        report.claim('insufficient-role', 'noDataRole', kind === 'bearer' ? 0.85 : 0.75, {
          data,
          evidence,
          fixes: [assign],
        });
        if (kind === 'unknown')
          report.claim('insufficient-scope', 'sasMaybe', 0.25, { evidence, fixes: [newSasFix(t, write ? 'rw' : 'r')] });
        return;
      case 'AuthorizationFailure': {
        // Azure's AuthorizationFailure is the firewall's; Azurite has no firewall
        // and says AuthorizationFailure for every authentication it cannot
        // complete, so there the request itself tells which one failed.
        const window = kind === 'sas' ? sasWindow(ctx, s) : undefined;
        if (kind === 'none') {
          const aside = azurite
            ? ' (Azurite answers 403; Azure answers 404 ResourceNotFound for an anonymous read of a private container)'
            : '';
          report.claim('credential-missing', 'anonymous', azurite ? 0.8 : 0.3, {
            data: { say, container: t.container, aside },
            evidence: [...evidence, ev('request', 'no Authorization header, no SAS in the query')],
            fixes: [
              loginFix(
                t,
                'Authenticate the request: Microsoft Entra ID, a SAS, or the account key',
                'The same request with the credential answers 2xx.',
              ),
              publicAccessFix(t),
            ],
          });
          report.claim('ip-restricted', 'firewallOnAzure', azurite ? 0.1 : 0.6, { data, evidence, fixes: [firewall] });
        } else if (window?.expired) {
          report.claim('credential-expired', 'sasExpired', azurite ? 0.85 : 0.5, {
            data: { say, se: `${s?.se}`, late: window.expired, serverTime: window.serverTime },
            evidence: [...evidence, ev('query:se', `${s?.se}`), ev('header:date', window.serverTime)],
            fixes: [newSasFix(t, 'r')],
          });
          report.claim('ip-restricted', 'firewallToo', azurite ? 0.05 : 0.4, { data, evidence, fixes: [firewall] });
        } else if (window?.early) {
          report.claim('credential-not-yet-valid', 'sasEarly', azurite ? 0.8 : 0.5, {
            data: { say, st: `${s?.st}`, early: window.early, serverTime: window.serverTime },
            evidence: [...evidence, ev('query:st', `${s?.st}`), ev('header:date', window.serverTime)],
            fixes: [START_FIX],
          });
        } else if (kind === 'sas' || kind === 'shared-key') {
          const aside = azurite
            ? ' (Azurite reports that as AuthorizationFailure; Azure says AuthenticationFailed)'
            : '';
          report.claim('credential-invalid', 'signatureFailed', azurite ? 0.75 : 0.35, {
            data: { say, credential: kind === 'sas' ? 'SAS' : 'Shared Key', aside },
            evidence,
            fixes: [accountKeyFix(t, azurite), newSasFix(t, 'r')],
          });
          report.claim('ip-restricted', 'firewallSelectedNetworks', azurite ? 0.05 : 0.65, {
            data,
            evidence,
            fixes: [firewall],
          });
        } else {
          report.claim('ip-restricted', 'firewall', 0.65, { data, evidence, fixes: [firewall] });
          report.claim('insufficient-role', 'roleWithoutFirewall', 0.2, { evidence, fixes: [assign] });
        }
        return;
      }
      case 'AuthorizationSourceIPMismatch':
        report.claim('ip-restricted', 'sourceIp', 0.9, {
          data: { say, sip: s?.sip ?? '?' },
          evidence,
          fixes: [sourceIpFix(t)],
        });
        return;
      case 'AuthorizationProtocolMismatch':
        report.claim('insufficient-scope', 'protocol', 0.8, {
          data: { say, spr: s?.spr ?? 'https' },
          evidence,
          fixes: [{ title: 'Use https:// (or a SAS issued for http,https)', difficulty: 'easy' }],
        });
        return;
      case 'AuthorizationResourceTypeMismatch':
      case 'AuthorizationServiceMismatch': {
        const what =
          code === 'AuthorizationServiceMismatch'
            ? `service (ss=${s?.ss ?? '?'})`
            : `resource type (srt=${s?.srt ?? '?'}; s=service, c=container, o=object)`;
        report.claim('insufficient-scope', 'accountSasScope', 0.85, {
          data: { say, what },
          evidence,
          fixes: [accountSasFix(t)],
        });
        return;
      }
      case 'InsufficientAccountPermissions':
        report.claim('insufficient-scope', 'accountPermissions', 0.6, { data, evidence, fixes: [newSasFix(t, 'r')] });
        return;
      case 'AccountIsDisabled':
        report.claim('account-state', 'disabled', 0.9, { data, evidence, fixes: [accountStateFix(t)] });
        return;
      case 'KeyVaultEncryptionKeyNotFound':
      case 'KeyVaultAccessTokenCannotBeAcquired':
      case 'KeyVaultVaultNotFound':
        report.claim('resource-state', 'managedKey', 0.8, { data, evidence, fixes: [managedKeyFix(t)] });
        return;
      case 'NoAuthenticationInformation':
        report.claim('credential-missing', 'noAuth', 0.9, {
          data,
          evidence,
          fixes: [loginFix(t, 'Authenticate: --auth-mode login, a SAS, or the account key')],
        });
        return;
      case 'PublicAccessNotPermitted':
        report.claim('credential-missing', 'publicBlocked', 0.6, { data, evidence, fixes: [anonymousBlockedFix(t)] });
        report.claim('resource-policy', 'publicSetting', 0.3, { evidence });
        return;
      case 'InvalidAuthenticationInfo':
      case 'AuthenticationFailed': {
        const d = detail ?? shortMessage;
        const withDetail = { say, detail: d };
        const times = bracketTimes(d);
        if (/Signed expiry time \[.*\] must be after signed start time/i.test(d)) {
          const [expiry, start] = times;
          const measured =
            expiry && start
              ? ` (expiry ${expiry.toISOString()} is ${Math.round((start.getTime() - expiry.getTime()) / 1000)} s before the start Azure used)`
              : '';
          report.claim('credential-expired', 'expiryBeforeStart', 0.8, {
            data: { ...withDetail, measured },
            evidence,
            fixes: [newSasFix(t, 'r'), ISSUER_CLOCK_FIX],
          });
          report.claim('clock-skew', 'issuerClockLags', 0.3, { evidence, fixes: [ISSUER_SKEW_FIX] });
        } else if (/Signature not valid in the specified time frame/i.test(d)) {
          const [start, expiry, current] = times;
          if (current && expiry && current > expiry)
            report.claim('credential-expired', 'sasExpiredBy', 0.85, {
              data: { ...withDetail, late: Math.round((current.getTime() - expiry.getTime()) / 1000) },
              evidence,
              fixes: [newSasFix(t, 'r')],
            });
          else if (current && start && current < start) {
            report.claim('credential-not-yet-valid', 'sasStartAhead', 0.8, {
              data: { ...withDetail, early: Math.round((start.getTime() - current.getTime()) / 1000) },
              evidence,
              fixes: [START_FIX],
            });
            report.claim('clock-skew', 'issuerClockAhead', 0.45, { evidence, fixes: [ISSUER_NTP_FIX] });
          } else
            report.claim('credential-expired', 'withDetail', 0.6, {
              data: withDetail,
              evidence,
              fixes: [newSasFix(t, 'r')],
            });
        } else if (
          /Signature fields not well formed|not well formed|Authentication information is not given in the correct format/i.test(
            d,
          )
        ) {
          report.claim('credential-malformed', 'sasMalformed', 0.85, {
            data: withDetail,
            evidence,
            fixes: [newSasFix(t, 'r')],
          });
        } else if (
          /MAC signature found in the HTTP request .* is not the same as any computed signature|Signature did not match/i.test(
            d,
          )
        ) {
          const why =
            kind === 'sas'
              ? 'the SAS was signed with another key, altered, or the key was rotated'
              : 'wrong account key, or the string your client signed differs from the one Azure computed (headers, x-ms-date, canonicalized resource)';
          report.claim('credential-invalid', 'macMismatch', 0.85, {
            data: { say, why },
            evidence,
            fixes: [keyMismatchFix(t)],
          });
        } else if (/Request date header too old|x-ms-date/i.test(d)) {
          report.claim('clock-skew', 'dateTooOld', 0.8, { data: withDetail, evidence, fixes: [CLIENT_NTP_FIX] });
        } else if (/Lifetime validation failed|token is expired/i.test(d)) {
          report.claim('credential-expired', 'withDetail', 0.85, { data: withDetail, evidence, fixes: [TOKEN_FIX] });
        } else if (/Audience validation failed|Issuer validation failed/i.test(d)) {
          report.claim('wrong-audience', 'audience', 0.85, { data: withDetail, evidence, fixes: [TENANT_TOKEN_FIX] });
        } else {
          const keysFix: Fix = { title: 'Check the account key, SAS or token used', difficulty: 'easy', commands: [`az storage account keys list --account-name ${t.account} -o table`] };
          report.claim('credential-invalid', 'notAuthenticated', 0.55, {
            data: { say, detail: detail ? ` — ${detail}` : '' },
            evidence,
            fixes: [keysFix],
          });
        }
      }
    }
  },
});
