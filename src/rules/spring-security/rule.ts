// Spring Security (and the Spring Boot error page it usually ends up on).
// Its own strings are the reliable signature: the resource server's bearer
// error descriptions and the CSRF exception messages. Spring Boot's error
// JSON ({timestamp,status,error,path}) proves Spring Boot, not Spring Security,
// so on its own it only earns a medium-confidence claim.
import { defineRule, ev, type CauseClaim } from '../define.ts';
import type { Context } from '../../engine/context.ts';
import type { Challenge } from '../../engine/www-authenticate.ts';
import type { Evidence, Fix } from '../../model/report.ts';

const RFC6750_URI = 'https://tools.ietf.org/html/rfc6750#section-3.1';
// BearerTokenAccessDeniedHandler / BearerTokenServerAccessDeniedHandler
const INSUFFICIENT_SCOPE_TEXT = 'The request requires higher privileges than provided by the access token.';
// JwtAuthenticationProvider wraps every JwtException with this prefix.
const JWT_DECODE_PREFIX = 'An error occurred while attempting to decode the Jwt';
// NimbusJwtDecoder / NimbusReactiveJwtDecoder for an unsigned token.
const ALG_NONE = 'Unsupported algorithm of none';
// InvalidCsrfTokenException, MissingCsrfTokenException and the 6.x XOR variants.
const CSRF_MESSAGE = /Invalid CSRF Token|Could not verify the provided CSRF token|An expected CSRF token cannot be found/i;

const CSRF_DOCS = 'https://docs.spring.io/spring-security/reference/servlet/exploits/csrf.html';
const RS_DOCS = 'https://docs.spring.io/spring-security/reference/servlet/oauth2/resource-server/index.html';
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
  return { status: o.status, error: o.error, path: o.path as string | undefined, message: typeof o.message === 'string' ? o.message : undefined };
}

function bearer(ctx: Context): Challenge | undefined {
  return ctx.challenges.find((c) => c.scheme.toLowerCase() === 'bearer');
}

/** Spring's docs print the parameter as error_code; the code writes error. Accept both. */
function bearerError(c: Challenge): string | undefined {
  return (c.params.error ?? c.params.error_code)?.toLowerCase();
}

function springBearer(c: Challenge | undefined): { signature: string } | undefined {
  if (!c) return undefined;
  const d = c.params.error_description ?? '';
  const uri = c.params.error_uri;
  if (d === INSUFFICIENT_SCOPE_TEXT && uri === RFC6750_URI) return { signature: 'Spring’s insufficient_scope description with its error_uri' };
  if (d.startsWith(JWT_DECODE_PREFIX)) return { signature: `"${JWT_DECODE_PREFIX}…"` };
  if (d === ALG_NONE && uri === RFC6750_URI) return { signature: `"${ALG_NONE}" with Spring’s error_uri` };
  return undefined;
}

function whitelabel(ctx: Context): string | undefined {
  if (ctx.body.htmlH1 === 'Whitelabel Error Page' || /<h1>Whitelabel Error Page<\/h1>/.test(ctx.body.text)) return 'Whitelabel Error Page';
  return undefined;
}

const csrfFixes = (ctx: Context): Fix[] => [
  {
    title: 'Send the CSRF token with the request (header X-XSRF-TOKEN / X-CSRF-TOKEN or form field _csrf)',
    difficulty: 'easy',
    commands: [
      '# with CookieCsrfTokenRepository: read the XSRF-TOKEN cookie from a prior GET and echo it back',
      `curl -c jar -b jar ${ctx.url?.origin ?? 'https://HOST'}/  # obtains XSRF-TOKEN`,
      `curl -b jar -H "X-XSRF-TOKEN: $(awk '$6=="XSRF-TOKEN"{print $7}' jar)" -X ${ctx.method} ${ctx.url?.href ?? 'URL'}`,
    ],
    verify: 'The same request with the token is accepted; the session cookie and the token come from the same session.',
    docs: CSRF_DOCS,
  },
  {
    title: 'For a stateless API authenticated by tokens (not cookies), exclude it from CSRF protection',
    difficulty: 'medium',
    commands: ['http.csrf(csrf -> csrf.ignoringRequestMatchers("/api/**"));'],
    verify: 'Only endpoints that never rely on browser cookies are excluded.',
    docs: CSRF_DOCS,
  },
];

const authorizationFixes: Fix[] = [
  {
    title: 'Find the authorization rule that matched (requestMatchers / @PreAuthorize) and the authorities it wants',
    difficulty: 'medium',
    commands: ['logging.level.org.springframework.security=TRACE   # application.properties; the log names the denying AuthorizationManager'],
    verify: 'The TRACE log shows "Denying request" with the rule and the principal’s authorities.',
    docs: 'https://docs.spring.io/spring-security/reference/servlet/authorization/authorize-http-requests.html',
  },
  {
    title: 'Remember the prefixes: hasRole("X") checks the authority ROLE_X, a JWT scope x becomes SCOPE_x',
    difficulty: 'easy',
    docs: 'https://docs.spring.io/spring-security/reference/servlet/oauth2/resource-server/jwt.html#oauth2resourceserver-jwt-authorization-extraction',
  },
];

export default defineRule({
  meta: {
    id: 'spring-security',
    kind: 'producer',
    product: 'spring-security',
    layer: 'application',
    description: 'Spring Security resource-server bearer errors, its CSRF and access-denied exceptions, and the Spring Boot error JSON / Whitelabel page they are rendered on.',
    docs: [
      'https://docs.spring.io/spring-security/reference/servlet/oauth2/resource-server/bearer-tokens.html#oauth2resourceserver-bearertoken-failure',
      'https://github.com/spring-projects/spring-security/blob/main/oauth2/oauth2-resource-server/src/main/java/org/springframework/security/oauth2/server/resource/web/access/BearerTokenAccessDeniedHandler.java',
      CSRF_DOCS,
      'https://docs.spring.io/spring-boot/reference/web/servlet.html#web.servlet.spring-mvc.error-handling',
    ],
    causes: ['insufficient-scope', 'insufficient-role', 'credential-invalid', 'credential-expired', 'credential-not-yet-valid', 'credential-missing', 'csrf'],
  },
  applies: (ctx) => Boolean(springBearer(bearer(ctx)) || bootError(ctx) || whitelabel(ctx)),
  run(ctx) {
    const challenge = bearer(ctx);
    const sb = springBearer(challenge);
    const boot = bootError(ctx);
    const page = whitelabel(ctx);
    const csrfMessage = boot?.message && CSRF_MESSAGE.test(boot.message) ? boot.message : undefined;

    const evidence: Evidence[] = [];
    if (sb && challenge) evidence.push(ev('header:www-authenticate', `${sb.signature}: ${challenge.params.error_description}`));
    if (csrfMessage) evidence.push(ev('body:message', `Spring Security CSRF exception message: ${csrfMessage}`));
    if (boot) evidence.push(ev('body', `Spring Boot error JSON (timestamp, status ${boot.status}, error "${boot.error}"${boot.path ? `, path ${boot.path}` : ''})`));
    if (page) evidence.push(ev('body', 'Spring Boot “Whitelabel Error Page”'));
    // Spring Security's own strings are specific; Boot's error body is shared by every Boot app, secured or not.
    const confidence = sb || csrfMessage ? 0.92 : boot?.message === 'Access Denied' ? 0.7 : 0.55;
    const producer = { product: 'spring-security' as const, layer: 'application' as const, confidence, evidence };
    const causes: CauseClaim[] = [];

    if (sb && challenge) {
      const error = bearerError(challenge);
      const d = challenge.params.error_description ?? '';
      const header = ev('header:www-authenticate', `Bearer ${Object.entries(challenge.params).map(([k, v]) => `${k}="${v}"`).join(', ')}`);
      if (error === 'insufficient_scope') {
        causes.push({
          id: 'insufficient-scope',
          weight: 0.6,
          summary: 'Spring Security’s resource server denied an authenticated bearer token: the authorization rule wants an authority (usually SCOPE_x) the token does not grant.',
          evidence: [header],
          fixes: [
            {
              title: 'Check which authority the endpoint requires and which scopes the token carries',
              difficulty: 'easy',
              commands: ['# e.g. .requestMatchers("/messages/**").hasAuthority("SCOPE_message:read") needs scope "message:read" in the token'],
              verify: 'The token’s scope/scp claim contains the scope named after SCOPE_.',
              docs: 'https://docs.spring.io/spring-security/reference/servlet/oauth2/resource-server/jwt.html#oauth2resourceserver-jwt-authorization',
            },
            ...authorizationFixes,
          ],
        });
      } else if (error === 'invalid_token') {
        const expired = /Jwt expired at/i.test(d);
        const notYet = /Jwt used before/i.test(d);
        causes.push({
          id: expired ? 'credential-expired' : notYet ? 'credential-not-yet-valid' : 'credential-invalid',
          weight: 0.8,
          summary: expired
            ? `Spring Security rejected the JWT because it has expired (${d.replace(`${JWT_DECODE_PREFIX}: `, '')}).`
            : notYet
              ? `Spring Security rejected the JWT because its nbf lies in the future (${d.replace(`${JWT_DECODE_PREFIX}: `, '')}): a clock or issuance problem.`
              : d === ALG_NONE
              ? 'Spring Security rejected an unsigned JWT (alg "none"); the resource server only accepts tokens signed with the configured algorithm and keys.'
              : `Spring Security could not validate the JWT: ${d}`,
          evidence: [header],
          fixes: expired || notYet
            ? [{ title: 'Obtain a fresh access token and retry; allow for clock skew (JwtTimestampValidator defaults to 60 s)', difficulty: 'easy', docs: RS_DOCS }]
            : [
                {
                  title: 'Send a token signed by the issuer this resource server trusts (spring.security.oauth2.resourceserver.jwt.issuer-uri / jwk-set-uri)',
                  difficulty: 'medium',
                  commands: ['grep -rn "spring.security.oauth2.resourceserver" src/main/resources/'],
                  verify: 'The token header’s alg and kid match a key published at the configured jwk-set-uri.',
                  docs: RS_DOCS,
                },
              ],
        });
      }
    }

    if (csrfMessage) {
      causes.push({
        id: 'csrf',
        weight: 0.9,
        summary: `Spring Security’s CsrfFilter rejected the ${ctx.exchange.request ? ctx.method : 'state-changing'} request: ${csrfMessage}`,
        evidence: [ev('body:message', csrfMessage)],
        fixes: csrfFixes(ctx),
      });
    } else if ((boot || page) && ctx.status === 403) {
      const message = boot?.message;
      const unsafe = ctx.exchange.request ? UNSAFE.has(ctx.method) : false;
      const bodyEv = boot ? ev('body', `Spring Boot 403 error body${message ? ` with message "${message}"` : ' without a message (Boot hides it by default)'}`) : ev('body', 'Whitelabel Error Page, status 403');
      causes.push({
        id: 'insufficient-role',
        weight: message === 'Access Denied' ? 0.55 : unsafe ? 0.3 : 0.4,
        summary: 'Spring Security’s authorization denied the request (an AccessDeniedException): the authenticated principal lacks the role or authority the rule requires.',
        evidence: [bodyEv],
        fixes: authorizationFixes,
      });
      if (unsafe) {
        causes.push({
          id: 'csrf',
          weight: 0.45,
          summary: `A ${ctx.method} answered by Spring’s generic 403 is very often a missing CSRF token: CsrfFilter denies it before any authorization rule runs, with the same page.`,
          evidence: [bodyEv, ev('request:method', ctx.method)],
          fixes: csrfFixes(ctx),
        });
      }
    } else if ((boot || page) && ctx.status === 401) {
      causes.push({
        id: 'credential-missing',
        weight: 0.45,
        summary: 'Spring Security’s entry point answered 401: the request reached a secured endpoint without an accepted authentication.',
        evidence: [boot ? ev('body', `Spring Boot 401 error body (error "${boot.error}")`) : ev('body', 'Whitelabel Error Page, status 401')],
        fixes: [{ title: 'Authenticate the request the way the filter chain expects (session login, HTTP Basic or a bearer token)', difficulty: 'easy', docs: 'https://docs.spring.io/spring-security/reference/servlet/architecture.html' }],
      });
    }
    return causes.length ? { producer, causes } : { producer };
  },
});
