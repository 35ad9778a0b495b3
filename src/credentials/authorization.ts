// The Authorization header: which scheme, which credential, and whether its
// shape is one a server can read. Bearer tokens go wrong in a handful of
// well-worn ways (no `Bearer `, `Token` for a JWT, the scheme twice, quotes or
// a line break carried over from a file or a JSON response); each is a finding
// of its own so the fix can be exact. RFC 6750 section 2.1 fixes the shape:
// https://www.rfc-editor.org/rfc/rfc6750#section-2.1
import type { CredentialItem } from '../model/credential.ts';
import { formatDuration, parseBasicIsoDate, parseHttpDate, reference, iso, validDate } from './clock.ts';
import { observe, addItem, flagWhitespace, observeWindow, secret, type Collector } from './collector.ts';
import { decodeJwtToken, looksLikeJwt, looksLikeMilliseconds, summariseClaims } from './jwt.ts';
import { recogniseToken } from './token-kinds.ts';

/** How the token reached us, which decides what counts as malformed. */
export type BearerVia = 'bearer' | 'query' | 'body' | 'input' | 'other-scheme';

/**
 * Values a client sends when the variable meant to hold the token was empty
 * or never expanded: JavaScript's "undefined", Python's "None", Postman's unresolved
 * {{token}}, a shell's '$TOKEN' in single quotes, a docs placeholder.
 * Words like TOKEN or REDACTED are left alone: they are how people redact.
 */
export const PLACEHOLDER =
  /^(undefined|null|nil|none|\[object object\]|\$\{?[A-Za-z_][A-Za-z0-9_]*\}?|<[^>]*>|\{\{[^}]*\}\}|your[-_ ]?(access[-_ ]?)?token)$/i;
export const SHELL_VARIABLE = /^\$\{?[A-Za-z_][A-Za-z0-9_]*\}?$/;

/** Validators commonly allow some clock tolerance; Microsoft.IdentityModel's default ClockSkew is 5 min. */
const JWT_LEEWAY_S = 300;

export function inspectTokenValue(c: Collector, token: string, location: string, via: BearerVia): CredentialItem {
  if (looksLikeJwt(token)) return inspectJwt(c, token, location);
  const kind = recogniseToken(token);
  const item = addItem(c, {
    kind: 'bearer-opaque',
    location,
    display: kind ? `${secret(c, token)}, ${kind.name}` : secret(c, token),
  });
  if (kind?.notBearer && (via === 'bearer' || via === 'other-scheme'))
    observe(c, {
      kind: 'token-not-bearer',
      text: `The Authorization header carries a ${kind.name}. ${kind.notBearer}`,
      source: location,
    });
  return item;
}

function inspectJwt(c: Collector, token: string, location: string): CredentialItem {
  const decoded = decodeJwtToken(token);
  const item = addItem(c, { kind: 'bearer-jwt', location, display: secret(c, token) });
  if ('error' in decoded) {
    observe(c, {
      kind: 'jwt-undecodable',
      text: `The token looks like a JWT but ${decoded.error}: it was truncated or altered on the way.`,
      source: location,
    });
    return item;
  }
  item.header = decoded.header;
  if (decoded.encrypted) {
    item.display += ' (encrypted JWT: claims not readable without the key)';
    return item;
  }
  const claims = decoded.claims!;
  item.claims = claims;
  const s = summariseClaims(claims);
  if (s.scopes.length) item.scopes = s.scopes;
  if (s.roles.length) item.roles = s.roles;
  if (s.issuer) item.issuer = s.issuer;
  if (s.audience) item.audience = s.audience;
  if (s.subject) item.subject = s.subject;
  if (s.tenant) item.tenant = s.tenant;
  for (const [name, v] of [
    ['exp', s.exp],
    ['nbf', s.nbf],
    ['iat', s.iat],
  ] as const)
    if (v !== undefined && looksLikeMilliseconds(v))
      observe(c, {
        id: `jwt-${name}-milliseconds`,
        kind: 'jwt-time-milliseconds',
        text: `The ${name} claim (${v}) is in milliseconds; JWT times are seconds since 1970 (RFC 7519 NumericDate), so validators read it as a date tens of thousands of years away.`,
        source: `claim:${name}`,
      });
  const date = (v: number | undefined) =>
    v !== undefined && !looksLikeMilliseconds(v) ? validDate(v * 1000) : undefined;
  const exp = date(s.exp);
  const nbf = date(s.nbf);
  const iat = date(s.iat);
  // Far enough below zero, a NumericDate is no date at all (a Date holds ±275,760 years).
  for (const [name, v, d] of [
    ['exp', s.exp, exp],
    ['nbf', s.nbf, nbf],
    ['iat', s.iat, iat],
  ] as const)
    if (v !== undefined && !looksLikeMilliseconds(v) && !d)
      observe(c, {
        id: `jwt-${name}-out-of-range`,
        kind: 'jwt-time-out-of-range',
        text: `The ${name} claim (${v}) is not a date: JWT times are seconds since 1970 (RFC 7519 NumericDate), and this one is hundreds of thousands of years away.`,
        source: `claim:${name}`,
      });
  observeWindow(
    c,
    item,
    {
      what: 'The token',
      id: 'jwt',
      ...(exp ? { expiresAt: exp, expiresSource: 'claim:exp' } : {}),
      ...(nbf ? { notBefore: nbf, notBeforeSource: 'claim:nbf' } : {}),
      leewaySeconds: JWT_LEEWAY_S,
      leewayNote: 'the clock tolerance many validators allow (Microsoft.IdentityModel: 5 min; others 0–60 s)',
      startSetBy: `the issuer${s.issuer ? ` (${s.issuer})` : ''}`,
    },
    iat,
  );
  // Without nbf, an iat in the future is the issuer's clock showing; validators
  // that bound the token's age (or treat iat as the start) reject it.
  if (!nbf && iat) {
    const ref = reference(c.clock);
    const ahead = iat.getTime() - ref.at.getTime();
    if (ahead > 2000 && c.clock.server)
      observe(c, {
        kind: 'jwt-issued-in-future',
        text: `The token was issued (iat ${iso(iat)}) ${formatDuration(ahead)} after ${ref.label}: the issuer's clock runs ahead of the server's, and validators that check iat reject it.`,
        source: 'claim:iat',
      });
  }
  return item;
}

/** Splits "Bearer abc" into scheme, separator and credential; a value without whitespace has no scheme. */
function splitScheme(value: string): { scheme?: string; sep: string; rest: string } {
  const m = /^(\S+)([ \t\r\n]+)((?![ \t\r\n])[\s\S]*)$/.exec(value);
  return m ? { scheme: m[1], sep: m[2], rest: m[3] } : { sep: '', rest: value };
}

export function inspectAuthorization(c: Collector, raw: string, location: string): void {
  const value = raw.replace(/^[ \t]+/, '');
  const proxy = location.includes('proxy-authorization');
  const header = proxy ? 'Proxy-Authorization' : 'Authorization';
  if (!value.trim()) {
    addItem(c, { kind: 'other', location, display: '(empty)' });
    observe(c, {
      kind: 'authorization-empty',
      text: `The ${header} header is present but empty: the code that fills it had no credential.`,
      source: location,
    });
    return;
  }
  if (/^(proxy-)?authorization\s*:/i.test(value)) {
    observe(c, {
      kind: 'header-name-in-value',
      text: `The ${header} header's value starts with "${value.split(':')[0]}:" again: the whole header line was pasted in as its value.`,
      source: location,
    });
    inspectAuthorization(c, value.slice(value.indexOf(':') + 1), location);
    return;
  }
  const { scheme, sep, rest } = splitScheme(value);
  if (!scheme) {
    inspectSchemeless(c, value.replace(/(?<![\r\n])[\r\n]+$/, ''), location, header);
    return;
  }
  const word = scheme.toLowerCase();
  const bare = word.replace(/(?<![:=,;])[:=,;]+$/, '');
  if (bare === 'bearer') return inspectBearer(c, scheme, sep, rest, location);
  if (word === 'dpop') {
    inspectTokenValue(c, rest.trim(), location, 'other-scheme');
    return;
  }
  if (word === 'basic') return inspectBasic(c, rest.trim(), location, header);
  if (word === 'aws4-hmac-sha256') return inspectSigV4Header(c, rest, location);
  if (word === 'sharedkey' || word === 'sharedkeylite') return inspectSharedKey(c, scheme, rest.trim(), location);
  if (word === 'token' || word === 'jwt') {
    const token = rest.trim();
    inspectTokenValue(c, token, location, 'other-scheme');
    if (looksLikeJwt(token))
      observe(c, {
        id: `${word}-scheme-for-jwt`,
        kind: word === 'jwt' ? 'jwt-scheme-for-jwt' : 'token-scheme-for-jwt',
        text: `The JWT is sent with the \`${scheme}\` scheme; OAuth 2.0 resource servers expect \`${header}: Bearer <token>\` (RFC 6750). Only servers configured for \`${scheme}\` accept it.`,
        source: location,
      });
    return;
  }
  const cred = rest.trim();
  addItem(c, { kind: 'other', location, display: `${scheme} ${cred ? secret(c, cred) : '(no credential)'}` });
  if (looksLikeJwt(cred))
    observe(c, {
      kind: 'unknown-scheme-for-jwt',
      text: `A JWT is sent with the unusual scheme \`${scheme}\`; bearer tokens go as \`${header}: Bearer <token>\` (RFC 6750).`,
      source: location,
    });
}

function inspectSchemeless(c: Collector, value: string, location: string, header: string): void {
  const unquoted = value.replace(/^["']|["']$/g, '');
  const item = inspectTokenValue(c, unquoted, location, 'bearer');
  const jwt = item.kind === 'bearer-jwt';
  const recognisedToken = jwt || recogniseToken(unquoted) !== undefined;
  const what = jwt ? 'a JWT' : recognisedToken ? 'a token' : 'a bare credential';
  observe(c, {
    kind: 'bearer-prefix-missing',
    text: `The ${header} header carries ${what} without a scheme: it should read \`${header}: Bearer <token>\`.`,
    source: location,
    measure: { recognisedToken },
  });
}

function inspectBearer(c: Collector, scheme: string, sep: string, rest: string, location: string): void {
  if (scheme !== 'Bearer' && /^bearer$/i.test(scheme))
    observe(c, {
      kind: 'bearer-scheme-case',
      text: `The scheme is written \`${scheme}\`. Schemes are case-insensitive (RFC 9110 section 11.1), but some servers match only \`Bearer\`.`,
      source: location,
    });
  if (!/^bearer$/i.test(scheme))
    observe(c, {
      kind: 'bearer-scheme-punctuation',
      text: `The scheme is written \`${scheme}\`: remove the "${scheme.slice(6)}" so it reads \`Bearer <token>\`.`,
      source: location,
    });
  if (/[\r\n]/.test(sep))
    observe(c, {
      kind: 'bearer-line-break',
      text: 'A line break separates `Bearer` from the token: the header was built from a value that ends in a newline.',
      source: location,
    });
  else if (sep !== ' ')
    observe(c, {
      kind: 'bearer-extra-space',
      text: `\`Bearer\` is followed by ${JSON.stringify(sep)} instead of one space; strict parsers (RFC 6750 \`Bearer 1*SP b64token\`) reject it.`,
      source: location,
    });
  let token = rest;
  const doubled = /^bearer[:]?\s+/i.exec(token);
  if (doubled) {
    observe(c, {
      kind: 'bearer-doubled',
      text: 'The scheme appears twice (`Bearer Bearer …`): the stored token already included `Bearer ` and the client added another.',
      source: location,
    });
    token = token.slice(doubled[0].length);
  }
  const trailing = /(?<![\r\n\t ])[\r\n\t ]+$/.exec(token);
  if (trailing) {
    observe(c, {
      kind: 'token-trailing-whitespace',
      measure: { lineBreak: /\r|\n/.test(trailing[0]) },
      text: /\r/.test(trailing[0])
        ? 'The token ends in a carriage return (\\r): it was read from a file or variable with Windows line endings.'
        : /\n/.test(trailing[0])
          ? 'The token ends in a line break: it was read from a file or command output without trimming.'
          : 'The token ends in spaces; servers that compare it exactly will not match it.',
      source: location,
    });
    token = token.slice(0, trailing.index);
  }
  if (/^["'].*["']$/s.test(token) || /^["']/.test(token)) {
    observe(c, {
      kind: 'token-quoted',
      text: 'The token is wrapped in quotes: they came along from a JSON value or a shell variable and are not part of the token.',
      source: location,
    });
    token = token.replace(/^["']|["']$/g, '');
  }
  flagWhitespace(c, token, location);
  if (!token || PLACEHOLDER.test(token)) {
    addItem(c, {
      kind: 'bearer-opaque',
      location,
      display: token ? `"${token}" (a placeholder, not a token)` : '(no token)',
    });
    // A curl command shared for diagnosis often keeps $TOKEN on purpose; only
    // single quotes would have sent it literally.
    const sharedCommand = c.source === 'curl' && SHELL_VARIABLE.test(token);
    observe(c, {
      kind: 'bearer-placeholder',
      measure: { sharedCommand },
      text: !token
        ? 'The header reads `Bearer` with no token after it.'
        : sharedCommand
          ? `The command sends \`Bearer ${token}\`; if it ran with the header in single quotes, the shell did not expand ${token} and the server got the variable's name instead of a token.`
          : `The header reads \`Bearer ${token}\`: the variable meant to hold the token was empty or never filled in when the request was built.`,
      source: location,
    });
    return;
  }
  inspectTokenValue(c, token.replace(/\s+/g, ''), location, 'bearer');
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** A user name that is really a key (Stripe and others take the key as the Basic user). */
function userLooksSecret(user: string): boolean {
  return (
    Boolean(recogniseToken(user)) ||
    (user.length >= 24 && !/[@\s.]/.test(user) && /[0-9]/.test(user) && /[A-Za-z]/.test(user))
  );
}

function inspectBasic(c: Collector, b64: string, location: string, header: string): void {
  if (!b64) {
    addItem(c, { kind: 'basic', location, display: 'Basic (no credentials)' });
    observe(c, {
      kind: 'basic-empty',
      text: `The ${header} header reads \`Basic\` with nothing after it.`,
      source: location,
    });
    return;
  }
  const decoded = BASE64.test(b64) && b64.length % 4 !== 1 ? Buffer.from(b64, 'base64').toString('utf8') : undefined;
  if (decoded === undefined || decoded.includes('\uFFFD')) {
    addItem(c, { kind: 'basic', location, display: `Basic ${secret(c, b64)}` });
    observe(c, {
      kind: 'basic-not-base64',
      text: 'The Basic credentials are not base64 of `user:password`; they were sent as plain text or double-encoded.',
      source: location,
    });
    return;
  }
  const colon = decoded.indexOf(':');
  if (colon < 0) {
    addItem(c, { kind: 'basic', location, display: `Basic, no colon: ${secret(c, decoded)}` });
    observe(c, {
      kind: 'basic-no-colon',
      text: 'The Basic credentials decode to text without a colon; they must be base64 of `user:password` (RFC 7617).',
      source: location,
    });
    return;
  }
  const user = decoded.slice(0, colon);
  const password = decoded.slice(colon + 1);
  const kind = recogniseToken(user);
  const userShown = userLooksSecret(user) ? secret(c, user) : user;
  const passwordShown = password
    ? `password ${c.showSecrets ? password : `…(${[...password].length} chars)`}`
    : 'empty password';
  addItem(c, {
    kind: 'basic',
    location,
    display: `Basic, user "${userShown}"${kind ? ` (${kind.name})` : ''}, ${passwordShown}`,
    principal: userShown,
  });
  if (!user)
    observe(c, {
      kind: 'basic-empty-user',
      text: 'The Basic credentials have an empty user name.',
      source: location,
    });
}

interface SigV4Parts {
  accessKeyId?: string;
  date?: string;
  region?: string;
  service?: string;
  signedHeaders?: string;
  signature?: string;
}

function parseSigV4(rest: string): SigV4Parts {
  const parts: Record<string, string> = {};
  for (const p of rest.split(',')) {
    const eq = p.indexOf('=');
    if (eq > 0) parts[p.slice(0, eq).trim().toLowerCase()] = p.slice(eq + 1).trim();
  }
  const [accessKeyId, date, region, service] = (parts.credential ?? '').split('/');
  return {
    accessKeyId: accessKeyId || undefined,
    date,
    region,
    service,
    signedHeaders: parts.signedheaders,
    signature: parts.signature,
  };
}

/** AWS accepts a signed request only within 15 minutes of its own clock. https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-auth-using-authorization-header.html */
const SIGNING_WINDOW_MS = 15 * 60 * 1000;

/**
 * Header-signed requests carry their own signing time (X-Amz-Date, x-ms-date):
 * compared with the server's Date it measures the signer's clock directly.
 */
export function judgeSigningTime(c: Collector, signedAt: Date, source: string, service: string): void {
  const ref = reference(c.clock);
  const delta = signedAt.getTime() - ref.at.getTime();
  if (Math.abs(delta) <= SIGNING_WINDOW_MS) return;
  const side = delta > 0 ? 'ahead of' : 'behind';
  const header = source.replace(/^request-header:/, '');
  // Against the server's Date this measures the signer's clock; against the
  // local clock it only says the signature was made long before (or after) sending.
  observe(
    c,
    c.clock.server
      ? {
          kind: 'signing-time-skew',
          text: `The request was signed at ${iso(signedAt)} (${header}), ${formatDuration(delta)} ${side} ${ref.label}; ${service} refuses signatures more than 15 min off its own clock, so the signing machine's clock is wrong.`,
          source,
        }
      : {
          kind: 'signing-time-stale',
          text: `The request was signed at ${iso(signedAt)} (${header}), ${formatDuration(delta)} ${side} ${ref.label}; ${service} refuses signatures more than 15 min off its own clock: the request was replayed later, or signed on a machine whose clock is off.`,
          source,
        },
  );
}

function inspectSigV4Header(c: Collector, rest: string, location: string): void {
  const p = parseSigV4(rest);
  const keyKind = p.accessKeyId ? recogniseToken(p.accessKeyId) : undefined;
  const claims: Record<string, unknown> = {};
  if (p.accessKeyId) claims.accessKeyId = secret(c, p.accessKeyId, 4);
  if (p.date) claims.credentialDate = p.date;
  if (p.region) claims.region = p.region;
  if (p.service) claims.service = p.service;
  if (p.signedHeaders) claims.signedHeaders = p.signedHeaders.split(';');
  addItem(c, {
    kind: 'aws-sigv4',
    location,
    display: `AWS4-HMAC-SHA256, key ${p.accessKeyId ? secret(c, p.accessKeyId, 4) : '(missing)'}${keyKind ? ` (${keyKind.name})` : ''}, ${[p.service, p.region].filter(Boolean).join(' in ')}`,
    ...(p.accessKeyId ? { principal: secret(c, p.accessKeyId, 4) } : {}),
    claims,
  });
  if (!p.accessKeyId || !p.signature || !p.signedHeaders || !p.region || !p.service)
    observe(c, {
      kind: 'sigv4-incomplete',
      text: 'The AWS4-HMAC-SHA256 header lacks part of `Credential=KEY/DATE/REGION/SERVICE/aws4_request, SignedHeaders=…, Signature=…`.',
      source: location,
    });
}

/** Called once request headers are known: SigV4's signing time and session token live in other headers. */
export function inspectSigV4Context(
  c: Collector,
  location: string,
  requestHeader: (name: string) => string | undefined,
): void {
  const item = c.items.find((i) => i.kind === 'aws-sigv4' && i.location === location);
  if (!item) return;
  const claims = (item.claims ??= {});
  const amzDate = requestHeader('x-amz-date');
  const signedAt = parseBasicIsoDate(amzDate) ?? parseHttpDate(requestHeader('date'));
  if (amzDate) claims.amzDate = amzDate;
  const token = requestHeader('x-amz-security-token');
  claims.securityToken = token ? `present (${token.length} chars)` : 'absent';
  const credentialDate = typeof claims.credentialDate === 'string' ? claims.credentialDate : undefined;
  if (signedAt) {
    judgeSigningTime(c, signedAt, amzDate ? 'request-header:x-amz-date' : 'request-header:date', 'AWS');
    if (credentialDate && credentialDate !== iso(signedAt).slice(0, 10).replace(/-/g, ''))
      observe(c, {
        kind: 'sigv4-date-mismatch',
        text: `The credential scope date (${credentialDate}) is not the day of X-Amz-Date (${amzDate ?? iso(signedAt)}); AWS requires them to match.`,
        source: location,
      });
  }
  const keyId = typeof item.principal === 'string' ? item.principal : '';
  if (keyId.startsWith('ASIA') && !token)
    observe(c, {
      kind: 'sigv4-session-token-missing',
      text: 'The request is signed with temporary credentials (an ASIA… key) but sends no X-Amz-Security-Token header; AWS cannot match the key without its session token.',
      source: 'request-header:x-amz-security-token',
    });
}

function inspectSharedKey(c: Collector, scheme: string, cred: string, location: string): void {
  const colon = cred.indexOf(':');
  const account = colon > 0 ? cred.slice(0, colon) : undefined;
  addItem(c, {
    kind: 'other',
    location,
    display: `${scheme} (Azure Storage shared key), account ${account ?? '(missing)'}, signature ${secret(c, colon > 0 ? cred.slice(colon + 1) : cred)}`,
    ...(account ? { principal: account } : {}),
  });
}

/** Azure Storage accepts shared-key requests within 15 min of x-ms-date. https://learn.microsoft.com/en-us/rest/api/storageservices/authorize-with-shared-key */
export function inspectSharedKeyContext(c: Collector, requestHeader: (name: string) => string | undefined): void {
  if (!c.items.some((i) => i.kind === 'other' && /^SharedKey/i.test(i.display))) return;
  const msDate = requestHeader('x-ms-date');
  const signedAt = parseHttpDate(msDate ?? requestHeader('date'));
  if (signedAt)
    judgeSigningTime(c, signedAt, msDate ? 'request-header:x-ms-date' : 'request-header:date', 'Azure Storage');
}
