// Google APIs (googleapis.com) share one error model: {"error": {code, message,
// status, details[]}} where a google.rpc.ErrorInfo names the reason in a
// machine-readable way, and the older {"error": {errors[{domain, reason}]}}.
// Reasons map to causes one to one; ErrorInfo metadata carries the near miss
// (permission, service, consumer project).
import { defineProducer, ev, signals, type Context, type Evidence, type Gap } from '../define.ts';
import type { MessageData } from '../define.ts';
import type { CauseId } from '../../model/vocabulary.ts';
import texts from './texts.json' with { type: 'json' };

const CANONICAL = new Set([
  'PERMISSION_DENIED',
  'UNAUTHENTICATED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'INVALID_ARGUMENT',
  'NOT_FOUND',
  'INTERNAL',
  'UNAVAILABLE',
  'ABORTED',
  'ALREADY_EXISTS',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'DEADLINE_EXCEEDED',
  'CANCELLED',
  'DATA_LOSS',
  'UNKNOWN',
]);

interface ErrorInfo {
  reason: string;
  domain?: string;
  metadata: Record<string, string>;
}

interface GoogleError {
  code?: number;
  message: string;
  status?: string;
  errorInfo?: ErrorInfo;
  legacyReasons: string[];
  typed: boolean;
}

function googleError(ctx: Context): GoogleError | undefined {
  const j = ctx.body.json as Record<string, unknown> | undefined;
  const e =
    j && typeof j === 'object' && !Array.isArray(j) ? (j.error as Record<string, unknown> | undefined) : undefined;
  if (!e || typeof e !== 'object' || typeof e.message !== 'string') return undefined;
  const details = Array.isArray(e.details) ? (e.details as Record<string, unknown>[]) : [];
  const typed = details.some(
    (d) => typeof d?.['@type'] === 'string' && (d['@type'] as string).startsWith('type.googleapis.com/google.rpc.'),
  );
  const info = details.find((d) => d?.['@type'] === 'type.googleapis.com/google.rpc.ErrorInfo');
  const errors = Array.isArray(e.errors) ? (e.errors as Record<string, unknown>[]) : [];
  const legacyReasons = errors.map((x) => x?.reason).filter((r): r is string => typeof r === 'string');
  const status = typeof e.status === 'string' ? e.status : undefined;
  // Either the canonical status enum or the legacy errors[] list must be there; a bare {"error":{"message"}} is anybody's.
  if (!typed && !(status && CANONICAL.has(status)) && !legacyReasons.length) return undefined;
  return {
    code: typeof e.code === 'number' ? e.code : undefined,
    message: e.message,
    status,
    errorInfo:
      info && typeof info.reason === 'string'
        ? {
            reason: info.reason,
            domain: typeof info.domain === 'string' ? info.domain : undefined,
            metadata: (info.metadata as Record<string, string>) ?? {},
          }
        : undefined,
    legacyReasons,
    typed,
  };
}

// ESF (Extensible Service Frontend) and GFE front Google's APIs.
const GOOGLE_SERVER = /^(ESF|GSE|Google Frontend|gfe)/i;
// Firebase hosts answer in the same model: there Google APIs stays below 0.5
// (naming no product). Firebase Storage has no rule, so the guess stays a
// guess; Firestore's rule names its product, and these claims still count
// beside its own (yielding to it would drop them).
const FIREBASE_HOST = /^(firestore|firebasestorage)\.googleapis\.com$/;

/** "https://console.developers.google.com/apis/api/SERVICE/overview?project=PROJECT" (or …/quotas?project=) inside a message. */
function activation(message: string, info?: ErrorInfo): { service?: string; project?: string } {
  const m = /apis\/api\/([^/\s]+)\/(?:overview|quotas)\?project=([A-Za-z0-9](?:[A-Za-z0-9:._-]*[A-Za-z0-9])?)/.exec(
    message,
  );
  const service = info?.metadata.service ?? m?.[1];
  const consumer = info?.metadata.consumer ?? '';
  const project = /^projects\/(.+)$/.exec(consumer)?.[1] ?? info?.metadata.containerInfo ?? m?.[2];
  return { service, project };
}

function permissionFromMessage(message: string): { permission?: string; resource?: string } {
  const a =
    /Permission '([^']+)' denied on resource '([^']+)'/.exec(message) ??
    /Permission '([^']+)' denied on resource/.exec(message);
  if (a) return { permission: a[1], resource: a[2] };
  const b = /does not have ([a-z]+\.[a-zA-Z.]+) access to (?:the Google Cloud Storage bucket\.|([^\s.]+))/.exec(
    message,
  );
  if (b) return { permission: b[1], resource: b[2] };
  return {};
}

type MessageId = keyof typeof texts.messages;
type FixId = keyof typeof texts.fixes;

const CAUSES = [
  'insufficient-role',
  'insufficient-scope',
  'credential-expired',
  'credential-malformed',
  'credential-invalid',
  'credential-missing',
  'feature-disabled',
  'wrong-audience',
  'ip-restricted',
  'rate-limited',
  'account-state',
  'wrong-endpoint',
  'explicit-deny',
  'resource-policy',
] as const;
type Cause = (typeof CAUSES)[number];

interface Mapping {
  id: Cause;
  weight: number;
  message: MessageId;
}

// google.api.ErrorReason (googleapis.com domain) and the IAM reason.
const REASONS: Record<string, Mapping> = {
  IAM_PERMISSION_DENIED: { id: 'insufficient-role', weight: 0.88, message: 'IAM_PERMISSION_DENIED' },
  ACCESS_TOKEN_SCOPE_INSUFFICIENT: {
    id: 'insufficient-scope',
    weight: 0.9,
    message: 'ACCESS_TOKEN_SCOPE_INSUFFICIENT',
  },
  ACCESS_TOKEN_EXPIRED: { id: 'credential-expired', weight: 0.9, message: 'ACCESS_TOKEN_EXPIRED' },
  ACCESS_TOKEN_TYPE_UNSUPPORTED: { id: 'credential-malformed', weight: 0.75, message: 'ACCESS_TOKEN_TYPE_UNSUPPORTED' },
  SERVICE_DISABLED: { id: 'feature-disabled', weight: 0.92, message: 'SERVICE_DISABLED' },
  API_DISABLED: { id: 'feature-disabled', weight: 0.9, message: 'API_DISABLED' },
  BILLING_DISABLED: { id: 'feature-disabled', weight: 0.88, message: 'BILLING_DISABLED' },
  API_KEY_INVALID: { id: 'credential-invalid', weight: 0.88, message: 'API_KEY_INVALID' },
  API_KEY_SERVICE_BLOCKED: { id: 'wrong-audience', weight: 0.85, message: 'API_KEY_SERVICE_BLOCKED' },
  API_KEY_HTTP_REFERRER_BLOCKED: { id: 'wrong-audience', weight: 0.8, message: 'API_KEY_HTTP_REFERRER_BLOCKED' },
  API_KEY_ANDROID_APP_BLOCKED: { id: 'wrong-audience', weight: 0.8, message: 'API_KEY_ANDROID_APP_BLOCKED' },
  API_KEY_IOS_APP_BLOCKED: { id: 'wrong-audience', weight: 0.8, message: 'API_KEY_IOS_APP_BLOCKED' },
  API_KEY_IP_ADDRESS_BLOCKED: { id: 'ip-restricted', weight: 0.88, message: 'API_KEY_IP_ADDRESS_BLOCKED' },
  RATE_LIMIT_EXCEEDED: { id: 'rate-limited', weight: 0.88, message: 'RATE_LIMIT_EXCEEDED' },
  RESOURCE_QUOTA_EXCEEDED: { id: 'rate-limited', weight: 0.85, message: 'RESOURCE_QUOTA_EXCEEDED' },
  USER_PROJECT_DENIED: { id: 'insufficient-role', weight: 0.82, message: 'USER_PROJECT_DENIED' },
  CONSUMER_SUSPENDED: { id: 'account-state', weight: 0.9, message: 'CONSUMER_SUSPENDED' },
  CONSUMER_INVALID: { id: 'wrong-endpoint', weight: 0.6, message: 'CONSUMER_INVALID' },
  SECURITY_POLICY_VIOLATED: { id: 'ip-restricted', weight: 0.75, message: 'SECURITY_POLICY_VIOLATED' },
};

const LEGACY: Record<string, Mapping> = {
  accessNotConfigured: REASONS.SERVICE_DISABLED,
  rateLimitExceeded: { id: 'rate-limited', weight: 0.88, message: 'rateLimitExceeded' },
  userRateLimitExceeded: { id: 'rate-limited', weight: 0.88, message: 'userRateLimitExceeded' },
  userRateLimitExceededUnreg: { id: 'rate-limited', weight: 0.85, message: 'userRateLimitExceededUnreg' },
  dailyLimitExceeded: { id: 'rate-limited', weight: 0.88, message: 'dailyLimitExceeded' },
  dailyLimitExceededUnreg: { id: 'rate-limited', weight: 0.85, message: 'dailyLimitExceededUnreg' },
  quotaExceeded: { id: 'rate-limited', weight: 0.85, message: 'quotaExceeded' },
  domainPolicy: { id: 'explicit-deny', weight: 0.75, message: 'domainPolicy' },
  insufficientFilePermissions: { id: 'resource-policy', weight: 0.8, message: 'insufficientFilePermissions' },
  appNotAuthorizedToFile: { id: 'resource-policy', weight: 0.8, message: 'appNotAuthorizedToFile' },
};

/** The declared fixes for a cause, by the reason Google gave. */
function fixesFor(id: CauseId, g: GoogleError): FixId[] {
  const reason = g.errorInfo?.reason;
  switch (id) {
    case 'feature-disabled':
      return reason === 'BILLING_DISABLED' ? ['linkBilling'] : ['enableApi', 'checkBilledProject'];
    case 'insufficient-role':
      return reason === 'USER_PROJECT_DENIED'
        ? ['serviceUsageConsumer']
        : ['principal', 'troubleshoot', 'projectRoles', 'grantRole'];
    case 'insufficient-scope':
      return ['requestScope'];
    case 'credential-expired':
    case 'credential-invalid':
    case 'credential-missing':
    case 'credential-malformed':
      return ['freshCredential'];
    case 'rate-limited':
      return ['backOff', 'quota'];
    case 'wrong-audience':
    case 'ip-restricted':
      return reason?.startsWith('API_KEY_') ? ['apiKeyRestrictions'] : ['perimeter'];
    case 'wrong-endpoint':
      return ['checkProjectId'];
    default:
      return [];
  }
}

/** Values for the fixes' placeholders: the service, consumer project, permission and resource the error names. */
function fixData(g: GoogleError): MessageData {
  const act = activation(g.message, g.errorInfo);
  const fromMsg = permissionFromMessage(g.message);
  const permission = g.errorInfo?.metadata.permission ?? fromMsg.permission;
  const resource = g.errorInfo?.metadata.resource ?? fromMsg.resource;
  const domain = g.errorInfo?.domain;
  const iamResource = resource
    ? resource.startsWith('//')
      ? resource
      : `//${domain && domain !== 'iam.googleapis.com' && domain !== 'googleapis.com' ? domain : 'cloudresourcemanager.googleapis.com'}/${resource}`
    : act.project
      ? `//cloudresourcemanager.googleapis.com/projects/${act.project}`
      : '//cloudresourcemanager.googleapis.com/projects/PROJECT_ID';
  return {
    consumerProject: act.project ?? 'PROJECT_ID',
    apiName: act.service ?? 'the API',
    apiId: act.service ?? 'SERVICE.googleapis.com',
    apiShort: act.service ?? 'SERVICE',
    iamResource,
    iamPermission: permission ?? 'PERMISSION',
    permissionText: permission ?? 'the permission',
    roleProject: act.project ?? /projects\/([^/]+)/.exec(resource ?? '')?.[1] ?? 'PROJECT_ID',
  };
}

export default defineProducer({
  meta: {
    id: 'google-apis',
    product: 'google-apis',
    layer: 'cloud-iam',
    causes: CAUSES,
    // Products with their own rule answer in the same model: those rules name them.
    yieldsTo: ['google-cloud-storage', 'google-cloud-run'],
    statuses: [401, 403, 429],
    ...texts,
  },
  recognise(ctx) {
    const g = googleError(ctx);
    const found = signals();
    if (g?.typed)
      found.add(0.93, ev('body:error.details', 'google.rpc error details (type.googleapis.com/google.rpc.*)'));
    if (g?.errorInfo?.domain && /googleapis\.com$/.test(g.errorInfo.domain))
      found.add(0.95, ev('body:error.details.ErrorInfo.domain', g.errorInfo.domain));
    if (g?.status && CANONICAL.has(g.status)) found.add(0.8, ev('body:error.status', g.status));
    if (g?.legacyReasons.length) found.add(0.75, ev('body:error.errors.reason', g.legacyReasons.join(', ')));
    const server = ctx.header('server');
    if (server && GOOGLE_SERVER.test(server) && g) found.add(0.95, ev('header:server', server));
    const www = ctx.header('www-authenticate');
    if (www && /realm="https:\/\/accounts\.google\.com\/"/.test(www))
      found.add(0.95, ev('header:www-authenticate', 'realm https://accounts.google.com/'));
    const host = ctx.url?.hostname ?? '';
    if (/(^|\.)googleapis\.com$/.test(host) && g) found.add(0.95, ev('request:url', `host ${host}`));
    const recognised = found.result({ g });
    if (FIREBASE_HOST.test(host)) recognised.confidence = Math.min(recognised.confidence, 0.45);
    return recognised;
  },
  explain(_ctx, { g }, report) {
    if (!g) return;
    const msgEv = ev('body:error.message', g.message);
    const fixes = fixData(g);
    const claim = (
      m: Mapping,
      source: Evidence,
      details: { message?: MessageId; data?: MessageData; gap?: Gap } = {},
    ) =>
      report.claim(m.id, details.message ?? m.message, m.weight, {
        data: { ...fixes, ...details.data },
        evidence: [source, msgEv],
        fixes: fixesFor(m.id, g),
        gap: details.gap,
      });
    const on = (resource: string | undefined) => (resource ? ` on ${resource}` : '');

    const info = g.errorInfo;
    if (info && REASONS[info.reason]) {
      const m = REASONS[info.reason];
      const source = ev(
        'body:error.details.ErrorInfo.reason',
        `${info.reason}${info.domain ? ` (${info.domain})` : ''}`,
      );
      if (m.id === 'insufficient-role') {
        const fromMsg = permissionFromMessage(g.message);
        const permission = info.metadata.permission ?? fromMsg.permission;
        const resource = info.metadata.resource ?? fromMsg.resource;
        if (permission)
          claim(m, source, {
            message: 'iamPermission',
            data: { permission, on: on(resource) },
            gap: { required: [`${permission}${on(resource)}`], held: [] },
          });
        else claim(m, source);
      } else if (m.id === 'feature-disabled' && info.reason !== 'BILLING_DISABLED') {
        const act = activation(g.message, info);
        if (act.service)
          claim(m, source, {
            message: 'serviceNotEnabled',
            data: { service: act.service, project: act.project ?? '(unknown)' },
            gap: { required: [`${act.service} enabled in ${act.project ?? 'the consumer project'}`], held: [] },
          });
        else claim(m, source);
      } else claim(m, source);
      return;
    }
    let claimed = false;
    for (const r of g.legacyReasons) {
      const m = LEGACY[r];
      if (!m) continue;
      claimed = true;
      const source = ev('body:error.errors.reason', r);
      const act = r === 'accessNotConfigured' ? activation(g.message) : {};
      if (act.service)
        claim(m, source, {
          message: 'serviceNotEnabledShort',
          data: { service: act.service, project: act.project ?? '(unknown)' },
        });
      else claim(m, source);
    }
    if (claimed) return;

    // Messages Google uses verbatim when no ErrorInfo says more.
    const msg = g.message;
    const status = ev('body:error.status', g.status ?? String(g.code));
    if (/insufficient authentication scopes/i.test(msg))
      claim(
        REASONS.ACCESS_TOKEN_SCOPE_INSUFFICIENT,
        ev('body:error.message', 'Google’s wording for a token without the needed scope'),
      );
    else if (/has not been used in project .* before or it is disabled/i.test(msg)) {
      const act = activation(msg);
      const source = ev('body:error.message', 'Google’s wording for a disabled API');
      if (act.service)
        claim(REASONS.SERVICE_DISABLED, source, {
          message: 'serviceNotEnabledShort',
          data: { service: act.service, project: act.project ?? '(unknown)' },
        });
      else claim(REASONS.SERVICE_DISABLED, source);
    } else if (/missing required authentication credential|Login Required/i.test(msg))
      claim({ id: 'credential-missing', weight: 0.85, message: 'noCredential' }, status);
    else if (/invalid authentication credentials|Invalid Credentials/i.test(msg))
      claim({ id: 'credential-invalid', weight: 0.8, message: 'credentialRefused' }, status);
    else if (
      g.status === 'PERMISSION_DENIED' ||
      g.legacyReasons.includes('forbidden') ||
      g.legacyReasons.includes('insufficientPermissions')
    ) {
      const { permission, resource } = permissionFromMessage(msg);
      const source = ev('body:error.status', g.status ?? g.legacyReasons.join(', '));
      if (permission)
        claim({ id: 'insufficient-role', weight: 0.8, message: 'permissionNamed' }, source, {
          data: { permission, on: on(resource) },
          gap: { required: [`${permission}${on(resource)}`], held: [] },
        });
      else claim({ id: 'insufficient-role', weight: 0.55, message: 'permissionUnnamed' }, source);
    } else if (g.status === 'RESOURCE_EXHAUSTED') claim(LEGACY.quotaExceeded, ev('body:error.status', g.status));
  },
});
