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
import { defineRule, ev, type CauseClaim } from '../define.ts';
import type { Context } from '../../engine/context.ts';
import { elementText, jsonString } from '../../engine/context.ts';
import type { Evidence, Fix } from '../../model/report.ts';
import type { CauseId } from '../../model/vocabulary.ts';

const STORAGE_CODES = /^(AuthorizationPermissionMismatch|AuthorizationFailure|AuthenticationFailed|AuthorizationSourceIPMismatch|AuthorizationProtocolMismatch|AuthorizationResourceTypeMismatch|AuthorizationServiceMismatch|InsufficientAccountPermissions|AccountIsDisabled|KeyVaultEncryptionKeyNotFound|KeyVaultAccessTokenCannotBeAcquired|KeyVaultVaultNotFound|NoAuthenticationInformation|InvalidAuthenticationInfo|PublicAccessNotPermitted)$/;

function field(ctx: Context, name: string): string | undefined {
  const v = ctx.body.xml?.[`Error.${name}`];
  if (v !== undefined) return v.trim();
  return elementText(ctx.body.text, name)?.trim();
}

function readError(ctx: Context): { code?: string; message?: string; detail?: string } {
  const j = ctx.body.json;
  if (j && typeof j === 'object') {
    const code = jsonString(j, 'odata.error.code') ?? jsonString(j, 'error.code');
    const message = jsonString(j, 'odata.error.message.value') ?? jsonString(j, 'error.message');
    if (code) return { code, message };
  }
  return { code: field(ctx, 'Code') ?? ctx.header('x-ms-error-code'), message: field(ctx, 'Message'), detail: field(ctx, 'AuthenticationErrorDetail') };
}

function signature(ctx: Context) {
  const evidence: Evidence[] = [];
  const server = ctx.header('server') ?? '';
  const errorCode = ctx.header('x-ms-error-code');
  const reqId = ctx.header('x-ms-request-id');
  const { code, message } = readError(ctx);
  const storageServer = /Windows-Azure-(Blob|File|Queue|Table)\/|Azurite-(Blob|Queue|Table)\//i.test(server);
  const host = ctx.url?.hostname ?? '';
  const storageHost = /\.(blob|file|queue|table|dfs|web)\.core\.(windows\.net|chinacloudapi\.cn|usgovcloudapi\.net)$/.test(host) || /^127\.0\.0\.1$|^localhost$/.test(host) && storageServer;
  const azurite = /Azurite/i.test(server);
  if (server && (storageServer || /Microsoft-HTTPAPI/.test(server))) evidence.push(ev('header:server', server));
  if (errorCode) evidence.push(ev('header:x-ms-error-code', errorCode));
  if (reqId) evidence.push(ev('header:x-ms-request-id', reqId));
  if (storageHost) evidence.push(ev('request:url', `storage endpoint ${host}`));
  // "…\nRequestId:<guid>\nTime:<iso>" inside <Message> is Azure Storage's signature.
  const messageShape = Boolean(message && /RequestId:[0-9a-f-]{36}\s+Time:\d{4}-\d{2}-\d{2}T/.test(message));
  if (code && messageShape) evidence.push(ev('body:Error.Message', 'Azure Storage <Error> with RequestId and Time in the message'));
  const knownCode = Boolean(code && STORAGE_CODES.test(code));
  let confidence = 0;
  if (storageServer && (knownCode || code)) confidence = 0.97;
  else if (errorCode && knownCode && reqId && /Microsoft-HTTPAPI/.test(server)) confidence = 0.95;
  else if (knownCode && messageShape) confidence = 0.92;
  else if (knownCode && storageHost) confidence = 0.92;
  else if (storageServer || storageHost) confidence = 0.5;
  return { confidence, evidence, code, azurite };
}

/** Account, container and blob from https://ACCOUNT.blob.core.windows.net/CONTAINER/BLOB (or Azurite's /ACCOUNT/… path). */
function target(ctx: Context) {
  const url = ctx.url;
  if (!url) return { account: 'ACCOUNT', container: 'CONTAINER', blob: 'BLOB', service: 'blob' };
  const hostMatch = /^([a-z0-9]+)\.(blob|file|queue|table|dfs)\./.exec(url.hostname);
  const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  if (!hostMatch && parts.length) parts.shift();
  return { account: hostMatch?.[1] ?? 'ACCOUNT', service: hostMatch?.[2] ?? 'blob', container: parts[0] ?? 'CONTAINER', blob: parts.slice(1).join('/') || 'BLOB' };
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
function sasWindow(ctx: Context, s: Record<string, string> | undefined): { expired?: number; early?: number; serverTime: string } | undefined {
  const date = ctx.header('date');
  const server = date ? new Date(date) : undefined;
  if (!s || !server || Number.isNaN(server.getTime())) return undefined;
  const se = s.se ? new Date(s.se) : undefined;
  const st = s.st ? new Date(s.st) : undefined;
  const serverTime = server.toISOString();
  // The Date header has one-second resolution.
  if (se && !Number.isNaN(se.getTime()) && server.getTime() - se.getTime() > 1000) return { expired: Math.round((server.getTime() - se.getTime()) / 1000), serverTime };
  if (st && !Number.isNaN(st.getTime()) && st.getTime() - server.getTime() > 1000) return { early: Math.round((st.getTime() - server.getTime()) / 1000), serverTime };
  return { serverTime };
}

function authKind(ctx: Context): 'sas' | 'shared-key' | 'bearer' | 'none' | 'unknown' {
  if (sas(ctx)) return 'sas';
  const auth = ctx.requestHeader('authorization');
  if (auth && /^SharedKey(Lite)? /i.test(auth)) return 'shared-key';
  if (auth && /^Bearer /i.test(auth)) return 'bearer';
  return ctx.exchange.request ? 'none' : 'unknown';
}

function claim(id: CauseId, weight: number, summary: string, evidence: Evidence[], fixes: Fix[], gap?: CauseClaim['gap']): CauseClaim {
  return { id, weight, summary, evidence, fixes, ...(gap ? { gap } : {}) };
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

export default defineRule({
  meta: {
    id: 'azure-storage',
    kind: 'producer',
    product: 'azure-storage',
    layer: 'storage',
    description: 'Azure Storage refusals: data-plane RBAC (AuthorizationPermissionMismatch), firewall (AuthorizationFailure), SAS restrictions (IP, protocol, service, resource type, permissions), Shared Key/SAS signature and validity window, disabled accounts, customer-managed keys.',
    docs: [
      'https://learn.microsoft.com/en-us/rest/api/storageservices/common-rest-api-error-codes',
      'https://learn.microsoft.com/en-us/azure/storage/blobs/assign-azure-role-data-access',
      'https://learn.microsoft.com/en-us/azure/storage/common/storage-network-security',
      'https://learn.microsoft.com/en-us/rest/api/storageservices/create-service-sas',
    ],
    causes: ['insufficient-role', 'insufficient-scope', 'ip-restricted', 'credential-expired', 'credential-not-yet-valid', 'clock-skew', 'credential-malformed', 'credential-invalid', 'credential-missing', 'wrong-audience', 'account-state', 'resource-state', 'resource-policy'],
  },
  applies: (ctx) => signature(ctx).confidence > 0,
  run(ctx) {
    const sig = signature(ctx);
    const producer = { product: 'azure-storage' as const, layer: 'storage' as const, confidence: sig.confidence, evidence: sig.evidence };
    if (ctx.status !== 401 && ctx.status !== 403) return { producer };
    const { code, message, detail } = readError(ctx);
    if (!code) return { producer };
    const shortMessage = (message ?? '').split(/(?<!\s)\s*RequestId:/)[0].trim();
    const codeEv = ev(ctx.body.text ? 'body:Error.Code' : 'header:x-ms-error-code', code);
    const evidence = [codeEv, ...(shortMessage ? [ev('body:Error.Message', shortMessage)] : []), ...(detail ? [ev('body:AuthenticationErrorDetail', detail)] : [])];
    const t = target(ctx);
    const kind = authKind(ctx);
    const s = sas(ctx);
    const write = !['GET', 'HEAD'].includes(ctx.method);
    const roles = ROLE_FOR[t.service] ?? ROLE_FOR.blob;
    const role = write ? roles.write : roles.read;
    const accountScope = `$(az storage account show --name ${t.account} --query id -o tsv)`;
    const containerScope = `${accountScope}/blobServices/default/containers/${t.container}`;
    const notes: string[] = [];
    if (sig.azurite) notes.push('This is the Azurite emulator: it answers SAS, Shared Key and anonymous-access failures with 403 AuthorizationFailure, where Azure would say AuthenticationFailed (or 404 ResourceNotFound for an anonymous read of a private container).');
    const assign: Fix = {
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
    const newSas = (perms: string): Fix => ({
      title: `Issue a new SAS whose permissions, services, resource types, IP range and protocol cover this request`,
      difficulty: 'easy',
      commands: [`az storage blob generate-sas --account-name ${t.account} --container-name ${t.container} --name ${t.blob} --permissions ${perms} --expiry $(date -u -d '+1 hour' +%Y-%m-%dT%H:%MZ) --https-only --auth-mode login --as-user -o tsv`],
      verify: 'The request with the new token answers 2xx.',
      docs: 'https://learn.microsoft.com/en-us/rest/api/storageservices/create-service-sas',
    });
    const firewall: Fix = {
      title: 'Allow your network in the storage account firewall (or reach it through its private endpoint)',
      difficulty: 'medium',
      commands: [`az storage account show --name ${t.account} --query "{default:networkRuleSet.defaultAction, ips:networkRuleSet.ipRules[].ipAddressOrRange, vnets:networkRuleSet.virtualNetworkRules[].virtualNetworkResourceId, public:publicNetworkAccess}"`, `az storage account network-rule add --account-name ${t.account} --ip-address $(curl -s https://ifconfig.me)`],
      verify: 'Your public IP (or VNet/private endpoint) is listed, and the request succeeds after a minute.',
      docs: 'https://learn.microsoft.com/en-us/azure/storage/common/storage-network-security',
    };
    const causes: CauseClaim[] = [];
    const say = `Azure Storage answered ${code}${shortMessage ? `: "${shortMessage}"` : ''}`;

    switch (code) {
      case 'AuthorizationPermissionMismatch': {
        if (kind === 'sas') {
          causes.push(claim('insufficient-scope', 0.8, `${say} — the SAS permissions (sp=${s?.sp ?? '?'}) do not include what ${ctx.method} needs.`, [...evidence, ev('request:query', `SAS sp=${s?.sp ?? '?'}`)], [newSas(write ? 'rw' : 'r')], { required: [`SAS permission for ${ctx.method}`], held: [`sp=${s?.sp ?? ''}`] }));
        } else {
          causes.push(claim('insufficient-role', kind === 'bearer' ? 0.85 : 0.75, `${say} — the identity authenticated (Microsoft Entra ID) but holds no data-plane role that allows this operation (a role assigned minutes ago may not be effective yet).`, evidence, [assign]));
          if (kind === 'unknown') causes.push(claim('insufficient-scope', 0.25, 'With a SAS, the same code means its permissions (sp) lack the operation.', evidence, [newSas(write ? 'rw' : 'r')]));
        }
        break;
      }
      case 'AuthorizationFailure': {
        // Azure's AuthorizationFailure is the firewall's; Azurite has no firewall
        // and says AuthorizationFailure for every authentication it cannot
        // complete, so there the request itself tells which one failed.
        const keyFixes: Fix[] = [{ title: 'Sign with one of the account’s keys (or regenerate the SAS from it)', difficulty: 'easy', commands: [`az storage account keys list --account-name ${t.account} -o table`, ...(sig.azurite ? ['# Azurite: the key of devstoreaccount1 is the published development key, or the one set in AZURITE_ACCOUNTS'] : [])], verify: `az storage blob show --account-name ${t.account} --container-name ${t.container} --name ${t.blob} --account-key KEY answers the blob’s properties.`, docs: 'https://learn.microsoft.com/en-us/rest/api/storageservices/authorize-with-shared-key' }, newSas('r')];
        const window = kind === 'sas' ? sasWindow(ctx, s) : undefined;
        if (kind === 'none') {
          causes.push(claim('credential-missing', sig.azurite ? 0.8 : 0.3, `${say} — the request carried no Authorization header and no SAS, and the container “${t.container}” does not allow anonymous access${sig.azurite ? ' (Azurite answers 403; Azure answers 404 ResourceNotFound for an anonymous read of a private container)' : ''}.`, [...evidence, ev('request', 'no Authorization header, no SAS in the query')], [
            { title: 'Authenticate the request: Microsoft Entra ID, a SAS, or the account key', difficulty: 'easy', commands: [`az storage blob show --account-name ${t.account} --container-name ${t.container} --name ${t.blob} --auth-mode login`], verify: 'The same request with the credential answers 2xx.' },
            { title: 'Or, if anonymous reads are really wanted, give the container a public access level', difficulty: 'medium', commands: [`az storage container set-permission --account-name ${t.account} --name ${t.container} --public-access blob`], verify: `az storage container show-permission --account-name ${t.account} --name ${t.container} prints "publicAccess": "blob".`, docs: 'https://learn.microsoft.com/en-us/azure/storage/blobs/anonymous-read-access-configure' },
          ]));
          causes.push(claim('ip-restricted', sig.azurite ? 0.1 : 0.6, `${say} — on Azure, most often the account’s firewall does not admit your address.`, evidence, [firewall]));
        } else if (window?.expired) {
          causes.push(claim('credential-expired', sig.azurite ? 0.85 : 0.5, `${say} — the SAS expired (se=${s?.se}) ${window.expired} s before the server’s clock (${window.serverTime}) judged it.`, [...evidence, ev('query:se', `${s?.se}`), ev('header:date', window.serverTime)], [newSas('r')]));
          causes.push(claim('ip-restricted', sig.azurite ? 0.05 : 0.4, `${say} — on Azure this code is also the account firewall’s.`, evidence, [firewall]));
        } else if (window?.early) {
          causes.push(claim('credential-not-yet-valid', sig.azurite ? 0.8 : 0.5, `${say} — the SAS start (st=${s?.st}) lies ${window.early} s after the server’s clock (${window.serverTime}).`, [...evidence, ev('query:st', `${s?.st}`), ev('header:date', window.serverTime)], [{ title: 'Omit st, or set it a few minutes in the past to absorb clock differences', difficulty: 'easy' }]));
        } else if (kind === 'sas' || kind === 'shared-key') {
          causes.push(claim('credential-invalid', sig.azurite ? 0.75 : 0.35, `${say} — the ${kind === 'sas' ? 'SAS' : 'Shared Key'} signature did not verify: signed with a key that is not the account’s, or over a string that differs from the one the service computed${sig.azurite ? ' (Azurite reports that as AuthorizationFailure; Azure says AuthenticationFailed)' : ''}.`, evidence, keyFixes));
          causes.push(claim('ip-restricted', sig.azurite ? 0.05 : 0.65, `${say} — on Azure, most often the account’s firewall ("Firewalls and virtual networks" set to selected networks, or public access disabled) does not admit your address.`, evidence, [firewall]));
        } else {
          causes.push(claim('ip-restricted', 0.65, `${say} — most often the account’s firewall ("Firewalls and virtual networks" set to selected networks, or public access disabled) does not admit your address.`, evidence, [firewall]));
          causes.push(claim('insufficient-role', 0.2, 'Without a firewall, AuthorizationFailure can also come from a missing data-plane role.', evidence, [assign]));
        }
        break;
      }
      case 'AuthorizationSourceIPMismatch':
        causes.push(claim('ip-restricted', 0.9, `${say} — the SAS only admits the IP range sip=${s?.sip ?? '?'} and the request came from elsewhere.`, evidence, [{ title: 'Issue a SAS for your address (or without sip)', difficulty: 'easy', commands: ['curl -s https://ifconfig.me  # the address Azure sees', `az storage blob generate-sas --account-name ${t.account} --container-name ${t.container} --name ${t.blob} --permissions r --ip $(curl -s https://ifconfig.me) --expiry $(date -u -d '+1 hour' +%Y-%m-%dT%H:%MZ) --auth-mode login --as-user -o tsv`], verify: 'The address printed lies in the new SAS’s sip.' }]));
        break;
      case 'AuthorizationProtocolMismatch':
        causes.push(claim('insufficient-scope', 0.8, `${say} — the SAS is restricted to HTTPS (spr=${s?.spr ?? 'https'}) and the request used another protocol.`, evidence, [{ title: 'Use https:// (or a SAS issued for http,https)', difficulty: 'easy' }]));
        break;
      case 'AuthorizationResourceTypeMismatch':
      case 'AuthorizationServiceMismatch':
        causes.push(claim('insufficient-scope', 0.85, `${say} — the account SAS does not cover this ${code === 'AuthorizationServiceMismatch' ? `service (ss=${s?.ss ?? '?'})` : `resource type (srt=${s?.srt ?? '?'}; s=service, c=container, o=object)`}.`, evidence, [{ title: 'Issue an account SAS with the needed services and resource types', difficulty: 'easy', commands: [`az storage account generate-sas --account-name ${t.account} --services bfqt --resource-types sco --permissions r --expiry $(date -u -d '+1 hour' +%Y-%m-%dT%H:%MZ) --https-only -o tsv`] }]));
        break;
      case 'InsufficientAccountPermissions':
        causes.push(claim('insufficient-scope', 0.6, `${say} — the account SAS or key used lacks the permission this operation needs.`, evidence, [newSas('r')]));
        break;
      case 'AccountIsDisabled':
        causes.push(claim('account-state', 0.9, `${say} — the storage account (or its subscription) is disabled.`, evidence, [{ title: 'Check the subscription state and the account', difficulty: 'hard', commands: ['az account show --query state', `az storage account show --name ${t.account} --query statusOfPrimary`], verify: 'The subscription is Enabled.' }]));
        break;
      case 'KeyVaultEncryptionKeyNotFound':
      case 'KeyVaultAccessTokenCannotBeAcquired':
      case 'KeyVaultVaultNotFound':
        causes.push(claim('resource-state', 0.8, `${say} — the account is encrypted with a customer-managed key that is unavailable (deleted, disabled, or its vault unreachable or no longer granting access).`, evidence, [{ title: 'Restore the key (or the account identity’s access to it)', difficulty: 'hard', commands: [`az storage account show --name ${t.account} --query encryption.keyVaultProperties`, 'az keyvault key show --vault-name VAULT --name KEY --query attributes.enabled'] }]));
        break;
      case 'NoAuthenticationInformation':
        causes.push(claim('credential-missing', 0.9, `${say} — the request carried no Authorization header and no SAS, and anonymous access is not allowed here.`, evidence, [{ title: 'Authenticate: --auth-mode login, a SAS, or the account key', difficulty: 'easy', commands: [`az storage blob show --account-name ${t.account} --container-name ${t.container} --name ${t.blob} --auth-mode login`] }]));
        break;
      case 'PublicAccessNotPermitted':
        causes.push(claim('credential-missing', 0.6, `${say} — the request was anonymous and the account forbids anonymous (public) blob access.`, evidence, [{ title: 'Authenticate the request (or, if public access is really wanted, allow it on the account and container)', difficulty: 'easy', commands: [`az storage account show --name ${t.account} --query allowBlobPublicAccess`] }]));
        causes.push(claim('resource-policy', 0.3, 'The account setting allowBlobPublicAccess=false overrides the container’s public access level.', evidence, []));
        break;
      case 'InvalidAuthenticationInfo':
      case 'AuthenticationFailed': {
        const d = detail ?? shortMessage;
        const times = bracketTimes(d);
        if (/Signed expiry time \[.*\] must be after signed start time/i.test(d)) {
          const [expiry, start] = times;
          causes.push(claim('credential-expired', 0.8, `${say} — ${d}: the SAS had already expired when Azure checked it${expiry && start ? ` (expiry ${expiry.toISOString()} is ${Math.round((start.getTime() - expiry.getTime()) / 1000)} s before the start Azure used)` : ''}; when st is omitted Azure takes its own clock as the start, so an expiry computed from a slow client clock lands in the past.`, evidence, [newSas('r'), { title: 'Check the clock of the machine that issues the SAS', difficulty: 'easy', commands: ['date -u', 'sudo timedatectl set-ntp true'] }]));
          causes.push(claim('clock-skew', 0.3, 'A SAS issuer whose clock lags Azure’s produces expiry times that are already past.', evidence, [{ title: 'Synchronise the issuer’s clock with NTP', difficulty: 'easy', commands: ['date -u; curl -sI https://ACCOUNT.blob.core.windows.net | grep -i "^date:"'] }]));
        } else if (/Signature not valid in the specified time frame/i.test(d)) {
          const [start, expiry, current] = times;
          if (current && expiry && current > expiry) causes.push(claim('credential-expired', 0.85, `${say} — ${d}: the SAS expired ${Math.round((current.getTime() - expiry.getTime()) / 1000)} s before the request.`, evidence, [newSas('r')]));
          else if (current && start && current < start) {
            causes.push(claim('credential-not-yet-valid', 0.8, `${say} — ${d}: the SAS start time lies ${Math.round((start.getTime() - current.getTime()) / 1000)} s in Azure’s future.`, evidence, [{ title: 'Omit st, or set it a few minutes in the past to absorb clock differences', difficulty: 'easy' }]));
            causes.push(claim('clock-skew', 0.45, 'The SAS issuer’s clock runs ahead of Azure’s.', evidence, [{ title: 'Synchronise the issuer’s clock with NTP', difficulty: 'easy', commands: ['sudo timedatectl set-ntp true'] }]));
          } else causes.push(claim('credential-expired', 0.6, `${say} — ${d}.`, evidence, [newSas('r')]));
        } else if (/Signature fields not well formed|not well formed|Authentication information is not given in the correct format/i.test(d)) {
          causes.push(claim('credential-malformed', 0.85, `${say} — ${d}: a SAS parameter is missing, misspelt or badly encoded (often a URL-decoded sig or a truncated query string).`, evidence, [newSas('r')]));
        } else if (/MAC signature found in the HTTP request .* is not the same as any computed signature|Signature did not match/i.test(d)) {
          causes.push(claim('credential-invalid', 0.85, `${say} — the signature does not verify: ${kind === 'sas' ? 'the SAS was signed with another key, altered, or the key was rotated' : 'wrong account key, or the string your client signed differs from the one Azure computed (headers, x-ms-date, canonicalized resource)'}.`, evidence, [{ title: 'Compare the account key, and the string Azure says it signed, with your client’s', difficulty: 'medium', commands: [`az storage account keys list --account-name ${t.account} -o table`], verify: 'The key matches one listed (key1 or key2) and the string-to-sign is identical.', docs: 'https://learn.microsoft.com/en-us/rest/api/storageservices/authorize-with-shared-key' }]));
        } else if (/Request date header too old|x-ms-date/i.test(d)) {
          causes.push(claim('clock-skew', 0.8, `${say} — ${d}: the request’s x-ms-date differs too much from Azure’s clock.`, evidence, [{ title: 'Synchronise the client clock with NTP', difficulty: 'easy', commands: ['sudo timedatectl set-ntp true'] }]));
        } else if (/Lifetime validation failed|token is expired/i.test(d)) {
          causes.push(claim('credential-expired', 0.85, `${say} — ${d}.`, evidence, [{ title: 'Get a fresh token for https://storage.azure.com/', difficulty: 'easy', commands: ['az account get-access-token --resource https://storage.azure.com/ --query expiresOn'] }]));
        } else if (/Audience validation failed|Issuer validation failed/i.test(d)) {
          causes.push(claim('wrong-audience', 0.85, `${say} — ${d}: the token was issued for another resource or tenant.`, evidence, [{ title: 'Request the token for https://storage.azure.com/ in the account’s tenant', difficulty: 'easy', commands: ['az account get-access-token --resource https://storage.azure.com/ --tenant TENANT_ID'] }]));
        } else {
          causes.push(claim('credential-invalid', 0.55, `${say}${detail ? ` — ${detail}` : ''}: the credentials did not authenticate.`, evidence, [{ title: 'Check the account key, SAS or token used', difficulty: 'easy', commands: [`az storage account keys list --account-name ${t.account} -o table`] }]));
        }
        break;
      }
      default:
        return { producer, notes };
    }
    return { producer, causes, notes };
  },
});
