// Adapters: the refusals of the libraries an API already uses, turned into
// explained denials. Each library answers in its own way — a bare 403
// (csrf-csrf, CASL), a reason it then hides (express-oauth2-jwt-bearer says
// `invalid_token` for an expired token, a wrong audience and a bad signature
// alike), an error code (@fastify/jwt) — and none says what grant was
// missing. An adapter reads the library's error (its class name, code and
// message, from the library's own source: no library is imported here, the
// app brings its own) and answers the Denial it stands for, or undefined for
// an error it does not know, which then goes on to the app's error handler.
//
// The gap's "held" side comes from the request: the caller's verified scopes
// and roles, and for token errors the claims of the token the request
// carried, decoded without verification (an audience, an expiry: claims, never
// the token). The "required" side comes from the error where the library says
// it (a scope, jsonwebtoken's expected audience), else from the options the
// app gives the adapter (the audience and issuer it configured).
import type { ClaimSummary } from '../credentials/jwt.ts';
import { decodeJwtToken, looksLikeJwt, summariseClaims } from '../credentials/jwt.ts';
import type { CauseId } from '../model/vocabulary.ts';
import type { Denial, Gap } from './denial.ts';
import type { Caller, Guard } from './guards.ts';

/** What an adapter knows of the request besides the error. */
export interface AdapterContext {
  caller: Caller;
  /** Claims of the bearer token the request carried, unverified (for the gap's held side only). */
  claims?: ClaimSummary;
  /**
   * The Authorization header's scheme, lower-cased ("bearer", "basic"; "" for
   * a header without one), when the request sent the header: a library that
   * finds no bearer token cannot tell "none sent" from "sent in another
   * shape"; this can. Never the credential.
   */
  scheme?: string;
}

/** A library's error → the denial it stands for, or undefined for an error this adapter does not know. */
export type Adapter = (err: unknown, ctx: AdapterContext) => Denial | undefined;

/** What the app configured its token library to accept: the gap's required side for audience and issuer misses. */
export interface TokenExpectations {
  audience?: string | string[];
  issuer?: string | string[];
}

/** The first adapter's denial for an error. */
export function adaptError(adapters: readonly Adapter[], err: unknown, ctx: AdapterContext): Denial | undefined {
  for (const adapt of adapters) {
    const d = adapt(err, ctx);
    if (d) return d;
  }
  return undefined;
}

/** What an adapter may know of a request's Authorization header: its scheme and, for a bearer JWT, its claims. */
export function authorizationContext(authorization: string | undefined): Pick<AdapterContext, 'claims' | 'scheme'> {
  const value = typeof authorization === 'string' ? authorization.trim() : '';
  if (!value) return {};
  // A header without a space is a credential without its scheme: "" — the credential itself is never kept.
  const space = value.indexOf(' ');
  const scheme = space > 0 && space <= 32 ? value.slice(0, space).toLowerCase() : '';
  const claims = bearerClaims(authorization);
  return { scheme, ...(claims ? { claims } : {}) };
}

/** Claims of an `Authorization: Bearer <JWT>` header, unverified; undefined for anything else. */
export function bearerClaims(authorization: string | undefined): ClaimSummary | undefined {
  if (typeof authorization !== 'string' || authorization.slice(0, 7).toLowerCase() !== 'bearer ') return undefined;
  const token = authorization.slice(7).trim();
  if (!looksLikeJwt(token)) return undefined;
  const decoded = decodeJwtToken(token);
  return 'claims' in decoded && decoded.claims ? summariseClaims(decoded.claims) : undefined;
}

const prop = (err: unknown, key: string): unknown =>
  err && typeof err === 'object' ? (err as Record<string, unknown>)[key] : undefined;
const text = (v: unknown): string => (typeof v === 'string' ? v : '');
const list = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const iso = (seconds: number): string => new Date(seconds * 1000).toISOString();

/** A JWT library's reason, read from its message, as a cause and the claim it concerns. */
interface TokenReason {
  cause: CauseId;
  claim?: 'exp' | 'nbf' | 'aud' | 'iss';
}

/**
 * The gap of a token denial: what the token would need against what it says.
 * Only claims (dates, audience, issuer) reach it, never the token.
 */
function tokenGap(reason: TokenReason, ctx: AdapterContext, expected: TokenExpectations): Gap | undefined {
  const claims = ctx.claims;
  switch (reason.claim) {
    case 'exp':
      return claims?.exp !== undefined
        ? { required: ['a credential not yet expired'], held: [`expired at ${iso(claims.exp)}`] }
        : undefined;
    case 'nbf':
      return claims?.nbf !== undefined
        ? { required: ['a credential already valid'], held: [`valid from ${iso(claims.nbf)}`] }
        : undefined;
    case 'aud': {
      const required = list(expected.audience);
      if (!required.length) return undefined;
      return {
        required: required.map((a) => `audience ${a}`),
        held: (claims?.audience ?? []).map((a) => `audience ${a}`),
      };
    }
    case 'iss': {
      const required = list(expected.issuer);
      if (!required.length) return undefined;
      return {
        required: required.map((i) => `issuer ${i}`),
        held: claims?.issuer !== undefined ? [`issuer ${claims.issuer}`] : [],
      };
    }
    default:
      return undefined;
  }
}

function tokenDenial(reason: TokenReason, rule: string, ctx: AdapterContext, expected: TokenExpectations): Denial {
  const gap = tokenGap(reason, ctx, expected);
  return { cause: reason.cause, scheme: 'Bearer', rule, ...(gap ? { gap } : {}) };
}

/** A library message, kept short for the event's rule (messages name claims, never the token). */
const short = (message: string): string => (message.length > 160 ? `${message.slice(0, 157)}...` : message);

// ---------------------------------------------------------------------------
// express-oauth2-jwt-bearer (Auth0): UnauthorizedError and its subclasses,
// each with `status`, `headers` and, but for the base class, `code`. Its
// InvalidTokenError carries jose's reason as the message while the response
// it would send says only `invalid_token`.

const OAUTH2_ERRORS = new Set([
  'UnauthorizedError',
  'InvalidRequestError',
  'InvalidTokenError',
  'InsufficientScopeError',
  'InvalidProofError',
]);

/** jose's (v4, the version the library bundles) and the library's own reasons for an InvalidTokenError. */
function joseReason(message: string): TokenReason {
  if (message.startsWith('"exp" claim timestamp check failed')) return { cause: 'credential-expired', claim: 'exp' };
  if (message.startsWith('"iat" claim timestamp check failed (too far in the past)'))
    return { cause: 'credential-expired' };
  if (message.startsWith('"nbf" claim timestamp check failed'))
    return { cause: 'credential-not-yet-valid', claim: 'nbf' };
  if (message.startsWith('"iat" claim timestamp check failed')) return { cause: 'credential-not-yet-valid' };
  if (message === "Unexpected 'aud' value") return { cause: 'wrong-audience', claim: 'aud' };
  if (
    message === "Unexpected 'iss' value" ||
    message === 'Token issuer is not allowed' ||
    message === "Token missing required 'iss' claim"
  )
    return { cause: 'wrong-audience', claim: 'iss' };
  if (
    message === 'Invalid Compact JWS' ||
    message.startsWith('JWT Claims Set must be') ||
    message.startsWith('JWS Protected Header') ||
    message.startsWith('Invalid Token or Protected Header') ||
    message.startsWith('Token header missing or invalid')
  )
    return { cause: 'credential-malformed' };
  return { cause: 'credential-invalid' };
}

/** The scopes in the library's own challenge (`scope="a b"`): InsufficientScopeError keeps them nowhere else. */
function challengeScopes(headers: unknown): string[] {
  const challenge = text(prop(headers, 'WWW-Authenticate'));
  const at = challenge.indexOf(' scope="');
  if (at < 0) return [];
  const start = at + 8;
  const end = challenge.indexOf('"', start);
  return challenge
    .slice(start, end < 0 ? undefined : end)
    .split(' ')
    .filter(Boolean);
}

/** InvalidRequestError messages about the credential itself ("" is its bare "wrong scheme or shape"). */
const OAUTH2_MALFORMED_REQUEST = new Set([
  '',
  'More than one method used for authentication',
  'DPoP proof requires the DPoP authentication scheme, not Bearer',
  'A client certificate is required for this certificate-bound access token',
  'Client certificate is not valid PEM',
  'Client certificate is empty',
]);

export function oauth2JwtBearerAdapter(expected: TokenExpectations = {}): Adapter {
  return (err, ctx) => {
    const name = text(prop(err, 'name'));
    if (!OAUTH2_ERRORS.has(name) || typeof prop(err, 'headers') !== 'object' || prop(err, 'inner') !== undefined)
      return undefined;
    const message = text(prop(err, 'message'));
    const rule = `express-oauth2-jwt-bearer: ${short(message)}`;
    switch (name) {
      case 'UnauthorizedError':
        return { cause: 'credential-missing', scheme: 'Bearer', rule: 'express-oauth2-jwt-bearer: no token' };
      case 'InvalidRequestError':
        // Only the credential's own shape; a URL, Host or method the library cannot read, or its
        // configuration, is no denial: the app's error handler answers it.
        if (!OAUTH2_MALFORMED_REQUEST.has(message)) return undefined;
        return {
          cause: 'credential-malformed',
          scheme: 'Bearer',
          rule: message ? rule : 'express-oauth2-jwt-bearer: malformed Authorization',
        };
      case 'InsufficientScopeError':
        return {
          cause: 'insufficient-scope',
          scheme: 'Bearer',
          gap: { required: challengeScopes(prop(err, 'headers')), held: ctx.caller.scopes },
          rule: `express-oauth2-jwt-bearer: scope ${challengeScopes(prop(err, 'headers')).join(' ')}`,
        };
      case 'InvalidProofError':
        return { cause: 'credential-invalid', rule };
      default:
        return tokenDenial(joseReason(message), rule, ctx, expected);
    }
  };
}

// ---------------------------------------------------------------------------
// express-jwt: UnauthorizedError with a `code` and the jsonwebtoken error
// as `inner`.

const EXPRESS_JWT_CODES = new Set([
  'credentials_required',
  'credentials_bad_scheme',
  'credentials_bad_format',
  'invalid_token',
  'revoked_token',
]);

const AFTER_EXPECTED = '. expected: ';

/** jsonwebtoken's reasons (verify.js), and the audience or issuer it expected when it says so. */
function jsonwebtokenReason(inner: unknown): TokenReason & { expected?: string } {
  const name = text(prop(inner, 'name'));
  const message = text(prop(inner, 'message'));
  if (name === 'TokenExpiredError') return { cause: 'credential-expired', claim: 'exp' };
  if (name === 'NotBeforeError') return { cause: 'credential-not-yet-valid', claim: 'nbf' };
  const expected = message.includes(AFTER_EXPECTED)
    ? message.slice(message.indexOf(AFTER_EXPECTED) + AFTER_EXPECTED.length)
    : undefined;
  if (message.startsWith('jwt audience invalid'))
    return { cause: 'wrong-audience', claim: 'aud', ...(expected ? { expected } : {}) };
  if (message.startsWith('jwt issuer invalid'))
    return { cause: 'wrong-audience', claim: 'iss', ...(expected ? { expected } : {}) };
  if (
    message === 'jwt malformed' ||
    message === 'invalid token' ||
    message === 'jwt must be provided' ||
    message === 'jwt signature is required' ||
    name === 'SyntaxError'
  )
    return { cause: 'credential-malformed' };
  return { cause: 'credential-invalid' };
}

export function expressJwtAdapter(expected: TokenExpectations = {}): Adapter {
  return (err, ctx) => {
    const code = text(prop(err, 'code'));
    if (text(prop(err, 'name')) !== 'UnauthorizedError' || !EXPRESS_JWT_CODES.has(code)) return undefined;
    switch (code) {
      case 'credentials_required':
        return { cause: 'credential-missing', scheme: 'Bearer', rule: 'express-jwt: credentials_required' };
      case 'credentials_bad_scheme':
      case 'credentials_bad_format':
        return { cause: 'credential-malformed', scheme: 'Bearer', rule: `express-jwt: ${code}` };
      case 'revoked_token':
        return { cause: 'credential-invalid', scheme: 'Bearer', rule: 'express-jwt: revoked_token' };
    }
    const inner = prop(err, 'inner');
    const reason = jsonwebtokenReason(inner);
    // jsonwebtoken says which audience (" or "-separated) or issuer it expected: the app need not repeat it.
    const fromMessage: TokenExpectations =
      reason.expected === undefined
        ? {}
        : reason.claim === 'aud'
          ? { audience: reason.expected.split(' or ') }
          : { issuer: reason.expected };
    return tokenDenial(reason, `express-jwt: invalid_token (${short(text(prop(inner, 'message')))})`, ctx, {
      ...expected,
      ...fromMessage,
    });
  };
}

// ---------------------------------------------------------------------------
// @fastify/jwt: @fastify/error instances with FST_JWT_* codes, and fast-jwt's
// own TokenError (FAST_JWT_*) for what it does not wrap (a malformed or not
// yet valid token).

function fastJwtReason(code: string, message: string, scheme: string | undefined): TokenReason | undefined {
  switch (code) {
    case 'FST_JWT_NO_AUTHORIZATION_IN_HEADER':
      // The library looks only for "Bearer …": another scheme is a credential in the wrong shape, not none.
      return { cause: scheme !== undefined && scheme !== 'bearer' ? 'credential-malformed' : 'credential-missing' };
    case 'FST_JWT_NO_AUTHORIZATION_IN_COOKIE':
      return { cause: 'credential-missing' };
    case 'FST_JWT_BAD_REQUEST':
    case 'FST_JWT_BAD_COOKIE_REQUEST':
    case 'FAST_JWT_MALFORMED':
    case 'FAST_JWT_INVALID_PAYLOAD':
    case 'FAST_JWT_INVALID_TYPE':
      return { cause: 'credential-malformed' };
    case 'FST_JWT_AUTHORIZATION_TOKEN_EXPIRED':
    case 'FAST_JWT_EXPIRED':
      return { cause: 'credential-expired', claim: 'exp' };
    case 'FAST_JWT_INACTIVE':
      return { cause: 'credential-not-yet-valid', claim: 'nbf' };
    case 'FST_JWT_AUTHORIZATION_TOKEN_INVALID':
      // @fastify/jwt wraps fast-jwt's decoding errors in this code too (their message after its own).
      if (
        message.includes('The token is malformed') ||
        message.includes('is not a valid') ||
        message.includes('The type must be')
      )
        return { cause: 'credential-malformed' };
      if (message.includes('The aud claim value') || message.includes('of aud claim values'))
        return { cause: 'wrong-audience', claim: 'aud' };
      if (message.includes('The iss claim value') || message.includes('of iss claim values'))
        return { cause: 'wrong-audience', claim: 'iss' };
      return { cause: 'credential-invalid' };
    case 'FST_JWT_AUTHORIZATION_TOKEN_UNTRUSTED':
    case 'FAST_JWT_MISSING_SIGNATURE':
    case 'FAST_JWT_INVALID_SIGNATURE':
    case 'FAST_JWT_INVALID_ALGORITHM':
    case 'FAST_JWT_MISSING_REQUIRED_CLAIM':
    case 'FAST_JWT_INVALID_CLAIM_VALUE':
    case 'FAST_JWT_INVALID_CLAIM_TYPE':
      return { cause: 'credential-invalid' };
    default:
      return undefined;
  }
}

export function fastifyJwtAdapter(expected: TokenExpectations = {}): Adapter {
  return (err, ctx) => {
    const code = text(prop(err, 'code'));
    const reason = fastJwtReason(code, text(prop(err, 'message')), ctx.scheme);
    return reason && tokenDenial(reason, `@fastify/jwt: ${code}`, ctx, expected);
  };
}

// ---------------------------------------------------------------------------
// CSRF: csrf-csrf's http-errors 403 with code EBADCSRFTOKEN (its default
// errorConfig; csurf uses the same code), @fastify/csrf-protection's
// FST_CSRF_INVALID_TOKEN and FST_CSRF_MISSING_SECRET.

export function csrfAdapter(): Adapter {
  return (err) => {
    switch (text(prop(err, 'code'))) {
      case 'EBADCSRFTOKEN':
        return { cause: 'csrf', rule: 'csrf-csrf: invalid csrf token' };
      case 'FST_CSRF_INVALID_TOKEN':
        return { cause: 'csrf', rule: '@fastify/csrf-protection: invalid csrf token' };
      case 'FST_CSRF_MISSING_SECRET':
        return { cause: 'csrf', rule: '@fastify/csrf-protection: missing csrf secret (no CSRF cookie or session)' };
      default:
        return undefined;
    }
  };
}

// ---------------------------------------------------------------------------
// CORS: the `cors` package never refuses by itself — it leaves the browser to
// drop a response without the header, an opaque failure. `corsOrigin` is an
// `origin` option that refuses a disallowed Origin with an error the adapter
// explains as a 403 naming the origins allowed.

export class CorsOriginError extends Error {
  readonly origin: string;
  readonly allowed: readonly string[];
  constructor(origin: string, allowed: readonly string[]) {
    super(`origin ${origin} is not allowed`);
    this.name = 'CorsOriginError';
    this.origin = origin;
    this.allowed = allowed;
  }
}

/**
 * The `origin` option for `cors` (and @fastify/cors): a request without an
 * Origin (same-origin, curl) and an allowed Origin pass; any other Origin is
 * a CorsOriginError.
 */
export function corsOrigin(
  allowed: string[],
): (origin: string | undefined, callback: (err: Error | null, allow?: boolean | string) => void) => void {
  const set = new Set(allowed);
  return (origin, callback) => {
    if (origin === undefined || set.has(origin)) callback(null, origin ?? false);
    else callback(new CorsOriginError(origin, allowed));
  };
}

export function corsAdapter(): Adapter {
  return (err) => {
    // By name, not instanceof: why403/express and why403/fastify may each carry their own copy of the class.
    if (text(prop(err, 'name')) !== 'CorsOriginError') return undefined;
    const origin = text(prop(err, 'origin'));
    const allowed = prop(err, 'allowed');
    const origins = Array.isArray(allowed) ? allowed.filter((o): o is string => typeof o === 'string') : [];
    return {
      cause: 'cors',
      gap: { required: origins.map((o) => `origin ${o}`), held: [`origin ${origin}`] },
      rule: `cors origin ${origins.join(' ')}`,
    };
  };
}

// ---------------------------------------------------------------------------
// CASL: ForbiddenError (action, subjectType, field, and the ability that
// refused). A `cannot` rule that matched is an explicit deny; no `can` rule
// at all is a missing role or permission; a named field, a field restriction.

interface CaslRule {
  inverted?: boolean;
  reason?: string;
}

export function caslAdapter(): Adapter {
  return (err, ctx) => {
    if (text(prop(err, 'name')) !== 'ForbiddenError' || typeof prop(err, 'subjectType') !== 'string') return undefined;
    const action = String(prop(err, 'action'));
    const subjectType = text(prop(err, 'subjectType'));
    const field = text(prop(err, 'field')) || undefined;
    const ability = prop(err, 'ability') as
      { relevantRuleFor?(action: string, subject: unknown, field?: string): CaslRule | null } | undefined;
    let matched: CaslRule | null | undefined;
    try {
      matched = ability?.relevantRuleFor?.(action, prop(err, 'subject'), field);
    } catch {
      matched = undefined; // an ability the adapter cannot ask: the plainer cause stands
    }
    const grant = `${action} ${subjectType}${field ? ` ${field}` : ''}`;
    const cause: CauseId = matched?.inverted ? 'explicit-deny' : field ? 'field-restricted' : 'insufficient-role';
    return {
      cause,
      gap: { required: [grant], held: ctx.caller.roles },
      rule: `casl ${grant}${matched?.inverted && matched.reason ? ` (${matched.reason})` : ''}`,
    };
  };
}

// ---------------------------------------------------------------------------
// Casbin returns a boolean, not an error: a guard. enforceEx (Casbin ≥ 5.9)
// also returns the policy line that decided; a denial with a matching policy
// line is that line's deny (explicit-deny), without one no policy allowed it
// (insufficient-role).

/** The part of a Casbin Enforcer the guard uses. */
export interface CasbinEnforcer {
  enforce(...request: string[]): Promise<boolean> | boolean;
  enforceEx?(...request: string[]): Promise<[boolean, string[]]> | [boolean, string[]];
  /** The subject's roles in Casbin's own role graph (`g`): the gap's held side. */
  getImplicitRolesForUser?(name: string): Promise<string[]> | string[];
}

/**
 * A guard asking Casbin: `request` names the subject, object and action
 * (`[caller.principal, 'reports', req.method]`). Held: the subject's roles in
 * Casbin's role graph when the enforcer has one, else the caller's.
 */
export function casbinGuard<Req>(
  enforcer: CasbinEnforcer,
  request: (req: Req, caller: Caller) => [sub: string, obj: string, act: string],
): Guard<Req> {
  return async (req, caller) => {
    const [sub, obj, act] = request(req, caller);
    let allowed: boolean;
    let matched: string[] = [];
    if (enforcer.enforceEx) [allowed, matched] = await enforcer.enforceEx(sub, obj, act);
    else allowed = await enforcer.enforce(sub, obj, act);
    if (allowed) return undefined;
    const casbinRoles = enforcer.getImplicitRolesForUser ? await enforcer.getImplicitRolesForUser(sub) : undefined;
    return {
      cause: matched.length ? 'explicit-deny' : 'insufficient-role',
      gap: { required: [`${act} ${obj}`], held: casbinRoles ?? caller.roles },
      rule: `casbin ${sub} ${obj} ${act}${matched.length ? ` (policy ${matched.join(', ')})` : ''}`,
    };
  };
}

/** Every adapter, for an app that gives none: each recognises only its own library's errors. */
export function defaultAdapters(expected: TokenExpectations = {}): Adapter[] {
  return [
    oauth2JwtBearerAdapter(expected),
    expressJwtAdapter(expected),
    fastifyJwtAdapter(expected),
    csrfAdapter(),
    corsAdapter(),
    caslAdapter(),
  ];
}
