// Google APIs (googleapis.com) share one error model: {"error": {code, message,
// status, details[]}} where a google.rpc.ErrorInfo names the reason in a
// machine-readable way, and the older {"error": {errors[{domain, reason}]}}.
// Reasons map to causes one to one; ErrorInfo metadata carries the near miss
// (permission, service, consumer project).
import { defineProducer, ev, signals, type Context, type Evidence, type Fix, type Gap } from '../define.ts';
import type { MessageData } from '../define.ts';
import type { CauseId } from '../../model/vocabulary.ts';

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

const principalFix: Fix = {
  title: 'Check which principal the request ran as (ADC, service account key, impersonation)',
  difficulty: 'easy',
  commands: [
    'gcloud auth list',
    'gcloud auth application-default print-access-token | cut -c1-20   # confirms ADC works; the principal is the account above or GOOGLE_APPLICATION_CREDENTIALS',
  ],
};

function roleFixes(
  permission: string | undefined,
  resource: string | undefined,
  domain: string | undefined,
  project: string | undefined,
): Fix[] {
  const fullResource = resource
    ? resource.startsWith('//')
      ? resource
      : `//${domain && domain !== 'iam.googleapis.com' && domain !== 'googleapis.com' ? domain : 'cloudresourcemanager.googleapis.com'}/${resource}`
    : project
      ? `//cloudresourcemanager.googleapis.com/projects/${project}`
      : '//cloudresourcemanager.googleapis.com/projects/PROJECT_ID';
  const proj = project ?? /projects\/([^/]+)/.exec(resource ?? '')?.[1] ?? 'PROJECT_ID';
  return [
    principalFix,
    {
      title: 'Ask IAM why the permission is missing (allow and deny policies, inherited from folder and organization)',
      difficulty: 'easy',
      commands: [
        `gcloud policy-intelligence troubleshoot-policy iam ${fullResource} --principal-email=PRINCIPAL_EMAIL --permission=${permission ?? 'PERMISSION'}`,
      ],
      verify: 'The troubleshooter reports the permission as granted after the fix.',
      docs: 'https://cloud.google.com/sdk/gcloud/reference/policy-intelligence/troubleshoot-policy/iam',
    },
    { title: 'See the roles the principal holds on the project', difficulty: 'easy', commands: [`gcloud projects get-iam-policy ${proj} --flatten="bindings[].members" --filter="bindings.members:PRINCIPAL_EMAIL" --format="table(bindings.role)"`] },
    {
      title: `Grant a role that contains ${permission ?? 'the permission'} (pick the narrowest predefined role that lists it)`,
      difficulty: 'medium',
      commands: [
        `gcloud projects add-iam-policy-binding ${proj} --member=serviceAccount:PRINCIPAL_EMAIL --role=ROLE_ID   # or user:EMAIL`,
      ],
      docs: 'https://cloud.google.com/iam/docs/permissions-reference',
    },
  ];
}

const MESSAGES = {
  IAM_PERMISSION_DENIED: 'IAM denied the request: the principal lacks a permission on the resource.',
  ACCESS_TOKEN_SCOPE_INSUFFICIENT:
    'The OAuth access token does not carry any of the scopes this API accepts; IAM was not even consulted.',
  ACCESS_TOKEN_EXPIRED: 'The OAuth access token has expired.',
  ACCESS_TOKEN_TYPE_UNSUPPORTED: 'This API does not accept the kind of access token that was sent.',
  SERVICE_DISABLED: 'The API is not enabled in the consumer project the request was billed to.',
  API_DISABLED: 'The API is not enabled for this project.',
  BILLING_DISABLED: 'The billing account of the consumer project is disabled or missing.',
  API_KEY_INVALID: 'The API key is invalid, deleted or malformed.',
  API_KEY_SERVICE_BLOCKED:
    'The API key’s API restrictions do not include this service: it is a valid key for other APIs.',
  API_KEY_HTTP_REFERRER_BLOCKED: 'The API key is restricted to other HTTP referrers than the one this request carried.',
  API_KEY_ANDROID_APP_BLOCKED: 'The API key is restricted to other Android apps.',
  API_KEY_IOS_APP_BLOCKED: 'The API key is restricted to other iOS apps.',
  API_KEY_IP_ADDRESS_BLOCKED: 'The API key is restricted to other client IP addresses.',
  RATE_LIMIT_EXCEEDED: 'A rate quota of the consumer project is used up; this is not a permission problem.',
  RESOURCE_QUOTA_EXCEEDED: 'A resource quota of the consumer project is used up; this is not a permission problem.',
  USER_PROJECT_DENIED:
    'The caller may not bill requests to the user project it named (it needs serviceusage.services.use there).',
  CONSUMER_SUSPENDED: 'The consumer project is suspended.',
  CONSUMER_INVALID:
    'The consumer project the request named does not exist, is malformed or was deleted — typically a wrong project ID in GOOGLE_CLOUD_PROJECT, x-goog-user-project or the quota project.',
  SECURITY_POLICY_VIOLATED:
    'VPC Service Controls refused the request: it crosses a service perimeter from outside the allowed networks or identities.',
  rateLimitExceeded: 'Google’s per-project or per-user rate limit answered 403; this is not a permission problem.',
  userRateLimitExceeded: 'The per-user rate limit answered 403; this is not a permission problem.',
  userRateLimitExceededUnreg:
    'The unregistered per-user rate limit answered 403: the request carried no project (API key or OAuth client).',
  dailyLimitExceeded: 'The project’s daily quota is used up; this is not a permission problem.',
  dailyLimitExceededUnreg: 'The daily quota for unregistered use is used up: send an API key or OAuth client.',
  quotaExceeded: 'A quota is used up; this is not a permission problem.',
  domainPolicy: 'A Google Workspace domain policy set by the administrator forbids this access for the app or user.',
  insufficientFilePermissions: 'The user has no sufficient access to this file (its sharing settings).',
  appNotAuthorizedToFile:
    'The app was not granted access to this file (drive.file scope covers only files the app opened or created).',
  iamPermission:
    'IAM denied the request: the principal lacks {{permission}}{{on}} (or the resource does not exist — Google answers both the same way).',
  serviceNotEnabled:
    '{{service}} is not enabled in project {{project}}; enable it there, or bill the request to a project where it is enabled.',
  serviceNotEnabledShort: '{{service}} is not enabled in project {{project}}.',
  noCredential: 'No credential reached the API.',
  credentialRefused: 'The API did not accept the credential: expired, revoked or not a Google OAuth token.',
  permissionNamed: 'The principal lacks {{permission}}{{on}}.',
  permissionUnnamed: 'The caller does not have permission for this call; the message does not name which.',
} as const;
type MessageId = keyof typeof MESSAGES;

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

function fixesFor(id: CauseId, g: GoogleError): Fix[] {
  const act = activation(g.message, g.errorInfo);
  const project = act.project ?? 'PROJECT_ID';
  switch (id) {
    case 'feature-disabled':
      if (g.errorInfo?.reason === 'BILLING_DISABLED')
        return [
          {
            title: 'Link the project to an active billing account',
            difficulty: 'medium',
            commands: [
              'gcloud billing accounts list',
              `gcloud billing projects link ${project} --billing-account=BILLING_ACCOUNT_ID`,
            ],
            docs: 'https://cloud.google.com/billing/docs/how-to/modify-project',
          },
        ];
      return [
        {
          title: `Enable ${act.service ?? 'the API'} in project ${project}`,
          difficulty: 'easy',
          commands: [`gcloud services enable ${act.service ?? 'SERVICE.googleapis.com'} --project=${project}`],
          verify: `gcloud services list --enabled --project=${project} | grep ${act.service ?? 'SERVICE'}; allow a few minutes to propagate.`,
          docs: 'https://cloud.google.com/service-usage/docs/enable-disable',
        },
        {
          title:
            'If it is enabled elsewhere, check which project the request is billed to (quota project, GOOGLE_CLOUD_PROJECT, x-goog-user-project)',
          difficulty: 'easy',
          commands: ['gcloud config get-value project', 'gcloud auth application-default set-quota-project PROJECT_ID'],
        },
      ];
    case 'insufficient-role': {
      const fromMsg = permissionFromMessage(g.message);
      const permission = g.errorInfo?.metadata.permission ?? fromMsg.permission;
      const resource = g.errorInfo?.metadata.resource ?? fromMsg.resource;
      if (g.errorInfo?.reason === 'USER_PROJECT_DENIED')
        return [
          {
            title: 'Grant Service Usage Consumer on the user project, or stop naming a user project',
            difficulty: 'medium',
            commands: [
              `gcloud projects add-iam-policy-binding ${project} --member=user:EMAIL --role=roles/serviceusage.serviceUsageConsumer`,
            ],
            docs: 'https://cloud.google.com/apis/docs/system-parameters',
          },
        ];
      return roleFixes(permission, resource, g.errorInfo?.domain, act.project);
    }
    case 'insufficient-scope':
      return [
        {
          title:
            'Request a token with the needed scope (cloud-platform covers Google Cloud APIs; Workspace APIs need their own)',
          difficulty: 'easy',
          commands: [
            'gcloud auth application-default login --scopes=https://www.googleapis.com/auth/cloud-platform,SCOPE_URL',
            '# service account: pass scopes when building credentials; on GCE/GKE the VM’s access scopes also cap the token',
          ],
          verify: 'curl -s "https://oauth2.googleapis.com/tokeninfo?access_token=$TOKEN" lists the scope.',
          docs: 'https://developers.google.com/identity/protocols/oauth2/scopes',
        },
      ];
    case 'credential-expired':
    case 'credential-invalid':
    case 'credential-missing':
    case 'credential-malformed':
      return [
        { title: 'Get a fresh credential and send it as "Authorization: Bearer TOKEN" (or a valid API key)', difficulty: 'easy', commands: ['gcloud auth application-default login', 'gcloud auth print-access-token'] },
      ];
    case 'rate-limited':
      return [
        { title: 'Back off and retry with exponential delay', difficulty: 'easy' },
        {
          title: 'Look at the quota and request more if the traffic is legitimate',
          difficulty: 'medium',
          commands: [
            `open "https://console.cloud.google.com/apis/api/${act.service ?? 'SERVICE'}/quotas?project=${project}"`,
          ],
          docs: 'https://cloud.google.com/docs/quotas/view-manage',
        },
      ];
    case 'wrong-audience':
    case 'ip-restricted':
      if (g.errorInfo?.reason?.startsWith('API_KEY_'))
        return [
          {
            title: 'Edit the API key’s restrictions (API, referrer, IP, app) or use a key meant for this caller',
            difficulty: 'easy',
            commands: ['gcloud services api-keys list', 'gcloud services api-keys describe KEY_ID'],
            docs: 'https://cloud.google.com/docs/authentication/api-keys#api_key_restrictions',
          },
        ];
      return [
        { title: 'Find the perimeter and access level that refused the request (the ErrorInfo uid identifies it in the audit log)', difficulty: 'hard', docs: 'https://cloud.google.com/vpc-service-controls/docs/troubleshooting' },
      ];
    case 'wrong-endpoint':
      return [
        { title: 'Check the project ID the client sends (project ID, not display name)', difficulty: 'easy', commands: ['gcloud projects list', 'echo $GOOGLE_CLOUD_PROJECT'] },
      ];
    default:
      return [];
  }
}

export default defineProducer({
  meta: {
    id: 'google-apis',
    product: 'google-apis',
    layer: 'cloud-iam',
    description:
      'Google APIs error model (google.rpc.Status with ErrorInfo reasons, and the legacy errors[].reason list): IAM permission denied, token scopes, disabled APIs and billing, API key restrictions, quotas, VPC Service Controls.',
    docs: [
      'https://cloud.google.com/apis/design/errors',
      'https://github.com/googleapis/googleapis/blob/master/google/api/error_reason.proto',
      'https://cloud.google.com/iam/docs/troubleshooting-access',
      'https://cloud.google.com/sdk/gcloud/reference/policy-intelligence/troubleshoot-policy/iam',
    ],
    causes: CAUSES,
    // Products with their own rule answer in the same model: those rules name them.
    yieldsTo: ['google-cloud-storage', 'google-cloud-run'],
    statuses: [401, 403, 429],
    messages: MESSAGES,
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
    const claim = (
      m: Mapping,
      source: Evidence,
      details: { message?: MessageId; data?: MessageData; gap?: Gap } = {},
    ) =>
      report.claim(m.id, details.message ?? m.message, m.weight, {
        data: details.data,
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
