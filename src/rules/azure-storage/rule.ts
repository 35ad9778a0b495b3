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
import { defineProducer, ev, type Context, type Evidence } from '../define.ts';
import { jsonError } from '../_lib/envelopes.ts';
import { errorDocumentField } from '../_lib/cloud-errors.ts';
import texts from './texts.json' with { type: 'json' };

const STORAGE_CODES =
  /^(AuthorizationPermissionMismatch|AuthorizationFailure|AuthenticationFailed|AuthorizationSourceIPMismatch|AuthorizationProtocolMismatch|AuthorizationResourceTypeMismatch|AuthorizationServiceMismatch|InsufficientAccountPermissions|AccountIsDisabled|KeyVaultEncryptionKeyNotFound|KeyVaultAccessTokenCannotBeAcquired|KeyVaultVaultNotFound|NoAuthenticationInformation|InvalidAuthenticationInfo|PublicAccessNotPermitted)$/;
const STORAGE_SERVER = /Windows-Azure-(Blob|File|Queue|Table)\/|Azurite-(Blob|Queue|Table)\//i;
const STORAGE_HOST = /\.(blob|file|queue|table|dfs|web)\.core\.(windows\.net|chinacloudapi\.cn|usgovcloudapi\.net)$/;

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

const AZURITE_NOTE =
  'This is the Azurite emulator: it answers SAS, Shared Key and anonymous-access failures with 403 AuthorizationFailure, where Azure would say AuthenticationFailed (or 404 ResourceNotFound for an anonymous read of a private container).';

/** The customer-managed key in Key Vault that encrypts the account cannot be used. */
const MANAGED_KEY = { cause: 'resource-state', message: 'managedKey', weight: 0.8, fixes: ['managedKey'] } as const;

/** Codes that name one reason whatever the request: its cause, message, weight and fixes. */
const ONE_REASON = {
  AuthorizationSourceIPMismatch: { cause: 'ip-restricted', message: 'sourceIp', weight: 0.9, fixes: ['sasForAddress'] },
  AuthorizationProtocolMismatch: { cause: 'insufficient-scope', message: 'protocol', weight: 0.8, fixes: ['useHttps'] },
  InsufficientAccountPermissions: {
    cause: 'insufficient-scope',
    message: 'accountPermissions',
    weight: 0.6,
    fixes: ['newSas'],
  },
  AccountIsDisabled: { cause: 'account-state', message: 'disabled', weight: 0.9, fixes: ['accountState'] },
  KeyVaultEncryptionKeyNotFound: MANAGED_KEY,
  KeyVaultAccessTokenCannotBeAcquired: MANAGED_KEY,
  KeyVaultVaultNotFound: MANAGED_KEY,
  NoAuthenticationInformation: { cause: 'credential-missing', message: 'noAuth', weight: 0.9, fixes: ['authenticate'] },
} as const;

export default defineProducer({
  meta: {
    id: 'azure-storage',
    product: 'azure-storage',
    layer: 'storage',
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
    ...texts,
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
    if (azurite) report.note(AZURITE_NOTE);
    const say = `Azure Storage answered ${code}${shortMessage ? `: "${shortMessage}"` : ''}`;
    const accountScope = `$(az storage account show --name ${t.account} --query id -o tsv)`;
    // The message's words, and the values the fixes' commands are built from.
    const data = {
      say,
      account: t.account,
      container: t.container,
      blob: t.blob,
      perms: 'r',
      role: write ? roles.write : roles.read,
      roleScope:
        t.service === 'blob' || t.service === 'dfs'
          ? `${accountScope}/blobServices/default/containers/${t.container}`
          : accountScope,
      cliService: t.service === 'dfs' ? 'blob' : t.service,
      // The SAS's address range and protocol, as sourceIp and protocol quote them.
      sip: s?.sip ?? '?',
      spr: s?.spr ?? 'https',
    };
    const scopedPerms = write ? 'rw' : 'r';

    if (Object.hasOwn(ONE_REASON, code)) {
      const { cause, message, weight, fixes } = ONE_REASON[code as keyof typeof ONE_REASON];
      report.claim(cause, message, weight, { data, evidence, fixes });
      return;
    }
    switch (code) {
      case 'AuthorizationPermissionMismatch':
        if (kind === 'sas') {
          const gap = { required: [`SAS permission for ${ctx.method}`], held: [`sp=${s?.sp ?? ''}`] };
          report.claim('insufficient-scope', 'sasPermissions', 0.8, {
            data: { ...data, sp: s?.sp ?? '?', method: ctx.method, perms: scopedPerms },
            evidence: [...evidence, ev('request:query', `SAS sp=${s?.sp ?? '?'}`)],
            fixes: ['newSas'],
            gap,
          });
          return;
        }
        report.claim('insufficient-role', 'noDataRole', kind === 'bearer' ? 0.85 : 0.75, {
          data,
          evidence,
          fixes: ['assignDataRole'],
        });
        if (kind === 'unknown')
          report.claim('insufficient-scope', 'sasMaybe', 0.25, {
            data: { ...data, perms: scopedPerms },
            evidence,
            fixes: ['newSas'],
          });
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
            data: { ...data, aside },
            evidence: [...evidence, ev('request', 'no Authorization header, no SAS in the query')],
            fixes: ['authenticateOrSas', 'publicAccess'],
          });
          report.claim('ip-restricted', 'firewallOnAzure', azurite ? 0.1 : 0.6, {
            data,
            evidence,
            fixes: ['firewall'],
          });
        } else if (window?.expired) {
          report.claim('credential-expired', 'sasExpired', azurite ? 0.85 : 0.5, {
            data: { ...data, se: `${s?.se}`, late: window.expired, serverTime: window.serverTime },
            evidence: [...evidence, ev('query:se', `${s?.se}`), ev('header:date', window.serverTime)],
            fixes: ['newSas'],
          });
          report.claim('ip-restricted', 'firewallToo', azurite ? 0.05 : 0.4, { data, evidence, fixes: ['firewall'] });
        } else if (window?.early) {
          report.claim('credential-not-yet-valid', 'sasEarly', azurite ? 0.8 : 0.5, {
            data: { ...data, st: `${s?.st}`, early: window.early, serverTime: window.serverTime },
            evidence: [...evidence, ev('query:st', `${s?.st}`), ev('header:date', window.serverTime)],
            fixes: ['startInPast'],
          });
        } else if (kind === 'sas' || kind === 'shared-key') {
          const aside = azurite
            ? ' (Azurite reports that as AuthorizationFailure; Azure says AuthenticationFailed)'
            : '';
          report.claim('credential-invalid', 'signatureFailed', azurite ? 0.75 : 0.35, {
            data: { ...data, credential: kind === 'sas' ? 'SAS' : 'Shared Key', aside },
            evidence,
            fixes: [azurite ? 'accountKeyAzurite' : 'accountKey', 'newSas'],
          });
          report.claim('ip-restricted', 'firewallSelectedNetworks', azurite ? 0.05 : 0.65, {
            data,
            evidence,
            fixes: ['firewall'],
          });
        } else {
          report.claim('ip-restricted', 'firewall', 0.65, { data, evidence, fixes: ['firewall'] });
          report.claim('insufficient-role', 'roleWithoutFirewall', 0.2, { data, evidence, fixes: ['assignDataRole'] });
        }
        return;
      }
      case 'AuthorizationResourceTypeMismatch':
      case 'AuthorizationServiceMismatch': {
        const what =
          code === 'AuthorizationServiceMismatch'
            ? `service (ss=${s?.ss ?? '?'})`
            : `resource type (srt=${s?.srt ?? '?'}; s=service, c=container, o=object)`;
        report.claim('insufficient-scope', 'accountSasScope', 0.85, {
          data: { ...data, what },
          evidence,
          fixes: ['accountSas'],
        });
        return;
      }
      case 'PublicAccessNotPermitted':
        report.claim('credential-missing', 'publicBlocked', 0.6, {
          data,
          evidence,
          fixes: ['authenticateOrAllowPublic'],
        });
        report.claim('resource-policy', 'publicSetting', 0.3, { evidence });
        return;
      case 'InvalidAuthenticationInfo':
      case 'AuthenticationFailed': {
        const d = detail ?? shortMessage;
        const withDetail = { ...data, detail: d };
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
            fixes: ['newSas', 'issuerClock'],
          });
          report.claim('clock-skew', 'issuerClockLags', 0.3, { evidence, fixes: ['issuerSkew'] });
        } else if (/Signature not valid in the specified time frame/i.test(d)) {
          const [start, expiry, current] = times;
          if (current && expiry && current > expiry)
            report.claim('credential-expired', 'sasExpiredBy', 0.85, {
              data: { ...withDetail, late: Math.round((current.getTime() - expiry.getTime()) / 1000) },
              evidence,
              fixes: ['newSas'],
            });
          else if (current && start && current < start) {
            report.claim('credential-not-yet-valid', 'sasStartAhead', 0.8, {
              data: { ...withDetail, early: Math.round((start.getTime() - current.getTime()) / 1000) },
              evidence,
              fixes: ['startInPast'],
            });
            report.claim('clock-skew', 'issuerClockAhead', 0.45, { evidence, fixes: ['issuerNtp'] });
          } else
            report.claim('credential-expired', 'withDetail', 0.6, {
              data: withDetail,
              evidence,
              fixes: ['newSas'],
            });
        } else if (
          /Signature fields not well formed|not well formed|Authentication information is not given in the correct format/i.test(
            d,
          )
        ) {
          report.claim('credential-malformed', 'sasMalformed', 0.85, {
            data: withDetail,
            evidence,
            fixes: ['newSas'],
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
            data: { ...data, why },
            evidence,
            fixes: ['keyMismatch'],
          });
        } else if (/Request date header too old|x-ms-date/i.test(d)) {
          report.claim('clock-skew', 'dateTooOld', 0.8, { data: withDetail, evidence, fixes: ['clientNtp'] });
        } else if (/Lifetime validation failed|token is expired/i.test(d)) {
          report.claim('credential-expired', 'withDetail', 0.85, {
            data: withDetail,
            evidence,
            fixes: ['storageToken'],
          });
        } else if (/Audience validation failed|Issuer validation failed/i.test(d)) {
          report.claim('wrong-audience', 'audience', 0.85, { data: withDetail, evidence, fixes: ['tenantToken'] });
        } else {
          report.claim('credential-invalid', 'notAuthenticated', 0.55, {
            data: { ...data, detail: detail ? ` — ${detail}` : '' },
            evidence,
            fixes: ['checkCredential'],
          });
        }
      }
    }
  },
});
