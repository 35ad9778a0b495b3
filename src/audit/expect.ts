// What an OpenAPI document says should happen when one identity sends one
// operation: allowed, denied, or not knowable from the document and the
// identity's headers. The audit compares this prediction with the answer, so
// it must never guess: when the headers cannot show whether a scheme is held
// (an API key in the query, a client certificate, scopes of an opaque token)
// the answer is `unknown`, and the reason says what would settle it.
//
// OpenAPI's semantics (3.0 §4.7.30, 3.1 §4.8.30): the list of security
// requirements is an OR, the schemes inside one requirement object are an
// AND; an empty list or an empty object makes the operation public. The array
// beside a scheme lists OAuth2/OIDC scopes, and in 3.1 also the roles any
// other scheme needs. The reason names the requirement closest to being met
// and what the identity holds; it never quotes a credential.
import type { AuditIdentity, ExpectationReason } from './model.ts';
import { isSecretHeader } from '../credentials/redact.ts';

export type SecurityRequirement = Record<string, string[]>;

/** A Security Scheme Object, as far as the prediction reads it. */
export interface SecurityScheme {
  type: string;
  scheme?: string;
  name?: string;
  in?: string;
  bearerFormat?: string;
  openIdConnectUrl?: string;
  description?: string;
}

export type OpenApiVersion = '3.0' | '3.1';

type Held = 'held' | 'missing' | 'unknown';

/** One scheme of one requirement, judged for one identity. */
interface SchemeJudgement {
  /** How the requirement reads in the reason: `oauth2 "auth" with read:orders`. */
  needs: string;
  outcome: Held;
  /** What the identity holds, when it decided the outcome (missing or unknown). */
  holds?: string;
  grants: string[];
  /** Grants the identity lacks (for ranking the requirement closest to being met). */
  lacking: number;
}

interface RequirementJudgement {
  outcome: Held;
  judgements: SchemeJudgement[];
  grants: string[];
  lacking: number;
}

const BEARER_TYPES = new Set(['oauth2', 'openidconnect']);

const list = (xs: string[]) => xs.join(', ');

/** The scheme tokens of the identity's Authorization headers, lower-cased, with a credential after them. */
function authorizationSchemes(identity: AuditIdentity): string[] {
  const out: string[] = [];
  for (const h of identity.headers) {
    if (h.name.toLowerCase() !== 'authorization') continue;
    const value = h.value.trim();
    const space = value.search(/\s/);
    if (space > 0 && value.slice(space).trim()) out.push(value.slice(0, space).toLowerCase());
  }
  return out;
}

function hasHeader(identity: AuditIdentity, name: string): boolean {
  const n = name.toLowerCase();
  return identity.headers.some((h) => h.name.toLowerCase() === n && h.value.trim() !== '');
}

function hasCookie(identity: AuditIdentity, name: string): boolean {
  return identity.headers.some(
    (h) => h.name.toLowerCase() === 'cookie' && h.value.split(';').some((pair) => pair.trim().startsWith(`${name}=`)),
  );
}

/** The identity sends no header that carries a credential (an anonymous identity). */
function sendsNoCredential(identity: AuditIdentity): boolean {
  return !identity.headers.some((h) => isSecretHeader(h.name));
}

/** What the identity sends, named without any value: "Authorization (Basic), X-API-Key", or "none". */
function describeSent(identity: AuditIdentity): string {
  const parts: string[] = [];
  for (const h of identity.headers) {
    if (!isSecretHeader(h.name)) continue;
    if (h.name.toLowerCase() === 'authorization') {
      const scheme = h.value.trim().split(/\s/, 1)[0];
      parts.push(scheme ? `Authorization (${scheme})` : 'Authorization');
    } else parts.push(h.name);
  }
  return parts.length ? [...new Set(parts)].join(', ') : 'none';
}

/** How one scheme reads in a reason, without its grants. */
function describeScheme(name: string, s: SecurityScheme | undefined): string {
  if (!s) return `"${name}" (not defined in components.securitySchemes)`;
  const type = s.type.toLowerCase();
  if (type === 'http') {
    const scheme = (s.scheme ?? '').toLowerCase();
    if (scheme === 'bearer') return `a bearer credential ("${name}")`;
    if (scheme === 'basic') return `a Basic credential ("${name}")`;
    return `an Authorization ${s.scheme ?? '(no scheme)'} credential ("${name}")`;
  }
  if (type === 'apikey') {
    if (s.in === 'header') return `the ${s.name} header ("${name}")`;
    if (s.in === 'cookie') return `the ${s.name} cookie ("${name}")`;
    return `the ${s.name} query parameter ("${name}")`;
  }
  if (type === 'oauth2') return `oauth2 "${name}"`;
  if (type === 'openidconnect') return `openIdConnect "${name}"`;
  if (type === 'mutualtls') return `a client certificate ("${name}")`;
  return `${s.type} "${name}"`;
}

/** Whether the identity's headers carry the credential a scheme asks for. */
function credentialHeld(s: SecurityScheme | undefined, identity: AuditIdentity): Held {
  if (!s) return 'unknown';
  const type = s.type.toLowerCase();
  const auth = authorizationSchemes(identity);
  if (type === 'http') return auth.includes((s.scheme ?? '').toLowerCase()) ? 'held' : 'missing';
  if (BEARER_TYPES.has(type)) return auth.includes('bearer') ? 'held' : 'missing';
  if (type === 'apikey') {
    if (s.in === 'header') return s.name && hasHeader(identity, s.name) ? 'held' : 'missing';
    if (s.in === 'cookie') return s.name && hasCookie(identity, s.name) ? 'held' : 'missing';
    return sendsNoCredential(identity) ? 'missing' : 'unknown';
  }
  return 'unknown';
}

/** Whether the grants listed beside a scheme are scopes, roles, or (3.0, not OAuth) ignored. */
export function grantKind(s: SecurityScheme | undefined, version: OpenApiVersion): 'scopes' | 'roles' | 'ignored' {
  if (s && BEARER_TYPES.has(s.type.toLowerCase())) return 'scopes';
  return version === '3.1' ? 'roles' : 'ignored';
}

function judgeGrants(
  kind: 'scopes' | 'roles',
  grants: string[],
  identity: AuditIdentity,
): { outcome: Held; holds: string; lacking: number } {
  const held = kind === 'scopes' ? identity.scopes : identity.roles;
  const from = kind === 'scopes' ? identity.scopesFrom : identity.rolesFrom;
  if (from === 'unknown') {
    const flag = kind === 'scopes' ? '--scopes' : '--roles';
    const why = kind === 'scopes' ? ' (the token is not a JWT)' : '';
    return {
      outcome: 'unknown',
      holds: `${identity.name}'s ${kind} are unknown${why}: declare them with ${flag} ${identity.name}=a,b`,
      lacking: 0,
    };
  }
  const lacking = grants.filter((g) => !held.includes(g)).length;
  const holds = held.length
    ? `${identity.name} holds ${kind === 'roles' ? 'roles ' : ''}${list(held)}`
    : `${identity.name} holds no ${kind}`;
  return { outcome: lacking ? 'missing' : 'held', holds, lacking };
}

function judgeScheme(
  name: string,
  grants: string[],
  s: SecurityScheme | undefined,
  identity: AuditIdentity,
  version: OpenApiVersion,
): SchemeJudgement {
  const kind = grantKind(s, version);
  const counted = kind === 'ignored' ? [] : grants;
  const withGrants = counted.length
    ? ` with ${kind === 'roles' ? 'role' + (counted.length > 1 ? 's ' : ' ') : ''}${list(counted)}`
    : '';
  const needs = describeScheme(name, s) + withGrants;
  const credential = credentialHeld(s, identity);
  if (credential === 'missing')
    return {
      needs,
      outcome: 'missing',
      holds: `${identity.name} sends ${describeSent(identity)}`,
      grants: counted,
      lacking: counted.length + 1,
    };
  if (!counted.length || kind === 'ignored')
    return {
      needs,
      outcome: credential,
      holds: credential === 'unknown' ? unknownWhy(s, identity) : `${identity.name} sends one`,
      grants: counted,
      lacking: 0,
    };
  const g = judgeGrants(kind, counted, identity);
  const outcome: Held = g.outcome === 'missing' ? 'missing' : credential === 'unknown' ? 'unknown' : g.outcome;
  const holds = credential === 'unknown' && g.outcome === 'held' ? unknownWhy(s, identity) : g.holds;
  return { needs, outcome, holds, grants: counted, lacking: g.lacking };
}

/** Why the headers cannot tell whether a scheme is held. */
function unknownWhy(s: SecurityScheme | undefined, identity: AuditIdentity): string {
  if (!s) return 'the scheme is not defined, so what it needs is unknown';
  const type = s.type.toLowerCase();
  if (type === 'apikey') return `a query parameter is not a header: whether ${identity.name} holds it is unknown`;
  if (type === 'mutualtls')
    return `a client certificate is not a header: whether ${identity.name} holds one is unknown`;
  return `the audit cannot judge a ${s.type} scheme from ${identity.name}'s headers`;
}

function judgeRequirement(
  req: SecurityRequirement,
  schemes: Record<string, SecurityScheme>,
  identity: AuditIdentity,
  version: OpenApiVersion,
): RequirementJudgement {
  const judgements = Object.entries(req).map(([name, grants]) =>
    judgeScheme(
      name,
      Array.isArray(grants) ? grants : [],
      Object.hasOwn(schemes, name) ? schemes[name] : undefined,
      identity,
      version,
    ),
  );
  const outcome: Held = judgements.some((j) => j.outcome === 'missing')
    ? 'missing'
    : judgements.some((j) => j.outcome === 'unknown')
      ? 'unknown'
      : 'held';
  return {
    outcome,
    judgements,
    grants: [...new Set(judgements.flatMap((j) => j.grants))],
    lacking: judgements.reduce((n, j) => n + j.lacking, 0),
  };
}

const RANK: Record<Held, number> = { held: 0, unknown: 1, missing: 2 };

/** The requirement closest to being met: held, then unknown, then the one lacking least; the first on a tie. */
function closest(judged: RequirementJudgement[]): RequirementJudgement {
  return judged.reduce((best, j) =>
    RANK[j.outcome] < RANK[best.outcome] || (RANK[j.outcome] === RANK[best.outcome] && j.lacking < best.lacking)
      ? j
      : best,
  );
}

function reasonLine(r: RequirementJudgement, alternatives: number, identity: AuditIdentity): string {
  const needs = `needs ${r.judgements.map((j) => j.needs).join(' and ')}`;
  const deciding =
    r.outcome === 'held'
      ? r.judgements.filter((j) => j.grants.length).map((j) => j.holds)
      : r.judgements.filter((j) => j.outcome === r.outcome).map((j) => j.holds);
  const holds = [...new Set(deciding.length ? deciding : [`${identity.name} sends one`])].join('; ');
  const others =
    alternatives > 1 && r.outcome !== 'held'
      ? ` (the closest of ${alternatives} alternative requirements${r.outcome === 'missing' ? ', none met' : ''})`
      : '';
  return `${needs}; ${holds}${others}`;
}

/** The operation's requirements (operation.security ?? document.security; absent both = none declared = public). */
export function expectFor(
  requirements: SecurityRequirement[] | undefined,
  schemes: Record<string, SecurityScheme>,
  identity: AuditIdentity,
  version: OpenApiVersion,
): ExpectationReason {
  if (!requirements || requirements.length === 0 || requirements.some((r) => Object.keys(r).length === 0))
    return { expected: 'allow', why: 'public: no security requirement' };
  const judged = requirements.map((r) => judgeRequirement(r, schemes, identity, version));
  const best = closest(judged);
  const expected = best.outcome === 'held' ? 'allow' : best.outcome === 'unknown' ? 'unknown' : 'deny';
  const reason: ExpectationReason = { expected, why: reasonLine(best, requirements.length, identity) };
  if (best.grants.length) reason.required = best.grants;
  return reason;
}

/**
 * What the plan should tell about the schemes a set of requirements uses:
 * the ones the audit cannot judge from headers, the undefined ones, and (3.0)
 * grants listed beside a scheme that is not OAuth2/OIDC, which are ignored.
 */
export function requirementNotes(
  requirements: SecurityRequirement[] | undefined,
  schemes: Record<string, SecurityScheme>,
  version: OpenApiVersion,
): string[] {
  const notes: string[] = [];
  for (const req of requirements ?? [])
    for (const [name, grants] of Object.entries(req)) {
      const s = Object.hasOwn(schemes, name) ? schemes[name] : undefined;
      if (!s) {
        notes.push(
          `security scheme "${name}" is not defined in components.securitySchemes: its expectations are unknown`,
        );
        continue;
      }
      const type = s.type.toLowerCase();
      if (type === 'mutualtls')
        notes.push(
          `security scheme "${name}" is mutualTLS: the audit cannot tell from headers who holds a client certificate`,
        );
      else if (type === 'apikey' && s.in !== 'header' && s.in !== 'cookie')
        notes.push(
          `security scheme "${name}" is an API key in the ${s.in ?? 'query'}: the audit cannot tell from headers who holds it`,
        );
      else if (!['http', 'apikey', 'oauth2', 'openidconnect'].includes(type))
        notes.push(`security scheme "${name}" has type ${s.type}, which the audit does not judge`);
      if (version === '3.0' && grantKind(s, version) === 'ignored' && Array.isArray(grants) && grants.length)
        notes.push(
          `security scheme "${name}" lists ${list(grants)}, which OpenAPI 3.0 allows only for oauth2 and openIdConnect: ignored`,
        );
    }
  return notes;
}
