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
import { defineProducer, epochSeconds, ev, signals, type Context, type Recognition } from '../define.ts';
import { authorizationShown } from '../_lib/framework-requests.ts';
import texts from './texts.json' with { type: 'json' };

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

export default defineProducer({
  meta: {
    id: 'laravel',
    product: 'laravel',
    layer: 'application',
    causes: [
      'insufficient-role',
      'not-owner',
      'credential-missing',
      'credential-invalid',
      'credential-expired',
      'insufficient-scope',
    ],
    statuses: [401, 403],
    ...texts,
  },
  recognise(ctx) {
    // Laravel's session cookies come with every page: only its 401s and 403s name it here.
    if (ctx.status !== 401 && ctx.status !== 403) return undefined;
    return recogniseLaravel(ctx);
  },
  explain(ctx, { kind, message }, report) {
    const url = ctx.url?.href ?? 'URL';
    const path = ctx.url?.pathname ?? '/…';
    const data = {
      url,
      // The route:list filter: the path's first two segments.
      routePath: path.replace(/^\//, '').split('/').slice(0, 2).join('/'),
      // Sanctum's starter route, which answers with the user the token belongs to.
      apiUser: url.replace(/\/api\/.*$/, '/api/user'),
    };
    const body = ev('body:message', message ?? '');
    const auth = ctx.requestHeader('authorization');
    switch (kind) {
      case 'unauthorized':
        report.claim('insufficient-role', 'gateDenied', 0.6, {
          data,
          evidence: [body],
          fixes: ['routeList', 'gate'],
        });
        report.claim('not-owner', 'ownership', 0.5, { data, evidence: [body], fixes: ['owner'] });
        break;
      case 'unauthenticated':
        report.claim('credential-missing', auth ? 'tokenNotAccepted' : 'noCredential', auth ? 0.45 : 0.8, {
          data,
          evidence: [body, ev('request-header:authorization', authorizationShown(auth, 'absent'))],
          fixes: ['sanctumToken', 'routeList'],
        });
        if (auth) report.claim('credential-invalid', 'tokenRejected', 0.5, { evidence: [body], fixes: ['freshToken'] });
        break;
      case 'ability':
        report.claim('insufficient-scope', 'missingAbility', 0.9, { evidence: [body], fixes: ['ability'] });
        break;
      case 'signature': {
        const expires = ctx.url?.searchParams.get('expires');
        const expired = expires && Number(expires) * 1000 < Date.now();
        report.claim('credential-invalid', 'badSignature', expired ? 0.4 : 0.75, {
          evidence: [body],
          fixes: ['signedRoute'],
        });
        report.claim('credential-expired', 'urlExpired', expired ? 0.85 : 0.3, {
          evidence: [
            body,
            ...(expires ? [ev('request:query.expires', `${expires} (${epochSeconds(expires) ?? 'not a time'})`)] : []),
          ],
          fixes: ['temporaryRoute'],
        });
        break;
      }
    }
  },
});
