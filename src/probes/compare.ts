// How a probe's answer is read against the original denial, and how its
// evidence is worded: shared by every probe kind.
import { headerValue, type Exchange, type NameValue } from '../model/exchange.ts';
import type { CredentialItem } from '../model/credential.ts';
import type { Gap } from '../model/report.ts';
import type { CauseId } from '../model/vocabulary.ts';
import type { CauseClaim } from '../model/rule.ts';
import { decodeBody } from '../engine/context.ts';
import { redactUrl } from '../credentials/redact.ts';
import { formatDuration } from '../credentials/clock.ts';
import type { ProbeContext, ProbeFinding, ProbeRequest } from './define.ts';

/** The grants a principal holds or lacks: scopes, roles, ownership, policies, fields. */
export const GRANTS: CauseId[] = [
  'insufficient-scope',
  'insufficient-role',
  'not-owner',
  'explicit-deny',
  'resource-policy',
  'field-restricted',
];
/** What the principal may do: grants, ownership, account and policy conditions. */
export const IDENTITY_GRANT: CauseId[] = [...GRANTS, 'account-state', 'conditional-access', 'feature-disabled'];
/** The grants that differ from one identity to the next. */
export const PER_IDENTITY: CauseId[] = ['insufficient-scope', 'insufficient-role', 'not-owner'];
/** A credential refused for what it is: expired, revoked or invalid, not yet valid. */
export const CREDENTIAL_STATE: CauseId[] = ['credential-expired', 'credential-invalid', 'credential-not-yet-valid'];
/** Whether the credential itself is accepted. */
export const CREDENTIAL_VALIDITY: CauseId[] = [
  ...CREDENTIAL_STATE,
  'clock-skew',
  'wrong-audience',
  'credential-malformed',
];
/** Who the caller is and whether its credential is there and holds: a request that changes neither and is allowed rules them out. */
export const CALLER: CauseId[] = [
  'insufficient-role',
  'insufficient-scope',
  'explicit-deny',
  'resource-policy',
  'not-owner',
  'credential-missing',
  'credential-invalid',
  'credential-expired',
];
/** Denials that refuse everyone alike, whoever they are. */
export const NOT_IDENTITY: CauseId[] = [
  'ip-restricted',
  'path-forbidden',
  'waf-block',
  'filesystem-permission',
  'directory-listing',
];
/** Denials outside the identity that a same answer without it, or with another one, leaves standing. */
export const REFUSES_ALIKE: CauseId[] = [
  ...NOT_IDENTITY,
  'method-not-allowed',
  'proxy-interference',
  'wrong-endpoint',
  'resource-state',
];

// Anti-forgery tokens are named like secrets but say nothing about who is
export type Reading = 'allowed' | 'same' | 'challenge' | 'different' | 'hidden' | 'redirect' | 'other';

const LOGIN = /log-?in|sign-?in|auth|sso|oauth|session|account/i;

/** Lower-cased, with ids, tokens, numbers and whitespace runs levelled, so two renderings of the same page compare equal. */
export function normaliseBody(text: string): string {
  return text
    .toLowerCase()
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<id>')
    .replace(/[a-z0-9+/_=-]{24,}/g, (m) => (/\d/.test(m) ? '<id>' : m))
    .replace(/\d+/g, '#')
    .replace(/\s+/g, ' ')
    .trim();
}

function sameBody(a: Exchange, b: Exchange): boolean {
  const x = normaliseBody(decodeBody(a));
  const y = normaliseBody(decodeBody(b));
  if (x === y) return true;
  // Long pages that differ by a few characters (a timestamp in words, a nonce) are the same page.
  const long = Math.min(x.length, y.length) >= 512;
  return (
    long && Math.abs(x.length - y.length) <= Math.max(x.length, y.length) * 0.01 && x.slice(0, 256) === y.slice(0, 256)
  );
}

export const challengeOf = (ex: Exchange) => headerValue(ex.response.headers, 'www-authenticate')?.trim().toLowerCase();

/** The login page a probe was sent to on its way (sendRequest follows GET/HEAD redirects). */
function loginRedirect(ex: Exchange): string | undefined {
  const hops = ex.trace?.redirects ?? [];
  const status = ex.response.status;
  const locations = [
    ...hops.slice(0, -1).map((h) => h.location),
    status >= 300 && status < 400 ? ex.response.redirectURL : undefined,
  ];
  return locations.find((l): l is string => Boolean(l && LOGIN.test(l)));
}

export function readOutcome(first: Exchange, probe: Exchange, opts: { bodyless?: boolean } = {}): Reading {
  const o = first.response.status;
  const p = probe.response.status;
  if (loginRedirect(probe) && !loginRedirect(first)) return 'challenge';
  if ((p >= 200 && p < 300) || p === 304) return 'allowed';
  if (p >= 300 && p < 400) return 'redirect';
  if (p === o && challengeOf(first) === challengeOf(probe) && (opts.bodyless || sameBody(first, probe))) return 'same';
  if (p === 401 || ((p === 403 || p === 407) && challengeOf(probe) && !challengeOf(first))) return 'challenge';
  if (p === 401 || p === 403) return 'different';
  if (p === 404 || p === 410) return 'hidden';
  return 'other';
}

/** ["header:Authorization", "cookie:sid", "query:key"] → "your Authorization header, cookie sid and query parameter key". */
export function describeRemoved(removed: string[]): string {
  const groups = new Map<string, string[]>();
  for (const r of removed) {
    const i = r.indexOf(':');
    const kind = i < 0 ? r : r.slice(0, i);
    groups.set(kind, [...(groups.get(kind) ?? []), i < 0 ? '' : r.slice(i + 1)]);
  }
  const list = (names: string[]) =>
    names.length > 3 ? `${names.slice(0, 3).join(', ')} and ${names.length - 3} more` : names.join(', ');
  const parts = [...groups].map(([kind, names]) =>
    kind === 'header'
      ? `${list(names)} header${names.length > 1 ? 's' : ''}`
      : kind === 'cookie'
        ? `cookie${names.length > 1 ? 's' : ''} ${list(names)}`
        : kind === 'query'
          ? `query parameter${names.length > 1 ? 's' : ''} ${list(names)}`
          : `${kind} ${list(names)}`.trim(),
  );
  return parts.length
    ? `your ${parts.length > 1 ? `${parts.slice(0, -1).join(', ')} and ${parts.at(-1)}` : parts[0]}`
    : 'anything';
}

/** "401 (WWW-Authenticate: Bearer error="invalid_token")", "a redirect (302) to /login", "200". */
export function describeAnswer(ex: Exchange): string {
  const login = loginRedirect(ex);
  if (login)
    return `a redirect (${ex.trace?.redirects[0]?.status ?? ex.response.status}) to the login page ${redactUrl(login)}`;
  const challenge = headerValue(ex.response.headers, 'www-authenticate');
  return challenge
    ? `${ex.response.status} (WWW-Authenticate: ${challenge.length > 80 ? `${challenge.slice(0, 80)}…` : challenge})`
    : String(ex.response.status);
}

// ---------------------------------------------------------------- findings

export function claim(
  probe: string,
  id: CauseId,
  weight: number,
  summary: string,
  text: string,
  gap?: Gap,
): CauseClaim {
  return { id, weight, summary, evidence: [{ source: `probe:${probe}`, text }], ...(gap ? { gap } : {}) };
}

/** The same claim against each cause in `ids` (as evidence lines, they carry the meaning). */
export function against(probe: string, ids: CauseId[], weight: number, text: string): CauseClaim[] {
  return ids.map((id) => claim(probe, id, weight, text, text));
}

export function finding(
  probe: string,
  req: ProbeRequest,
  ex: Exchange,
  meaning: string,
  claims: CauseClaim[],
): ProbeFinding {
  const ids = (test: (w: number) => boolean) => [...new Set(claims.filter((c) => test(c.weight)).map((c) => c.id))];
  const confirms = ids((w) => w >= 0.3);
  const rulesOut = ids((w) => w <= -0.5);
  return {
    result: {
      name: probe,
      status: ex.response.status,
      meaning,
      request: { method: req.request.method, url: redactUrl(req.request.url), removed: req.removed, added: req.added },
      ...(confirms.length ? { confirms } : {}),
      ...(rulesOut.length ? { rulesOut } : {}),
    },
    claims,
  };
}

export const standingOf = (ctx: ProbeContext, ids: CauseId[]): CauseId[] =>
  ids.filter((id) => ctx.standing.includes(id));

/** The same claim for each cause in `ids` that still stands. */
export const forStanding = (
  ctx: ProbeContext,
  probe: string,
  ids: CauseId[],
  weight: number,
  summary: string,
  text: string,
): CauseClaim[] => standingOf(ctx, ids).map((id) => claim(probe, id, weight, summary, text));

/** A credential's claims in a few words, never its value: "sub alice, scope read write, expires in 59 min". */
export function describeClaims(item: CredentialItem | undefined, now = new Date()): string {
  if (!item) return 'no readable claims';
  const parts: string[] = [];
  if (item.subject) parts.push(`sub ${item.subject}`);
  if (item.principal) parts.push(`user ${item.principal}`);
  if (item.scopes?.length) parts.push(`scope ${item.scopes.join(' ')}`);
  if (item.roles?.length) parts.push(`roles ${item.roles.join(' ')}`);
  if (item.audience?.length) parts.push(`aud ${item.audience.join(' ')}`);
  if (item.issuer) parts.push(`iss ${item.issuer}`);
  if (item.expiresAt) {
    const ms = Date.parse(item.expiresAt) - now.getTime();
    parts.push(ms >= 0 ? `expires in ${formatDuration(ms)}` : `expired ${formatDuration(-ms)} ago`);
  }
  return parts.length ? parts.join(', ') : `${item.kind}, no readable claims`;
}

/** The user's credential a swapped-in one stands for: the one at the same place, else the first with claims, else the first. */
export function deniedCredential(ctx: ProbeContext, header?: NameValue): CredentialItem | undefined {
  const items = ctx.report.credential.items;
  const at = header ? `header:${header.name.toLowerCase()}` : undefined;
  return items.find((i) => i.location === at) ?? items.find((i) => i.claims && i.kind !== 'cookie') ?? items[0];
}

// ---------------------------------------------------------------- the probe
