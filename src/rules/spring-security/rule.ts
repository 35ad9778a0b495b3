// Spring Security (and the Spring Boot error page it usually ends up on).
// Its own strings are the reliable signature: the resource server's bearer
// error descriptions and the CSRF exception messages. Spring Boot's error
// JSON ({timestamp,status,error,path}) proves Spring Boot, not Spring Security,
// so on its own it only earns a medium-confidence claim.
import { defineProducer, ev, signals, type Challenge, type Context, type Reporter } from '../define.ts';
import { challenge as challengeOf, describeChallenge } from '../_lib/challenges.ts';
import texts from './texts.json' with { type: 'json' };

const RFC6750_URI = 'https://tools.ietf.org/html/rfc6750#section-3.1';
// BearerTokenAccessDeniedHandler / BearerTokenServerAccessDeniedHandler
const INSUFFICIENT_SCOPE_TEXT = 'The request requires higher privileges than provided by the access token.';
// JwtAuthenticationProvider wraps every JwtException with this prefix.
const JWT_DECODE_PREFIX = 'An error occurred while attempting to decode the Jwt';
// NimbusJwtDecoder / NimbusReactiveJwtDecoder for an unsigned token.
const ALG_NONE = 'Unsupported algorithm of none';
// InvalidCsrfTokenException, MissingCsrfTokenException and the 6.x XOR variants.
const CSRF_MESSAGE =
  /Invalid CSRF Token|Could not verify the provided CSRF token|An expected CSRF token cannot be found/i;

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

interface BootError {
  status: number;
  error: string;
  path?: string;
  message?: string;
}

/** Spring Boot's DefaultErrorAttributes body, as served by BasicErrorController. */
function bootError(ctx: Context): BootError | undefined {
  const j = ctx.body.json;
  if (!j || typeof j !== 'object' || Array.isArray(j)) return undefined;
  const o = j as Record<string, unknown>;
  const ts = o.timestamp;
  const tsOk = typeof ts === 'number' || (typeof ts === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(ts));
  if (!tsOk || typeof o.status !== 'number' || typeof o.error !== 'string') return undefined;
  if (o.path !== undefined && typeof o.path !== 'string') return undefined;
  return {
    status: o.status,
    error: o.error,
    path: o.path as string | undefined,
    message: typeof o.message === 'string' ? o.message : undefined,
  };
}

/** Spring's docs print the parameter as error_code; the code writes error. Accept both. */
function bearerError(c: Challenge): string | undefined {
  return (c.params.error ?? c.params.error_code)?.toLowerCase();
}

function springBearer(c: Challenge | undefined): { signature: string } | undefined {
  if (!c) return undefined;
  const d = c.params.error_description ?? '';
  const uri = c.params.error_uri;
  if (d === INSUFFICIENT_SCOPE_TEXT && uri === RFC6750_URI)
    return { signature: 'Spring’s insufficient_scope description with its error_uri' };
  if (d.startsWith(JWT_DECODE_PREFIX)) return { signature: `"${JWT_DECODE_PREFIX}…"` };
  if (d === ALG_NONE && uri === RFC6750_URI) return { signature: `"${ALG_NONE}" with Spring’s error_uri` };
  return undefined;
}

function whitelabel(ctx: Context): string | undefined {
  if (ctx.body.htmlH1 === 'Whitelabel Error Page' || /<h1>Whitelabel Error Page<\/h1>/.test(ctx.body.text))
    return 'Whitelabel Error Page';
  return undefined;
}

type SpringCause =
  | 'insufficient-scope'
  | 'insufficient-role'
  | 'credential-invalid'
  | 'credential-expired'
  | 'credential-not-yet-valid'
  | 'credential-missing'
  | 'csrf';
type Fix = keyof typeof texts.fixes;
type Report = Reporter<SpringCause, keyof typeof texts.messages, Fix>;

/** Which authorization rule denied, and what its authorities are called. */
const AUTHORIZATION_FIXES: Fix[] = ['findRule', 'authorityPrefixes'];

function explainBearer(c: Challenge, report: Report): void {
  const error = bearerError(c);
  const d = c.params.error_description ?? '';
  const header = ev('header:www-authenticate', describeChallenge(c));
  if (error === 'insufficient_scope') {
    report.claim('insufficient-scope', 'scope', 0.6, { evidence: [header], fixes: ['scope', ...AUTHORIZATION_FIXES] });
  } else if (error === 'invalid_token') {
    const detail = d.replace(`${JWT_DECODE_PREFIX}: `, '');
    const data = { detail, description: d };
    const details = (fix: Fix) => ({ data, evidence: [header], fixes: [fix] });
    if (/Jwt expired at/i.test(d)) report.claim('credential-expired', 'expired', 0.8, details('freshToken'));
    else if (/Jwt used before/i.test(d)) report.claim('credential-not-yet-valid', 'notYet', 0.8, details('freshToken'));
    else report.claim('credential-invalid', d === ALG_NONE ? 'algNone' : 'invalid', 0.8, details('trustedIssuer'));
  }
}

const CSRF_FIXES: Fix[] = ['csrfToken', 'csrfIgnoreApi'];
/** What the CSRF fix's commands fill in: where to fetch the token, and the request to send again. */
const csrfData = (ctx: Context) => ({
  origin: ctx.url?.origin ?? 'https://HOST',
  url: ctx.url?.href ?? 'URL',
  requestMethod: ctx.method,
});

interface Seen {
  bearer?: Challenge;
  spring: boolean;
  boot?: BootError;
  page?: string;
  csrfMessage?: string;
}

function explainPages(ctx: Context, { boot, page, csrfMessage }: Seen, report: Report): void {
  if (csrfMessage) {
    const method = ctx.exchange.request ? ctx.method : 'state-changing';
    report.claim('csrf', 'csrf', 0.9, {
      data: { ...csrfData(ctx), method, said: csrfMessage },
      evidence: [ev('body:message', csrfMessage)],
      fixes: CSRF_FIXES,
    });
  } else if ((boot || page) && ctx.status === 403) {
    const message = boot?.message;
    const unsafe = ctx.exchange.request ? UNSAFE.has(ctx.method) : false;
    const bodyEv = boot
      ? ev(
          'body',
          `Spring Boot 403 error body${message ? ` with message "${message}"` : ' without a message (Boot hides it by default)'}`,
        )
      : ev('body', 'Whitelabel Error Page, status 403');
    const weight = message === 'Access Denied' ? 0.55 : unsafe ? 0.3 : 0.4;
    report.claim('insufficient-role', 'accessDenied', weight, { evidence: [bodyEv], fixes: AUTHORIZATION_FIXES });
    if (unsafe)
      report.claim('csrf', 'csrfLikely', 0.45, {
        data: { ...csrfData(ctx), method: ctx.method },
        evidence: [bodyEv, ev('request:method', ctx.method)],
        fixes: CSRF_FIXES,
      });
  } else if ((boot || page) && ctx.status === 401) {
    const bodyEv = boot
      ? ev('body', `Spring Boot 401 error body (error "${boot.error}")`)
      : ev('body', 'Whitelabel Error Page, status 401');
    report.claim('credential-missing', 'entryPoint', 0.45, { evidence: [bodyEv], fixes: ['authenticate'] });
  }
}

export default defineProducer({
  meta: {
    id: 'spring-security',
    product: 'spring-security',
    layer: 'application',
    causes: [
      'insufficient-scope',
      'insufficient-role',
      'credential-invalid',
      'credential-expired',
      'credential-not-yet-valid',
      'credential-missing',
      'csrf',
    ],
    ...texts,
  },
  recognise(ctx) {
    const bearer = challengeOf(ctx, 'bearer');
    const sb = springBearer(bearer);
    const boot = bootError(ctx);
    const page = whitelabel(ctx);
    const csrfMessage = boot?.message && CSRF_MESSAGE.test(boot.message) ? boot.message : undefined;
    // Spring Security's own strings are specific; Boot's error body is shared by every Boot app, secured or not.
    const found = signals();
    if (sb && bearer)
      found.add(0.92, ev('header:www-authenticate', `${sb.signature}: ${bearer.params.error_description}`));
    if (csrfMessage) found.add(0.92, ev('body:message', `Spring Security CSRF exception message: ${csrfMessage}`));
    if (boot)
      found.add(
        boot.message === 'Access Denied' ? 0.7 : 0.55,
        ev(
          'body',
          `Spring Boot error JSON (timestamp, status ${boot.status}, error "${boot.error}"${boot.path ? `, path ${boot.path}` : ''})`,
        ),
      );
    if (page) found.add(0.55, ev('body', 'Spring Boot “Whitelabel Error Page”'));
    return found.result<Seen>({ bearer, spring: Boolean(sb), boot, page, csrfMessage });
  },
  explain(ctx, seen, report) {
    if (seen.spring && seen.bearer) explainBearer(seen.bearer, report);
    explainPages(ctx, seen, report);
  },
});
