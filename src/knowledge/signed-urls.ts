// Signed-URL formats: how AWS pre-signed URLs (SigV4 and the older SigV2),
// Google Cloud Storage signed URLs (V4 and V2), CloudFront signed URLs and
// Azure shared access signatures are written — which query parameters make
// each, where the bucket and object sit in the URL, what a SAS's letters mean,
// and the finding ids credential inspection gives each kind. Credential
// inspection (src/credentials) decodes URLs with it; rules read it to name the
// credential a finding is about and to say how to sign a new one.
//
// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html
// https://cloud.google.com/storage/docs/access-control/signed-urls
// https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/private-content-creating-signed-url-canned-policy.html
// https://learn.microsoft.com/en-us/rest/api/storageservices/create-service-sas
// https://learn.microsoft.com/en-us/rest/api/storageservices/create-account-sas
// https://learn.microsoft.com/en-us/rest/api/storageservices/create-user-delegation-sas

/** Names (lower case) of the parameters each signed-URL kind consumes, so they are not inspected again as plain tokens. */
// prettier-ignore
export const SIGNED_URL_PARAMS = new Set([
  // AWS SigV4 and Google V4
  'x-amz-algorithm', 'x-amz-credential', 'x-amz-date', 'x-amz-expires', 'x-amz-signedheaders', 'x-amz-signature', 'x-amz-security-token',
  'x-goog-algorithm', 'x-goog-credential', 'x-goog-date', 'x-goog-expires', 'x-goog-signedheaders', 'x-goog-signature',
  // SigV2 (S3, Google V2) and CloudFront
  'awsaccesskeyid', 'signature', 'expires', 'googleaccessid', 'key-pair-id', 'policy',
  // Azure SAS
  'sv', 'st', 'se', 'sp', 'sr', 'ss', 'srt', 'spr', 'sip', 'si', 'sig', 'skoid', 'sktid', 'skt', 'ske', 'sks', 'skv', 'sdd',
  'saoid', 'suoid', 'scid', 'ses', 'tn',
]);

/** Seven days: the longest SigV4 pre-signed URL AWS and Google accept. */
export const MAX_PRESIGN_S = 604800;

export type SignedUrlFormat = 'google-v4' | 'aws-v4' | 'aws-v2' | 'google-v2' | 'cloudfront' | 'azure-sas';

/** Which signed-URL format a query string is, by the (lower-case) parameter names it carries. */
export function signedUrlFormat(has: (name: string) => boolean): SignedUrlFormat | undefined {
  if (has('x-goog-signature') || has('x-goog-algorithm')) return 'google-v4';
  if (has('x-amz-signature') || has('x-amz-algorithm') || has('x-amz-credential')) return 'aws-v4';
  if (has('signature') && has('awsaccesskeyid')) return 'aws-v2';
  if (has('signature') && has('googleaccessid')) return 'google-v2';
  if (has('signature') && has('key-pair-id')) return 'cloudfront';
  if (has('sig') && (has('sv') || has('se') || has('si'))) return 'azure-sas';
  return undefined;
}

/**
 * The prefix of the ids of the findings about each kind's validity window
 * (`aws-presigned-expired`, `azure-sas-not-yet-valid`…). Findings about the
 * URL's shape that AWS and Google share start with `presigned-`.
 */
export const SIGNED_URL_FINDING = {
  aws: 'aws-presigned',
  google: 'gcs-signed-url',
  cloudfront: 'cloudfront-signed-url',
  azure: 'azure-sas',
  azureKey: 'azure-sas-key',
  shape: 'presigned',
} as const;

/** A URL path with its %-escapes decoded; as written when one is malformed ("%zz"), which a URL may carry. */
export function decodePath(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

/** Where the bucket and key sit in an S3-style URL (virtual-hosted or path-style). */
export function s3Location(url: URL | undefined): { bucket?: string; key?: string } {
  if (!url) return {};
  const path = decodePath(url.pathname).replace(/^\//, '');
  const vhost =
    /^(.+?)\.s3[.-]([a-z0-9-]+\.)?amazonaws\.com(\.cn)?$/.exec(url.hostname) ??
    /^(.+?)\.s3\.amazonaws\.com$/.exec(url.hostname);
  if (vhost) return { bucket: vhost[1], ...(path ? { key: path } : {}) };
  const [bucket, ...key] = path.split('/');
  return { ...(bucket ? { bucket } : {}), ...(key.length ? { key: key.join('/') } : {}) };
}

/** Where the bucket and object sit in a Cloud Storage URL (BUCKET.storage.googleapis.com or storage.googleapis.com/BUCKET). */
export function gcsLocation(url: URL | undefined): { bucket?: string; object?: string } {
  if (!url) return {};
  const path = decodePath(url.pathname).replace(/^\//, '');
  const vhost = /^(.+)\.storage\.googleapis\.com$/.exec(url.hostname);
  if (vhost) return { bucket: vhost[1], ...(path ? { object: path } : {}) };
  const [bucket, ...object] = path.split('/');
  return { ...(bucket ? { bucket } : {}), ...(object.length ? { object: object.join('/') } : {}) };
}

/** Google also accepts X-Amz-* signed URLs (HMAC keys) on its own host. */
export const isGcsHost = (url: URL | undefined): boolean =>
  Boolean(url && /(^|\.)storage\.googleapis\.com$/.test(url.hostname));

// ---------------------------------------------------------------- Azure SAS

/** The SAS fields worth showing as the credential's claims (never `sig`). */
export const SAS_FIELDS = [
  'sv',
  'st',
  'se',
  'sp',
  'sr',
  'ss',
  'srt',
  'spr',
  'sip',
  'si',
  'skoid',
  'sktid',
  'skt',
  'ske',
  'sks',
  'skv',
  'sdd',
  'tn',
] as const;

const SAS_PERMISSIONS: Record<string, string> = {
  r: 'read',
  a: 'add',
  c: 'create',
  w: 'write',
  d: 'delete',
  x: 'delete version',
  y: 'permanent delete',
  l: 'list',
  t: 'tags',
  f: 'find by tags',
  m: 'move',
  e: 'execute',
  o: 'ownership',
  u: 'update',
  i: 'set immutability policy',
};
export const SAS_RESOURCES: Readonly<Record<string, string>> = {
  b: 'blob',
  c: 'container',
  d: 'directory',
  f: 'file',
  s: 'share',
  bs: 'blob snapshot',
  bv: 'blob version',
};
export const SAS_SERVICES: Readonly<Record<string, string>> = { b: 'blob', q: 'queue', t: 'table', f: 'file' };
export const SAS_RESOURCE_TYPES: Readonly<Record<string, string>> = { s: 'service', c: 'container', o: 'object' };

/** `p` is "permissions" (ACLs) on blob and Data Lake resources, "process" (messages) for account and queue SAS. */
export function sasPermissionWords(sp: string, sr?: string): string[] {
  const blobLike = sr !== undefined && ['b', 'c', 'd', 'bs', 'bv'].includes(sr);
  return [...sp].map((ch) =>
    ch === 'p' ? (blobLike ? 'permissions' : 'process') : (SAS_PERMISSIONS[ch] ?? `unknown (${ch})`),
  );
}

/** A SAS field of one-letter codes (ss, srt) spelled out; unknown letters stay as they are. */
export const sasLetters = (v: string | undefined, table: Readonly<Record<string, string>>): string[] | undefined =>
  v ? [...v].map((ch) => table[ch] ?? ch) : undefined;

/** The storage account a SAS URL addresses, from its host (public, China and US Government clouds). */
export function sasAccount(url: URL | undefined): string | undefined {
  return url
    ? /^([a-z0-9]+)\.(blob|dfs|file|queue|table)\.core\.(windows\.net|chinacloudapi\.cn|usgovcloudapi\.net)$/.exec(
        url.hostname,
      )?.[1]
    : undefined;
}

/** Which of the three kinds of SAS this is: a user delegation key (skoid), an account SAS (ss) or a service SAS. */
export function sasKind(
  field: (name: string) => string | undefined,
): 'user delegation SAS' | 'account SAS' | 'service SAS' {
  return field('skoid') ? 'user delegation SAS' : field('ss') ? 'account SAS' : 'service SAS';
}
