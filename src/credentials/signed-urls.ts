// Credentials carried in a URL's query string: pre-signed S3 URLs (SigV4 and
// the older SigV2), Google Cloud Storage signed URLs, CloudFront signed URLs
// and Azure shared access signatures. Each carries its own validity window;
// the signature itself is never shown. How each format is written is
// src/knowledge/signed-urls.ts; this file decodes a URL with it and measures.
import type { NameValue } from '../model/exchange.ts';
import {
  MAX_PRESIGN_S,
  SAS_FIELDS,
  SAS_RESOURCES,
  SAS_RESOURCE_TYPES,
  SAS_SERVICES,
  SIGNED_URL_FINDING,
  decodePath,
  gcsLocation,
  isGcsHost,
  s3Location,
  sasAccount,
  sasKind,
  sasLetters,
  sasPermissionWords,
  signedUrlFormat,
  type SignedUrlFormat,
} from '../knowledge/signed-urls.ts';
import { OUTSIDE_WINDOW, parseBasicIsoDate, parseIsoDate, windowObservations } from './clock.ts';
import { addItem, observe, observeWindow, secret, type Collector } from './collector.ts';
import { recogniseToken } from './token-kinds.ts';

type Params = Map<string, NameValue>;

function paramMap(params: NameValue[]): Params {
  const m: Params = new Map();
  for (const p of params) if (!m.has(p.name.toLowerCase())) m.set(p.name.toLowerCase(), p);
  return m;
}

const get = (p: Params, name: string): string | undefined => p.get(name.toLowerCase())?.value;
const where = (p: Params, name: string): string => `query:${p.get(name.toLowerCase())?.name ?? name}`;

// Kept for src/probes, which imports it from here.
export { SIGNED_URL_PARAMS } from '../knowledge/signed-urls.ts';

/**
 * SigV4 query authentication: the URL is good from X-Amz-Date for
 * X-Amz-Expires seconds. https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html
 * Google accepts the same shape (with X-Goog-* names, or X-Amz-* for HMAC keys).
 * https://cloud.google.com/storage/docs/access-control/signed-urls
 */
function inspectV4(c: Collector, p: Params, url: URL | undefined, prefix: 'X-Amz' | 'X-Goog'): void {
  const google = prefix === 'X-Goog' || isGcsHost(url);
  const n = (s: string) => `${prefix}-${s}`;
  const credential = get(p, n('Credential')) ?? '';
  const [keyId, scopeDate, region, service] = credential.split('/');
  const signedAt = parseBasicIsoDate(get(p, n('Date')));
  const expiresRaw = get(p, n('Expires'));
  const expires = expiresRaw !== undefined && /^\d+$/.test(expiresRaw) ? Number(expiresRaw) : undefined;
  const token = get(p, n('Security-Token')) ?? get(p, 'x-amz-security-token');
  // A Google service account is named by its e-mail, which is no secret; access key ids are shown in part.
  const principal = keyId ? (keyId.includes('@') ? keyId : secret(c, keyId, 4)) : undefined;
  const keyKind = keyId ? recogniseToken(keyId) : undefined;
  const claims: Record<string, unknown> = {
    [n('Algorithm')]: get(p, n('Algorithm')),
    [n('Credential')]: keyId ? [principal, ...credential.split('/').slice(1)].join('/') : undefined,
    [n('Date')]: get(p, n('Date')),
    [n('Expires')]: expiresRaw,
    [n('SignedHeaders')]: get(p, n('SignedHeaders')),
    region,
    service,
    ...(token ? { [n('Security-Token')]: `present (${token.length} chars)` } : {}),
    ...(google ? gcsLocation(url) : s3Location(url)),
  };
  for (const k of Object.keys(claims)) if (claims[k] === undefined) delete claims[k];
  const sig = get(p, n('Signature'));
  const kindName = google ? 'Google Cloud Storage signed URL (V4)' : 'AWS pre-signed URL (SigV4)';
  const item = addItem(c, {
    kind: google ? 'google-signed-url' : 'aws-presigned-url',
    location: where(p, n('Signature')),
    display: `${kindName}, ${google && keyId?.includes('@') ? 'service account' : 'key'} ${principal ?? '(missing)'}${keyKind ? ` (${keyKind.name})` : ''}${region ? `, ${region}` : ''}, signature ${sig ? secret(c, sig) : '(missing)'}`,
    ...(principal ? { principal } : {}),
    claims,
  });
  if (!sig || !keyId || !signedAt)
    observe(c, {
      kind: 'presigned-incomplete',
      text: `The ${kindName} lacks ${[!sig && n('Signature'), !keyId && n('Credential'), !signedAt && `a valid ${n('Date')} (YYYYMMDDTHHMMSSZ)`].filter(Boolean).join(', ')}.`,
      source: where(p, n('Signature')),
    });
  if (expires === undefined)
    observe(c, {
      kind: 'presigned-expires-missing',
      text: `The ${kindName} has ${expiresRaw === undefined ? `no ${n('Expires')}` : `a non-numeric ${n('Expires')} (${expiresRaw})`}; the seconds of validity are required.`,
      source: where(p, n('Expires')),
    });
  else if (expires > MAX_PRESIGN_S)
    observe(c, {
      kind: 'presigned-expires-too-long',
      text: `${n('Expires')} is ${expires} s; pre-signed URLs may last at most 604800 s (7 days), so the service refuses this one outright.`,
      source: where(p, n('Expires')),
    });
  if (signedAt && scopeDate && scopeDate !== get(p, n('Date'))?.slice(0, 8))
    observe(c, {
      kind: 'presigned-date-mismatch',
      text: `The credential scope date (${scopeDate}) is not the day of ${n('Date')} (${get(p, n('Date'))}).`,
      source: where(p, n('Credential')),
    });
  if (!signedAt) return;
  const before = c.observations.length;
  observeWindow(c, item, {
    what: `The ${google ? 'signed' : 'pre-signed'} URL`,
    id: google ? SIGNED_URL_FINDING.google : SIGNED_URL_FINDING.aws,
    notBefore: signedAt,
    notBeforeSource: where(p, n('Date')),
    ...(expires !== undefined
      ? { expiresAt: new Date(signedAt.getTime() + expires * 1000), expiresSource: where(p, n('Expires')) }
      : {}),
    startSetBy: 'the machine that signed the URL',
  });
  const outside = c.observations.slice(before).some((o) => OUTSIDE_WINDOW.has(o.kind));
  if (!google && keyId?.startsWith('ASIA') && !outside)
    observe(c, {
      kind: 'presigned-session-credentials',
      text: 'The URL was signed with temporary credentials (an ASIA… key): it stops working when that session ends, which can be before X-Amz-Expires runs out.',
      source: where(p, n('Credential')),
    });
}

/** SigV2 query authentication (legacy S3, and Google's V2 signed URLs): Expires is an absolute epoch time. */
function inspectV2(c: Collector, p: Params, url: URL | undefined, google: boolean): void {
  const keyName = google ? 'GoogleAccessId' : 'AWSAccessKeyId';
  const keyId = get(p, keyName) ?? '';
  const expiresRaw = get(p, 'Expires') ?? '';
  const principal = keyId.includes('@') ? keyId : secret(c, keyId, 4);
  const item = addItem(c, {
    kind: google ? 'google-signed-url' : 'aws-presigned-url',
    location: where(p, 'Signature'),
    display: `${google ? 'Google Cloud Storage signed URL (V2)' : 'AWS pre-signed URL (SigV2)'}, ${keyId.includes('@') ? 'service account' : 'key'} ${principal}, signature ${secret(c, get(p, 'Signature') ?? '')}`,
    principal,
    claims: { [keyName]: principal, Expires: expiresRaw, ...(google ? gcsLocation(url) : s3Location(url)) },
  });
  if (!/^\d+$/.test(expiresRaw)) {
    observe(c, {
      kind: 'presigned-expires-missing',
      text: `Expires (${expiresRaw || 'empty'}) is not a Unix time in seconds.`,
      source: where(p, 'Expires'),
    });
    return;
  }
  observeWindow(c, item, {
    what: 'The pre-signed URL',
    id: google ? SIGNED_URL_FINDING.google : SIGNED_URL_FINDING.aws,
    expiresAt: new Date(Number(expiresRaw) * 1000),
    expiresSource: where(p, 'Expires'),
  });
}

/**
 * CloudFront canned-policy signed URLs: Expires (Unix seconds), Signature, Key-Pair-Id.
 * https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/private-content-creating-signed-url-canned-policy.html
 */
function inspectCloudFront(c: Collector, p: Params): void {
  const expiresRaw = get(p, 'Expires');
  const item = addItem(c, {
    kind: 'other',
    location: where(p, 'Signature'),
    display: `CloudFront signed URL (${get(p, 'Policy') ? 'custom policy' : 'canned policy'}), key pair ${get(p, 'Key-Pair-Id')}, signature ${secret(c, get(p, 'Signature') ?? '')}`,
    claims: {
      'Key-Pair-Id': get(p, 'Key-Pair-Id'),
      ...(expiresRaw ? { Expires: expiresRaw } : {}),
      ...(get(p, 'Policy') ? { Policy: 'present' } : {}),
    },
  });
  if (expiresRaw && /^\d+$/.test(expiresRaw))
    observeWindow(c, item, {
      what: 'The signed URL',
      id: SIGNED_URL_FINDING.cloudfront,
      expiresAt: new Date(Number(expiresRaw) * 1000),
      expiresSource: where(p, 'Expires'),
    });
}

function inspectSas(c: Collector, p: Params, url: URL | undefined): void {
  const sp = get(p, 'sp');
  const sr = get(p, 'sr');
  const st = parseIsoDate(get(p, 'st'));
  const se = parseIsoDate(get(p, 'se'));
  const account = sasAccount(url);
  const path = url ? decodePath(url.pathname).replace(/^\//, '').split('/') : [];
  const claims: Record<string, unknown> = {};
  for (const name of SAS_FIELDS) {
    const v = get(p, name);
    if (v !== undefined) claims[name] = v;
  }
  if (sr) claims.resource = SAS_RESOURCES[sr] ?? sr;
  const services = sasLetters(get(p, 'ss'), SAS_SERVICES);
  if (services) claims.services = services;
  const types = sasLetters(get(p, 'srt'), SAS_RESOURCE_TYPES);
  if (types) claims.resourceTypes = types;
  if (account) claims.account = account;
  if (path[0]) claims.container = path[0];
  if (path.length > 1) claims.blob = path.slice(1).join('/');
  const kindOf = sasKind((name) => get(p, name));
  const item = addItem(c, {
    kind: 'azure-sas',
    location: where(p, 'sig'),
    display: `Azure Storage ${kindOf}${sp ? `, permissions ${sp}` : ''}, signature ${secret(c, get(p, 'sig') ?? '')}`,
    ...(account ? { principal: account } : {}),
    claims,
    ...(sp ? { scopes: sasPermissionWords(sp, sr) } : {}),
  });
  if (get(p, 'sktid')) item.tenant = get(p, 'sktid');
  if (get(p, 'skoid')) item.subject = get(p, 'skoid');
  for (const [name, parsed] of [
    ['se', se],
    ['st', st],
  ] as const) {
    const raw = get(p, name);
    if (raw && !parsed)
      observe(c, {
        kind: 'azure-sas-bad-time',
        text: `${name} (${raw}) is not an ISO 8601 UTC time such as 2026-11-22T16:00:00Z.`,
        source: where(p, name),
      });
  }
  if (!get(p, 'se') && !get(p, 'si'))
    observe(c, {
      kind: 'azure-sas-no-expiry',
      text: 'The SAS has neither an expiry (se) nor a stored access policy (si) that would supply one.',
      source: where(p, 'sig'),
    });
  if (st && se && se.getTime() <= st.getTime()) {
    observe(c, {
      kind: 'azure-sas-window-inverted',
      text: `The SAS expires (se ${get(p, 'se')}) before it starts (st ${get(p, 'st')}): it was never valid.`,
      source: where(p, 'se'),
    });
  } else {
    observeWindow(c, item, {
      what: 'The SAS',
      id: SIGNED_URL_FINDING.azure,
      ...(st ? { notBefore: st, notBeforeSource: where(p, 'st') } : {}),
      ...(se ? { expiresAt: se, expiresSource: where(p, 'se') } : {}),
      startSetBy: 'whoever generated the SAS',
    });
  }
  const ske = parseIsoDate(get(p, 'ske'));
  if (ske)
    for (const f of windowObservations(
      {
        what: 'The user delegation key behind the SAS',
        id: SIGNED_URL_FINDING.azureKey,
        expiresAt: ske,
        expiresSource: where(p, 'ske'),
      },
      c.clock,
    ))
      observe(c, f);
  const sip = get(p, 'sip');
  if (sip)
    observe(c, {
      kind: 'azure-sas-ip-range',
      text: `The SAS is valid only from ${sip.includes('-') ? 'addresses' : 'the address'} ${sip}; from anywhere else Azure answers 403 AuthorizationSourceIPMismatch.`,
      source: where(p, 'sip'),
    });
  if (get(p, 'spr') === 'https' && url?.protocol === 'http:')
    observe(c, {
      kind: 'azure-sas-https-only',
      text: 'The SAS allows HTTPS only (spr=https) but the request used http://.',
      source: where(p, 'spr'),
    });
}

const INSPECT: Record<SignedUrlFormat, (c: Collector, p: Params, url: URL | undefined) => void> = {
  'google-v4': (c, p, url) => inspectV4(c, p, url, 'X-Goog'),
  'aws-v4': (c, p, url) => inspectV4(c, p, url, 'X-Amz'),
  'aws-v2': (c, p, url) => inspectV2(c, p, url, false),
  'google-v2': (c, p, url) => inspectV2(c, p, url, true),
  cloudfront: (c, p) => inspectCloudFront(c, p),
  'azure-sas': inspectSas,
};

/** Inspects a query string for signed-URL credentials; returns whether one was found. */
export function inspectSignedUrl(c: Collector, params: NameValue[], url: URL | undefined): boolean {
  const p = paramMap(params);
  const format = signedUrlFormat((name) => p.has(name));
  if (format) INSPECT[format](c, p, url);
  return format !== undefined;
}
