// Laravel's own denials. The exception handler renders them for JSON clients
// as {"message": "..."} — HTTP exceptions pretty-printed
// (prepareJsonResponse), the 401 compact (unauthenticated()) — and with
// APP_DEBUG adds exception / file / line / trace. The messages are the
// framework's fixed defaults: AuthorizationException "This action is
// unauthorized." (403, Gate / Policy / FormRequest::authorize), the
// AuthenticationException "Unauthenticated." (401), Sanctum's
// MissingAbilityException "Invalid ability provided." (403) and
// InvalidSignatureException "Invalid signature." (403). A 419 (CSRF token
// mismatch / "Page Expired") is not a 401/403, so the engine does not treat
// it as a denial.
import { defineProducer, epochSeconds, ev, signals, type Context, type Fix, type Recognition } from '../define.ts';
import { authorizationShown } from '../_lib/framework-requests.ts';

const AUTHZ_DOCS = 'https://laravel.com/docs/11.x/authorization';

type Kind = 'unauthorized' | 'unauthenticated' | 'ability' | 'signature';

const MESSAGES: Record<string, { kind: Kind; status: number }> = {
  'This action is unauthorized.': { kind: 'unauthorized', status: 403 },
  'Unauthenticated.': { kind: 'unauthenticated', status: 401 },
  'Invalid ability provided.': { kind: 'ability', status: 403 },
  'Invalid signature.': { kind: 'signature', status: 403 },
};

function recogniseLaravel(ctx: Context): Recognition & { kind?: Kind; message?: string } {
  const found = signals();
  const cookies = ctx.headers('set-cookie').join('\n');
  if (/(?:^|\n)[^\S\n]*(?:laravel_session|XSRF-TOKEN)=/.test(cookies))
    found.add(0.85, ev('header:set-cookie', 'laravel_session / XSRF-TOKEN (Laravel’s session and CSRF cookies)'));
  const j = ctx.body.json as Record<string, unknown> | undefined;
  if (!j || typeof j !== 'object' || Array.isArray(j) || typeof j.message !== 'string') return found.result();
  const exception = typeof j.exception === 'string' ? j.exception : undefined;
  const file = typeof j.file === 'string' ? j.file : '';
  if (exception && (/^(Illuminate|Laravel)\\/.test(exception) || /[\\/]vendor[\\/]laravel[\\/]/.test(file)))
    found.add(0.95, ev('body:exception', `${exception}${file ? ` (${file})` : ''}: the APP_DEBUG error body`));
  else if (exception === 'Symfony\\Component\\HttpKernel\\Exception\\AccessDeniedHttpException' && j.trace)
    found.add(
      0.8,
      ev('body:exception', `${exception} with a trace: Laravel’s APP_DEBUG body for an AuthorizationException`),
    );
  const known = MESSAGES[j.message];
  const kind = known && known.status === ctx.status ? known.kind : undefined;
  const keys = Object.keys(j).filter((k) => !['exception', 'file', 'line', 'trace'].includes(k));
  if (kind && keys.length === 1) {
    // A lone {"message"} holding the framework's default string; other stacks copy it, so alone it is a lean, not proof.
    const pretty = /^\{\n {4}"message": /.test(ctx.body.text);
    found.add(
      pretty ? 0.7 : 0.6,
      ev(
        'body:message',
        `"${j.message}" (Laravel’s default for this denial${pretty ? ', pretty-printed as its exception handler does' : ''})`,
      ),
    );
  }
  return found.result({ kind, message: j.message });
}

function tinkerGate(url: string): string {
  return `php artisan tinker --execute="dump(Gate::forUser(App\\Models\\User::find(USER_ID))->inspect('ABILITY', \\$model)->message())"  # ${url}`;
}

const routeListFix = (path: string): Fix => ({
  title: 'Find the middleware and the Gate / Policy that guard this route',
  difficulty: 'easy',
  commands: [
    `php artisan route:list --path=${path.replace(/^\//, '').split('/').slice(0, 2).join('/')} -v`,
    'grep -rn -E "Gate::(define|authorize)|->authorize\\(|can:|function authorize\\(" app routes',
  ],
  docs: AUTHZ_DOCS,
});

const gateFix = (url: string): Fix => ({
  title:
    'Give the user what the gate checks (role, permission), or fix the gate / policy (registered for the model, FormRequest::authorize() returning true where meant)',
  difficulty: 'medium',
  commands: ['php artisan make:policy --help'],
  verify: tinkerGate(url) + ' prints null and ->allowed() is true',
  docs: AUTHZ_DOCS,
});

const ownerFix = (url: string): Fix => ({
  title: 'Check the policy’s ownership comparison against the record’s owner',
  difficulty: 'medium',
  commands: [tinkerGate(url)],
  verify: "Gate::forUser($user)->allows('update', $model) returns true for the owner.",
  docs: `${AUTHZ_DOCS}#writing-policies`,
});

const sanctumTokenFix = (url: string): Fix => ({
  title:
    'Send a Sanctum / Passport token as a Bearer token (or, for an SPA, first GET /sanctum/csrf-cookie and log in from a stateful domain)',
  difficulty: 'easy',
  commands: [`curl -H "Authorization: Bearer $TOKEN" -H "Accept: application/json" ${url}`],
  verify: `curl -H "Authorization: Bearer $TOKEN" -H "Accept: application/json" ${url.replace(/\/api\/.*$/, '/api/user')} returns the user, not {"message":"Unauthenticated."}`,
  docs: 'https://laravel.com/docs/11.x/sanctum#issuing-api-tokens',
});

const FRESH_TOKEN_FIX: Fix = {
  title: 'Issue a fresh token and check it exists',
  difficulty: 'easy',
  commands: ['php artisan tinker --execute="dump(Laravel\\Sanctum\\PersonalAccessToken::findToken(\'TOKEN\'))"'],
  verify: 'findToken returns the token row (not null) and its expires_at is in the future.',
};

const ABILITY_FIX: Fix = {
  title: 'Issue a token with the ability the route checks',
  difficulty: 'easy',
  commands: [
    'php artisan route:list -v  # look for abilities:… / ability:… middleware',
    "php artisan tinker --execute=\"dump(App\\Models\\User::find(USER_ID)->createToken('why403', ['ABILITY'])->plainTextToken)\"",
  ],
  verify:
    'php artisan tinker --execute="dump(Laravel\\Sanctum\\PersonalAccessToken::findToken(\'TOKEN\')->abilities)" lists the ability.',
  docs: 'https://laravel.com/docs/11.x/sanctum#token-abilities',
};

const SIGNED_ROUTE_FIX: Fix = {
  title:
    'Use the URL exactly as URL::signedRoute() produced it; behind a proxy, configure TrustProxies so the scheme and host match',
  difficulty: 'medium',
  commands: ["php artisan tinker --execute=\"dump(URL::signedRoute('ROUTE_NAME', ['id' => 1]))\""],
  verify: 'php artisan tinker --execute="dump(URL::hasValidSignature(Request::create(\'SIGNED_URL\')))" prints true.',
  docs: 'https://laravel.com/docs/11.x/urls#signed-urls',
};

const TEMPORARY_ROUTE_FIX: Fix = {
  title: 'Generate a new temporarySignedRoute() URL',
  difficulty: 'easy',
  commands: [
    "php artisan tinker --execute=\"dump(URL::temporarySignedRoute('ROUTE_NAME', now()->addMinutes(30), ['id' => 1]))\"",
  ],
};

export default defineProducer({
  meta: {
    id: 'laravel',
    product: 'laravel',
    layer: 'application',
    description:
      'Laravel’s JSON denials: AuthorizationException (Gate / Policy / FormRequest) "This action is unauthorized.", "Unauthenticated." from the auth middleware, Sanctum’s missing token ability, and invalid signed URLs.',
    docs: [
      AUTHZ_DOCS,
      'https://laravel.com/docs/11.x/authentication#protecting-routes',
      'https://laravel.com/docs/11.x/sanctum#token-abilities',
      'https://laravel.com/docs/11.x/urls#signed-urls',
      'https://laravel.com/docs/11.x/errors',
    ],
    causes: [
      'insufficient-role',
      'not-owner',
      'credential-missing',
      'credential-invalid',
      'credential-expired',
      'insufficient-scope',
    ],
    statuses: [401, 403],
    messages: {
      gateDenied:
        'A Gate, Policy method or FormRequest::authorize() returned false for the signed-in user (AuthorizationException → 403). Guests fail every gate too, unless the policy accepts ?User.',
      ownership:
        'Laravel policies most often compare ownership ($user->id === $model->user_id); the record may belong to another user or team.',
      tokenNotAccepted:
        'The auth middleware (auth / auth:sanctum) found no user: the token sent was not accepted by this guard, or the web server dropped the Authorization header.',
      noCredential:
        'The route is behind the auth middleware and no credential came with the request: no Bearer token, and no session cookie from a stateful (SANCTUM_STATEFUL_DOMAINS) origin.',
      tokenRejected:
        'A token was sent but the guard rejected it: revoked, expired (sanctum.expiration), or issued by another app / guard.',
      missingAbility:
        'The Sanctum token is valid but lacks an ability this route requires (abilities / ability middleware, or tokenCan()).',
      badSignature:
        'The signed URL’s signature does not match: the URL was changed after signing (query added or reordered, http vs https behind a proxy, another host) or was signed with another APP_KEY.',
      urlExpired: 'A temporary signed URL past its expires time answers the same "Invalid signature."',
    },
  },
  recognise(ctx) {
    // Laravel's session cookies come with every page: only its 401s and 403s name it here.
    if (ctx.status !== 401 && ctx.status !== 403) return undefined;
    return recogniseLaravel(ctx);
  },
  explain(ctx, { kind, message }, report) {
    const url = ctx.url?.href ?? 'URL';
    const body = ev('body:message', message ?? '');
    const auth = ctx.requestHeader('authorization');
    switch (kind) {
      case 'unauthorized':
        report.claim('insufficient-role', 'gateDenied', 0.6, {
          evidence: [body],
          fixes: [routeListFix(ctx.url?.pathname ?? '/…'), gateFix(url)],
        });
        report.claim('not-owner', 'ownership', 0.5, { evidence: [body], fixes: [ownerFix(url)] });
        break;
      case 'unauthenticated':
        report.claim('credential-missing', auth ? 'tokenNotAccepted' : 'noCredential', auth ? 0.45 : 0.8, {
          evidence: [body, ev('request-header:authorization', authorizationShown(auth, 'absent'))],
          fixes: [sanctumTokenFix(url), routeListFix(ctx.url?.pathname ?? '/…')],
        });
        if (auth)
          report.claim('credential-invalid', 'tokenRejected', 0.5, { evidence: [body], fixes: [FRESH_TOKEN_FIX] });
        break;
      case 'ability':
        report.claim('insufficient-scope', 'missingAbility', 0.9, { evidence: [body], fixes: [ABILITY_FIX] });
        break;
      case 'signature': {
        const expires = ctx.url?.searchParams.get('expires');
        const expired = expires && Number(expires) * 1000 < Date.now();
        report.claim('credential-invalid', 'badSignature', expired ? 0.4 : 0.75, {
          evidence: [body],
          fixes: [SIGNED_ROUTE_FIX],
        });
        report.claim('credential-expired', 'urlExpired', expired ? 0.85 : 0.3, {
          evidence: [
            body,
            ...(expires
              ? [ev('request:query.expires', `${expires} (${epochSeconds(expires) ?? 'not a time'})`)]
              : []),
          ],
          fixes: [TEMPORARY_ROUTE_FIX],
        });
        break;
      }
    }
  },
});
