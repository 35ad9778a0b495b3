// Cloud Storage answers the XML API (storage.googleapis.com/BUCKET/OBJECT,
// signed URLs) with <Error><Code/><Message/><Details/></Error> and the JSON API
// with Google's {"error":{…}} model; both name the missing permission in words
// ("… does not have storage.objects.get access to the Google Cloud Storage
// object"). An anonymous caller gets the same refusal as a principal without
// the role, and a missing object too ("or it may not exist").
import { defineProducer, ev, signals, type Context } from '../define.ts';
import { jsonError } from '../_lib/envelopes.ts';
import { CLIENT_ERRORS, ERROR_DOCUMENT, errorDocumentField, isClientError } from '../_lib/cloud-errors.ts';
import texts from './texts.json' with { type: 'json' };

interface GcsError {
  code?: string;
  message: string;
  details?: string;
}

const GCS_WORDS =
  /Google Cloud Storage (object|bucket)|storage\.(objects|buckets)\.[a-zA-Z]+|Check your Google secret key|GOOG4-(RSA|HMAC)-SHA256/;
const GCS_HOST = /^(storage|[a-z0-9._-]+\.storage)\.googleapis\.com$|^storage\.cloud\.google\.com$/;

/** A member of the XML error, whitespace collapsed. */
function xmlField(ctx: Context, name: string): string | undefined {
  return errorDocumentField(ctx, name)?.replace(/\s+/g, ' ').trim();
}

function readError(ctx: Context): GcsError | undefined {
  if (ERROR_DOCUMENT.test(ctx.body.text)) {
    const code = xmlField(ctx, 'Code');
    if (code) return { code, message: xmlField(ctx, 'Message') ?? '', details: xmlField(ctx, 'Details') };
  }
  const json = jsonError(ctx, ['error.errors.0.reason', 'error.status'], ['error.message']);
  if (json?.message !== undefined) return { code: json.code, message: json.message };
  return undefined;
}

/** Bucket and object from the URL, the JSON API path, or the message. */
function target(ctx: Context, text: string): { bucket?: string; object?: string } {
  const fromMsg =
    /buckets\/([^/\s']+)\/objects\/([^\s']+)/.exec(text) ??
    /access to ([a-z0-9._-]+)\/([^\s.]+(?:\.[^\s.]+)*)\.?\s*$/.exec(text);
  if (fromMsg) return { bucket: fromMsg[1], object: fromMsg[2] };
  const u = ctx.url;
  if (!u) return {};
  const api = /^\/(?:download\/|upload\/)?storage\/v1\/b\/([^/]+)(?:\/o\/([^/?]+))?/.exec(u.pathname);
  if (api) return { bucket: api[1], object: api[2] ? decodeURIComponent(api[2]) : undefined };
  const vhost = /^([a-z0-9._-]+)\.storage\.googleapis\.com$/.exec(u.hostname);
  const parts = u.pathname.replace(/^\//, '').split('/');
  if (vhost) return { bucket: vhost[1], object: parts.join('/') || undefined };
  if (/^storage\.googleapis\.com$/.test(u.hostname) && parts[0])
    return { bucket: parts[0], object: parts.slice(1).join('/') || undefined };
  return {};
}

/** The predefined role that holds the permission (for a bucket-level grant). */
function roleFor(permission: string): string {
  return /^storage\.objects\.(get|list)$/.test(permission)
    ? 'roles/storage.objectViewer'
    : /^storage\.objects\./.test(permission)
      ? 'roles/storage.objectUser'
      : 'roles/storage.admin';
}

export default defineProducer({
  meta: {
    id: 'google-cloud-storage',
    product: 'google-cloud-storage',
    layer: 'storage',
    causes: ['insufficient-role', 'credential-missing', 'credential-invalid', 'credential-expired'],
    statuses: CLIENT_ERRORS,
    ...texts,
  },
  recognise(ctx) {
    if (!isClientError(ctx.status)) return undefined;
    const err = readError(ctx);
    const found = signals();
    const upload = ctx.header('x-guploader-uploadid');
    if (upload) found.add(0.95, ev('header:x-guploader-uploadid', upload.slice(0, 16) + '…'));
    if (/^UploadServer$/i.test(ctx.header('server') ?? '') && err) found.add(0.93, ev('header:server', 'UploadServer'));
    if (ctx.header('x-goog-generation') || ctx.header('x-goog-stored-content-length'))
      found.add(0.93, ev('header:x-goog-*', 'Cloud Storage object headers'));
    const host = ctx.url?.hostname ?? '';
    const gcsHost = GCS_HOST.test(host);
    if (err) {
      const text = `${err.message} ${err.details ?? ''} ${ctx.body.text.slice(0, 4000)}`;
      const words = GCS_WORDS.exec(text)?.[0];
      if (words !== undefined)
        found.add(
          0.92,
          ev(err.details !== undefined ? 'body:Error.Details' : 'body:error.message', words.slice(0, 80)),
        );
      // <Details> is Cloud Storage's addition to the S3-style XML error.
      else if (err.details !== undefined && gcsHost)
        found.add(0.9, ev('body:Error.Details', 'XML error with <Details>'));
      if (gcsHost) found.add(0.95, ev('request:url', `Cloud Storage endpoint ${host}`));
    } else if (gcsHost) found.add(0.6, ev('request:url', `Cloud Storage endpoint ${host}`));
    return found.result({ err });
  },
  explain(ctx, { err, confidence }, report) {
    if (!err || confidence < 0.5) return;
    const text = `${err.message} ${err.details ?? ''}`.trim();
    const evidence = [
      ...(err.code ? [ev(err.details !== undefined ? 'body:Error.Code' : 'body:error.errors.reason', err.code)] : []),
      ev(err.details ? 'body:Error.Details' : 'body:error.message', (err.details || err.message).slice(0, 300)),
    ];
    const t = target(ctx, text);
    const bucket = t.bucket ?? 'BUCKET';
    const data = { bucket, object: t.object ?? 'OBJECT', method: ctx.method };
    if (err.code === 'SignatureDoesNotMatch' || /signature we calculated does not match/i.test(text)) {
      const sts = xmlField(ctx, 'StringToSign');
      report.claim('credential-invalid', 'signature', 0.85, {
        data,
        evidence: [...evidence, ...(sts ? [ev('body:Error.StringToSign', sts.slice(0, 120))] : [])],
        fixes: ['compareSigned'],
      });
      return;
    }
    if (err.code === 'ExpiredToken' || /Request has expired|token has expired|signature expired/i.test(text)) {
      report.claim('credential-expired', 'expired', 0.9, {
        data: { ...data, text },
        evidence,
        fixes: ['resign'],
      });
      return;
    }
    const perm = /does not have ([a-z]+\.[a-zA-Z.]+) access/.exec(text)?.[1];
    if (!perm && err.code !== 'AccessDenied' && err.code !== 'forbidden') return;
    const permission = perm ?? 'storage.objects.get';
    const anonymous = /^Anonymous caller/i.test(err.details ?? err.message) || /Anonymous caller/.test(text);
    const principal = /^(?:.*?\s)?(\S[^\s@]*@\S+) does not have/.exec(text)?.[1];
    const resource = t.object ? `gs://${bucket}/${t.object}` : t.bucket ? `gs://${bucket}` : 'the bucket or object';
    const grant = {
      ...data,
      permission,
      role: roleFor(permission),
      allUsersNote: anonymous ? ' (allUsers only if the data is meant to be public)' : '',
      member: anonymous ? 'allUsers' : 'user:EMAIL   # or serviceAccount:SA_EMAIL',
    };
    report.claim('insufficient-role', 'noRole', anonymous ? 0.7 : 0.88, {
      data: { ...grant, who: anonymous ? 'The anonymous caller (allUsers)' : (principal ?? 'The caller'), resource },
      evidence,
      gap: { required: [`${permission} on ${resource}`], held: [] },
      fixes: [anonymous ? 'authenticate' : 'checkPrincipal', 'grantRole', 'readBucketPolicy'],
    });
    if (anonymous) {
      report.claim('credential-missing', 'anonymous', 0.45, { data, evidence, fixes: ['authenticate'] });
      report.note(
        'Cloud Storage saw no credential ("Anonymous caller"): either authenticate, or grant the role to allUsers if the object is meant to be public.',
      );
    }
    if (/or it may not exist/.test(text))
      report.note(
        `Cloud Storage answers 403 rather than 404 when the caller may not list the bucket: ${resource} may simply not exist.`,
      );
  },
});
