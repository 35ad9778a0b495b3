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
import { defineRule, ev, type CauseClaim } from '../define.ts';
import type { Context } from '../../engine/context.ts';
import type { Evidence, Fix } from '../../model/report.ts';

const AUTHZ_DOCS = 'https://laravel.com/docs/11.x/authorization';

type Kind = 'unauthorized' | 'unauthenticated' | 'ability' | 'signature';

const MESSAGES: Record<string, { kind: Kind; status: number }> = {
  'This action is unauthorized.': { kind: 'unauthorized', status: 403 },
  'Unauthenticated.': { kind: 'unauthenticated', status: 401 },
  'Invalid ability provided.': { kind: 'ability', status: 403 },
  'Invalid signature.': { kind: 'signature', status: 403 },
};

function laravelError(ctx: Context): { kind?: Kind; message?: string; evidence: Evidence[]; confidence: number } {
  const evidence: Evidence[] = [];
  let confidence = 0;
  const cookies = ctx.headers('set-cookie').join('\n');
  if (/(?:^|\n)[^\S\n]*(?:laravel_session|XSRF-TOKEN)=/.test(cookies)) {
    confidence = 0.85;
    evidence.push(ev('header:set-cookie', 'laravel_session / XSRF-TOKEN (Laravel’s session and CSRF cookies)'));
  }
  const j = ctx.body.json as Record<string, unknown> | undefined;
  if (!j || typeof j !== 'object' || Array.isArray(j) || typeof j.message !== 'string') return { evidence, confidence: evidence.length ? confidence : 0 };
  const exception = typeof j.exception === 'string' ? j.exception : undefined;
  const file = typeof j.file === 'string' ? j.file : '';
  if (exception && (/^(Illuminate|Laravel)\\/.test(exception) || /[\\/]vendor[\\/]laravel[\\/]/.test(file))) {
    confidence = Math.max(confidence, 0.95);
    evidence.push(ev('body:exception', `${exception}${file ? ` (${file})` : ''}: the APP_DEBUG error body`));
  } else if (exception === 'Symfony\\Component\\HttpKernel\\Exception\\AccessDeniedHttpException' && j.trace) {
    confidence = Math.max(confidence, 0.8);
    evidence.push(ev('body:exception', `${exception} with a trace: Laravel’s APP_DEBUG body for an AuthorizationException`));
  }
  const known = MESSAGES[j.message];
  const keys = Object.keys(j).filter((k) => !['exception', 'file', 'line', 'trace'].includes(k));
  if (known && known.status === ctx.status && keys.length === 1) {
    // A lone {"message"} holding the framework's default string; other stacks copy it, so alone it is a lean, not proof.
    const pretty = /^\{\n {4}"message": /.test(ctx.body.text);
    confidence = Math.max(confidence, pretty ? 0.7 : 0.6);
    evidence.push(ev('body:message', `"${j.message}" (Laravel’s default for this denial${pretty ? ', pretty-printed as its exception handler does' : ''})`));
  }
  return { kind: known && known.status === ctx.status ? known.kind : undefined, message: j.message, evidence, confidence };
}

function tinkerGate(url: string): string {
  return `php artisan tinker --execute="dump(Gate::forUser(App\\Models\\User::find(USER_ID))->inspect('ABILITY', \\$model)->message())"  # ${url}`;
}

export default defineRule({
  meta: {
    id: 'laravel',
    kind: 'producer',
    product: 'laravel',
    layer: 'application',
    description: 'Laravel’s JSON denials: AuthorizationException (Gate / Policy / FormRequest) "This action is unauthorized.", "Unauthenticated." from the auth middleware, Sanctum’s missing token ability, and invalid signed URLs.',
    docs: [
      AUTHZ_DOCS,
      'https://laravel.com/docs/11.x/authentication#protecting-routes',
      'https://laravel.com/docs/11.x/sanctum#token-abilities',
      'https://laravel.com/docs/11.x/urls#signed-urls',
      'https://laravel.com/docs/11.x/errors',
    ],
    causes: ['insufficient-role', 'not-owner', 'credential-missing', 'credential-invalid', 'credential-expired', 'insufficient-scope'],
  },
  applies: (ctx) => ctx.status === 401 || ctx.status === 403,
  run(ctx) {
    const sig = laravelError(ctx);
    if (!sig.confidence) return undefined;
    const producer = { product: 'laravel' as const, layer: 'application' as const, confidence: sig.confidence, evidence: sig.evidence };
    const url = ctx.url?.href ?? 'URL';
    const path = ctx.url?.pathname ?? '/…';
    const body = ev('body:message', sig.message ?? '');
    const auth = ctx.requestHeader('authorization');
    const causes: CauseClaim[] = [];
    const routeList: Fix = {
      title: 'Find the middleware and the Gate / Policy that guard this route',
      difficulty: 'easy',
      commands: [`php artisan route:list --path=${path.replace(/^\//, '').split('/').slice(0, 2).join('/')} -v`, 'grep -rn -E "Gate::(define|authorize)|->authorize\\(|can:|function authorize\\(" app routes'],
      docs: AUTHZ_DOCS,
    };

    switch (sig.kind) {
      case 'unauthorized':
        causes.push(
          {
            id: 'insufficient-role',
            weight: 0.6,
            summary: 'A Gate, Policy method or FormRequest::authorize() returned false for the signed-in user (AuthorizationException → 403). Guests fail every gate too, unless the policy accepts ?User.',
            evidence: [body],
            fixes: [
              routeList,
              { title: 'Give the user what the gate checks (role, permission), or fix the gate / policy (registered for the model, FormRequest::authorize() returning true where meant)', difficulty: 'medium', commands: ['php artisan make:policy --help'], verify: tinkerGate(url) + ' prints null and ->allowed() is true', docs: AUTHZ_DOCS },
            ],
          },
          {
            id: 'not-owner',
            weight: 0.5,
            summary: 'Laravel policies most often compare ownership ($user->id === $model->user_id); the record may belong to another user or team.',
            evidence: [body],
            fixes: [{ title: 'Check the policy’s ownership comparison against the record’s owner', difficulty: 'medium', commands: [tinkerGate(url)], verify: 'Gate::forUser($user)->allows(\'update\', $model) returns true for the owner.', docs: `${AUTHZ_DOCS}#writing-policies` }],
          },
        );
        break;
      case 'unauthenticated':
        causes.push({
          id: 'credential-missing',
          weight: auth ? 0.45 : 0.8,
          summary: auth
            ? 'The auth middleware (auth / auth:sanctum) found no user: the token sent was not accepted by this guard, or the web server dropped the Authorization header.'
            : 'The route is behind the auth middleware and no credential came with the request: no Bearer token, and no session cookie from a stateful (SANCTUM_STATEFUL_DOMAINS) origin.',
          evidence: [body, ev('request-header:authorization', auth ? `${auth.split(/\s/)[0]} …` : 'absent')],
          fixes: [
            { title: 'Send a Sanctum / Passport token as a Bearer token (or, for an SPA, first GET /sanctum/csrf-cookie and log in from a stateful domain)', difficulty: 'easy', commands: [`curl -H "Authorization: Bearer $TOKEN" -H "Accept: application/json" ${url}`], verify: `curl -H "Authorization: Bearer $TOKEN" -H "Accept: application/json" ${url.replace(/\/api\/.*$/, '/api/user')} returns the user, not {"message":"Unauthenticated."}`, docs: 'https://laravel.com/docs/11.x/sanctum#issuing-api-tokens' },
            routeList,
          ],
        });
        if (auth) causes.push({ id: 'credential-invalid', weight: 0.5, summary: 'A token was sent but the guard rejected it: revoked, expired (sanctum.expiration), or issued by another app / guard.', evidence: [body], fixes: [{ title: 'Issue a fresh token and check it exists', difficulty: 'easy', commands: ["php artisan tinker --execute=\"dump(Laravel\\Sanctum\\PersonalAccessToken::findToken('TOKEN'))\""], verify: 'findToken returns the token row (not null) and its expires_at is in the future.' }] });
        break;
      case 'ability':
        causes.push({
          id: 'insufficient-scope',
          weight: 0.9,
          summary: 'The Sanctum token is valid but lacks an ability this route requires (abilities / ability middleware, or tokenCan()).',
          evidence: [body],
          fixes: [
            {
              title: 'Issue a token with the ability the route checks',
              difficulty: 'easy',
              commands: ['php artisan route:list -v  # look for abilities:… / ability:… middleware', "php artisan tinker --execute=\"dump(App\\Models\\User::find(USER_ID)->createToken('why403', ['ABILITY'])->plainTextToken)\""],
              verify: "php artisan tinker --execute=\"dump(Laravel\\Sanctum\\PersonalAccessToken::findToken('TOKEN')->abilities)\" lists the ability.",
              docs: 'https://laravel.com/docs/11.x/sanctum#token-abilities',
            },
          ],
        });
        break;
      case 'signature': {
        const expires = ctx.url?.searchParams.get('expires');
        const expired = expires && Number(expires) * 1000 < Date.now();
        causes.push(
          {
            id: 'credential-invalid',
            weight: expired ? 0.4 : 0.75,
            summary: 'The signed URL’s signature does not match: the URL was changed after signing (query added or reordered, http vs https behind a proxy, another host) or was signed with another APP_KEY.',
            evidence: [body],
            fixes: [{ title: 'Use the URL exactly as URL::signedRoute() produced it; behind a proxy, configure TrustProxies so the scheme and host match', difficulty: 'medium', commands: ["php artisan tinker --execute=\"dump(URL::signedRoute('ROUTE_NAME', ['id' => 1]))\""], verify: "php artisan tinker --execute=\"dump(URL::hasValidSignature(Request::create('SIGNED_URL')))\" prints true.", docs: 'https://laravel.com/docs/11.x/urls#signed-urls' }],
          },
          {
            id: 'credential-expired',
            weight: expired ? 0.85 : 0.3,
            summary: 'A temporary signed URL past its expires time answers the same "Invalid signature."',
            evidence: [body, ...(expires ? [ev('request:query.expires', `${expires} (${new Date(Number(expires) * 1000).toISOString()})`)] : [])],
            fixes: [{ title: 'Generate a new temporarySignedRoute() URL', difficulty: 'easy', commands: ["php artisan tinker --execute=\"dump(URL::temporarySignedRoute('ROUTE_NAME', now()->addMinutes(30), ['id' => 1]))\""] }],
          },
        );
        break;
      }
      default:
        return { producer };
    }
    return { producer, causes };
  },
});
