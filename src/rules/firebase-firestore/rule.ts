// Cloud Firestore's REST API answers in Google's JSON error model, but two of
// its denials are its own: Security Rules refusing a client request ("Missing
// or insufficient permissions.") and an unauthenticated call. Security Rules
// apply only to client credentials (API key + Firebase Auth ID token); server
// SDKs with IAM credentials bypass them, so the fixes differ by credential.
import { defineProducer, ev, signals, type Context, type Fix } from '../define.ts';

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

function rulesFixes(project: string, path: string | undefined, method: string): Fix[] {
  const op = method === 'GET' ? 'get/list' : 'create/update/delete';
  return [
    {
      title: `Open Firestore → Rules and find the match block for ${path ? `/${path}` : 'this path'}; check the allow ${op} condition`,
      difficulty: 'easy',
      commands: [
        `open "https://console.firebase.google.com/project/${project}/firestore/rules"`,
        'firebase firestore:rules:get   # or read firestore.rules in your project',
      ],
      verify: `In the Rules Playground (Firestore → Rules → Rules Playground), simulate ${method === 'GET' ? 'get' : 'update'} on /${path ?? 'COLLECTION/DOC'} with the same authentication state: it reports which rule allows or denies.`,
      docs: 'https://firebase.google.com/docs/firestore/security/get-started',
    },
    {
      title:
        'If the rule needs request.auth, send the Firebase Auth ID token (Authorization: Bearer ID_TOKEN); an API key alone is an unauthenticated client',
      difficulty: 'easy',
      commands: [
        'curl -H "Authorization: Bearer $FIREBASE_ID_TOKEN" "https://firestore.googleapis.com/v1/projects/PROJECT/databases/(default)/documents/PATH"',
      ],
      verify:
        'The same request with the ID token answers 200; the Rules Playground with "Authenticated" set allows it.',
      docs: 'https://firebase.google.com/docs/firestore/use-rest-api#authentication_and_authorization',
    },
    {
      title: 'Test the rule change locally before deploying it',
      difficulty: 'medium',
      commands: ['firebase emulators:start --only firestore', 'firebase deploy --only firestore:rules'],
      verify:
        'The emulator’s request log (Firestore tab of the Emulator UI) shows the request allowed, with the rule that matched.',
      docs: 'https://firebase.google.com/docs/rules/emulator-setup',
    },
  ];
}

const FRESH_TOKEN_FIX: Fix = {
  title: 'Get a fresh ID token (client) or access token (server) and send it as Authorization: Bearer',
  difficulty: 'easy',
  commands: [
    'firebase.auth().currentUser.getIdToken(/* forceRefresh */ true)   # client apps',
    'gcloud auth print-access-token   # server / admin use',
  ],
  verify: 'The same request with the new token answers 200.',
  docs: 'https://firebase.google.com/docs/firestore/use-rest-api#authentication_and_authorization',
};

function iamRoleFix(project: string): Fix {
  return {
    title: 'Grant the principal a Firestore role (roles/datastore.user or roles/datastore.viewer) on the project',
    difficulty: 'medium',
    commands: [
      `gcloud projects add-iam-policy-binding ${project} --member=serviceAccount:SA_EMAIL --role=roles/datastore.user`,
    ],
    verify: `gcloud projects get-iam-policy ${project} --flatten="bindings[].members" --filter="bindings.members:SA_EMAIL" lists the role.`,
    docs: 'https://cloud.google.com/firestore/docs/security/iam',
  };
}

export default defineProducer({
  meta: {
    id: 'firebase-firestore',
    product: 'firebase-firestore',
    layer: 'storage',
    description:
      'Cloud Firestore REST API denials: Security Rules refusals ("Missing or insufficient permissions."), unauthenticated calls, and IAM denials of server credentials.',
    docs: [
      'https://firebase.google.com/docs/firestore/security/get-started',
      'https://firebase.google.com/docs/firestore/use-rest-api',
      'https://firebase.google.com/docs/rules/simulator',
      'https://cloud.google.com/firestore/docs/understand-error-codes',
    ],
    causes: ['resource-policy', 'credential-missing', 'credential-invalid', 'insufficient-role'],
    statuses: [401, 403],
    messages: {
      tokenRejected:
        'Firestore did not accept the bearer token: an expired Firebase ID token (they last one hour), a token of another project, or not an OAuth/ID token at all.',
      noCredential: 'Firestore saw no usable credential.',
      securityRules:
        'Firestore Security Rules denied this {{access}}{{path}}: no allow rule matched the request with its authentication state ({{sent}}).',
      iam: 'IAM denied the call: {{message}}',
    },
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
        { evidence: [msgEv], fixes: [FRESH_TOKEN_FIX] },
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
        },
        evidence: [msgEv, authEv],
        gap: {
          required: [`a Security Rules allow for ${access} on /${t.path ?? '…'}`],
          held: [bearer ? 'authenticated request' : 'unauthenticated request'],
        },
        fixes: rulesFixes(project, t.path, ctx.method),
      });
      return;
    }

    // Any other PERMISSION_DENIED text is IAM's, for server credentials.
    if (err.status === 'PERMISSION_DENIED')
      report.claim('insufficient-role', 'iam', 0.7, {
        data: { message: err.message },
        evidence: [msgEv],
        fixes: [iamRoleFix(project)],
      });
  },
});
