// Cloud Firestore's REST API answers in Google's JSON error model, but two of
// its denials are its own: Security Rules refusing a client request ("Missing
// or insufficient permissions.") and an unauthenticated call. Security Rules
// apply only to client credentials (API key + Firebase Auth ID token); server
// SDKs with IAM credentials bypass them, so the fixes differ by credential.
import { defineProducer, ev, signals, type Context } from '../define.ts';
import texts from './texts.json' with { type: 'json' };

const HOST = /^firestore\.googleapis\.com$/;
const RULES_MESSAGE = /^Missing or insufficient permissions\.?$/;

interface FirestoreError {
  code?: number;
  message: string;
  status?: string;
}

function errorOf(ctx: Context): FirestoreError | undefined {
  const j = ctx.body.json as Record<string, unknown> | undefined;
  const e =
    j && typeof j === 'object' && !Array.isArray(j) ? (j.error as Record<string, unknown> | undefined) : undefined;
  if (!e || typeof e !== 'object' || typeof e.message !== 'string') return undefined;
  return {
    code: typeof e.code === 'number' ? e.code : undefined,
    message: e.message,
    status: typeof e.status === 'string' ? e.status : undefined,
  };
}

/** projects/{p}/databases/{d}/documents/{path} out of the request URL. */
function target(ctx: Context): { project?: string; database?: string; path?: string } {
  const m = /\/projects\/([^/]+)\/databases\/([^/]+)\/documents(?:\/([^?:]*))?/.exec(
    decodeURIComponent(ctx.url?.pathname ?? ''),
  );
  return m ? { project: m[1], database: m[2], path: m[3] || undefined } : {};
}

export default defineProducer({
  meta: {
    id: 'firebase-firestore',
    product: 'firebase-firestore',
    layer: 'storage',
    causes: ['resource-policy', 'credential-missing', 'credential-invalid', 'insufficient-role'],
    statuses: [401, 403],
    ...texts,
  },
  recognise(ctx) {
    const host = ctx.url?.hostname ?? '';
    const err = errorOf(ctx);
    if (!HOST.test(host) || !err) return undefined;
    const found = signals().add(0, ev('request:url', `host ${host}`));
    // Google's JSON error model, answered by the Firestore host.
    found.add(0.92, ev('body:error.status', err.status ?? String(err.code ?? '')));
    return found.result({ err });
  },
  explain(ctx, { err }, report) {
    const t = target(ctx);
    const project = t.project ?? 'PROJECT_ID';
    const msgEv = ev('body:error.message', err.message);
    const bearer = /^bearer\s/i.test(ctx.requestHeader('authorization') ?? '');

    if (ctx.status === 401 || err.status === 'UNAUTHENTICATED') {
      report.claim(
        bearer ? 'credential-invalid' : 'credential-missing',
        bearer ? 'tokenRejected' : 'noCredential',
        0.8,
        { evidence: [msgEv], fixes: ['freshToken'] },
      );
      return;
    }

    if (RULES_MESSAGE.test(err.message.trim())) {
      const access = ctx.method === 'GET' ? 'read' : 'write';
      const authEv = ev(
        'request-header:authorization',
        bearer ? 'Bearer token present' : 'no Authorization header: the rules see request.auth == null',
      );
      report.claim('resource-policy', 'securityRules', 0.88, {
        data: {
          access,
          path: t.path ? ` on /${t.path}` : '',
          sent: bearer ? 'an ID token was sent' : 'no ID token was sent',
          rulePath: t.path ? `/${t.path}` : 'this path',
          op: ctx.method === 'GET' ? 'get/list' : 'create/update/delete',
          project,
          simulate: ctx.method === 'GET' ? 'get' : 'update',
          docPath: t.path ?? 'COLLECTION/DOC',
        },
        evidence: [msgEv, authEv],
        gap: {
          required: [`a Security Rules allow for ${access} on /${t.path ?? '…'}`],
          held: [bearer ? 'authenticated request' : 'unauthenticated request'],
        },
        fixes: ['rulesMatch', 'sendIdToken', 'emulator'],
      });
      return;
    }

    // Any other PERMISSION_DENIED text is IAM's, for server credentials.
    if (err.status === 'PERMISSION_DENIED')
      report.claim('insufficient-role', 'iam', 0.7, {
        data: { message: err.message, project },
        evidence: [msgEv],
        fixes: ['iamRole'],
      });
  },
});
