// The other side of a 403: an API's own denial, explained. A Denial says why
// a request is refused in the project's vocabulary (the cause id, the grant
// that was missing, the rule that refused); `explainDenial` turns it into
// the response — RFC 9457 problem+json, and on bearer denials RFC 6750's
// WWW-Authenticate with `error` and `scope` — at the disclosure level the app
// chose, and `denialEvent` into the one structured event a denial emits.
// Framework-neutral: the Express, Fastify and Web-standard integrations
// (express.ts, fastify.ts, web.ts) are thin shells around these.
import { AUTHENTICATION_CAUSES, CAUSE_MEANINGS, type CauseId } from '../model/vocabulary.ts';

/** The media type of an explained denial (RFC 9457). */
export const PROBLEM_JSON = 'application/problem+json';

/** The problem `type` of each cause: `urn:why403:cause:<id>`, what `why403 explain` recognises exactly. */
export const PROBLEM_TYPE_PREFIX = 'urn:why403:cause:';

/**
 * How much a response tells the caller:
 * - `status`: the status and its reason only (`Forbidden`), nothing about why;
 * - `cause` (the default): the cause id and one human sentence;
 * - `gap`: also what was required against what the caller holds.
 * Whatever the level, the event carries everything.
 */
export type Disclosure = 'status' | 'cause' | 'gap';

export interface Gap {
  required: string[];
  held: string[];
}

export interface Denial {
  cause: CauseId;
  /** One sentence for the caller; default: the cause's meaning, with the gap's names where disclosed. */
  detail?: string;
  gap?: Gap;
  /** The rule, guard or policy that refused ("scope read:orders", "casl read Report"): in the event, never in the response. */
  rule?: string;
  /** 401 for the authentication causes, 403 otherwise, unless given. */
  status?: 401 | 403;
  /**
   * The credential scheme the route expects: with "Bearer" the response
   * carries RFC 6750's challenge (`error="invalid_token"`,
   * `"insufficient_scope"` with the scope, …).
   */
  scheme?: 'Bearer';
  /** The resource the request names, for the event (an id, never a credential). */
  resource?: string;
}

/**
 * Causes that mean "who are you?": answered 401 (RFC 9110 §15.5.2). A token
 * for another audience is one this API cannot accept as a credential at all.
 */
const AUTHENTICATION: ReadonlySet<CauseId> = new Set([...AUTHENTICATION_CAUSES, 'wrong-audience']);

export const statusOf = (d: Denial): 401 | 403 => d.status ?? (AUTHENTICATION.has(d.cause) ? 401 : 403);

/** Titles a person reads first: the cause in a few words. */
const TITLES: Partial<Record<CauseId, string>> = {
  'credential-missing': 'Credential missing',
  'credential-malformed': 'Credential malformed',
  'credential-expired': 'Credential expired',
  'credential-not-yet-valid': 'Credential not yet valid',
  'clock-skew': 'Clocks disagree',
  'credential-invalid': 'Credential invalid',
  'wrong-audience': 'Credential for another audience',
  'insufficient-scope': 'Insufficient scope',
  'insufficient-role': 'Insufficient role',
  'explicit-deny': 'Denied by policy',
  'resource-policy': 'Denied by the resource’s policy',
  'not-owner': 'Not the owner',
  'field-restricted': 'Field restricted',
  'account-state': 'Account not in good standing',
  'resource-state': 'Resource not available in its state',
  'feature-disabled': 'Feature not enabled',
  'ip-restricted': 'Client address not allowed',
  'rate-limited': 'Rate limited',
  csrf: 'CSRF check failed',
  cors: 'Origin not allowed',
  'method-not-allowed': 'Method not allowed',
  'path-forbidden': 'Path forbidden',
};

export const titleOf = (cause: CauseId): string => TITLES[cause] ?? 'Access denied';

/** RFC 6750 §3.1 error codes for a bearer denial. */
function bearerError(d: Denial): 'invalid_request' | 'invalid_token' | 'insufficient_scope' | undefined {
  switch (d.cause) {
    case 'credential-missing':
      return undefined; // §3.1: no error code when the request carried no authentication
    case 'credential-malformed':
      return 'invalid_request';
    case 'insufficient-scope':
      return 'insufficient_scope';
    default:
      return AUTHENTICATION.has(d.cause) ? 'invalid_token' : undefined;
  }
}

/** A quoted-string for a challenge parameter: quotes and backslashes escaped, controls dropped. */
const quoted = (s: string) => `"${s.replace(/[\x00-\x1f\x7f]/g, '').replace(/["\\]/g, '\\$&')}"`;

function sentence(d: Denial, disclosure: Disclosure): string {
  if (d.detail) return d.detail;
  const base = CAUSE_MEANINGS[d.cause];
  if (disclosure === 'gap' && d.gap?.required.length)
    return `${base} Required: ${d.gap.required.join(', ')}; held: ${d.gap.held.join(', ') || 'none'}.`;
  return base;
}

export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  /** Extension members (RFC 9457 §3.2). */
  cause?: CauseId;
  required?: string[];
  held?: string[];
  requestId?: string;
}

export interface ExplainOptions {
  disclosure?: Disclosure;
  /** The realm of the bearer challenge (default "api"). */
  realm?: string;
  /** The request's path, as the problem's `instance`. */
  instance?: string;
  requestId?: string;
  /** Answer 404 to hide that the resource exists: the response says nothing else. */
  hide?: boolean;
}

export interface ExplainedResponse {
  status: number;
  headers: Record<string, string>;
  body: ProblemDocument;
}

/** The response for a denial: status, headers (Content-Type, WWW-Authenticate) and the problem document. */
export function explainDenial(d: Denial, o: ExplainOptions = {}): ExplainedResponse {
  const headers: Record<string, string> = { 'content-type': PROBLEM_JSON, 'cache-control': 'no-store' };
  const common = {
    ...(o.instance ? { instance: o.instance } : {}),
    ...(o.requestId ? { requestId: o.requestId } : {}),
  };
  if (o.hide)
    return { status: 404, headers, body: { type: 'about:blank', title: 'Not Found', status: 404, ...common } };
  const status = statusOf(d);
  const disclosure = o.disclosure ?? 'cause';
  if (d.scheme === 'Bearer') {
    const params = [`realm=${quoted(o.realm ?? 'api')}`];
    const error = bearerError(d);
    if (error) params.push(`error=${quoted(error)}`);
    // The error code is RFC 6750's own (kept at every level); the scope the
    // operation required is the gap's required side, shown only at "gap".
    if (disclosure === 'gap' && error === 'insufficient_scope' && d.gap?.required.length)
      params.push(`scope=${quoted(d.gap.required.join(' '))}`);
    if (disclosure !== 'status' && error) params.push(`error_description=${quoted(titleOf(d.cause))}`);
    // RFC 6750 §3: a 403 for insufficient scope carries the challenge too.
    if (status === 401 || error === 'insufficient_scope') headers['www-authenticate'] = `Bearer ${params.join(', ')}`;
  }
  if (disclosure === 'status')
    return {
      status,
      headers,
      body: { type: 'about:blank', title: status === 401 ? 'Unauthorized' : 'Forbidden', status, ...common },
    };
  const body: ProblemDocument = {
    type: PROBLEM_TYPE_PREFIX + d.cause,
    title: titleOf(d.cause),
    status,
    detail: sentence(d, disclosure),
    ...common,
    cause: d.cause,
  };
  if (disclosure === 'gap' && d.gap) {
    body.required = d.gap.required;
    body.held = d.gap.held;
  }
  return { status, headers, body };
}
