// The same request with every credential the user sent removed. Whether the
// answer changes tells identity causes (the server knows who you are and
// refuses that identity) from everything else (a network, path or WAF rule
// that refuses everyone alike).
//
// Also home to what the other identity probes share about which parts of a
// request carry a credential; reading answers is in ../compare.ts.
import { headerValue, type Exchange } from '../../model/exchange.ts';
import type { CauseId } from '../../model/vocabulary.ts';
import type { CauseClaim } from '../../model/rule.ts';
import { isSecretHeader, isSecretParam } from '../../credentials/redact.ts';
import { isApiKeyHeader } from '../../credentials/api-key-headers.ts';
import { SIGNED_URL_PARAMS } from '../../credentials/signed-urls.ts';
import { combine, withoutCookies, withoutHeaders, withoutQuery } from '../vary.ts';
import { defineProbe, type ProbeContext, type ProbeFinding, type ProbeRequest } from '../define.ts';
import {
  against,
  challengeOf,
  claim,
  CREDENTIAL_STATE,
  CREDENTIAL_VALIDITY,
  deniedCredential,
  describeAnswer,
  describeRemoved,
  finding,
  forStanding,
  GRANTS,
  IDENTITY_GRANT,
  NOT_IDENTITY,
  readOutcome,
  REFUSES_ALIKE,
  standingOf,
} from '../compare.ts';

const NAME = 'without-credential';

// calling; and Proxy-Authorization is for the proxy, not the server that denied.
const KEPT_HEADERS = new Set(['proxy-authorization', 'x-csrf-token', 'x-xsrf-token', 'x-csrftoken', 'csrf-token']);
const SIGNED_KINDS = new Set(['aws-presigned-url', 'azure-sas', 'google-signed-url']);

export const isCredentialHeader = (name: string): boolean => {
  const n = name.toLowerCase();
  return !KEPT_HEADERS.has(n) && (isSecretHeader(n) || isApiKeyHeader(n));
};

/** The user's request with every credential it carried removed: the whole Cookie header, credential headers, credential query parameters. */
export function withoutCredentials(ctx: ProbeContext): ProbeRequest {
  const req = ctx.original;
  const items = ctx.report.credential.items;
  let probe = combine(withoutCookies(req), (r) =>
    withoutHeaders(r, (h) => h.name.toLowerCase() !== 'cookie' && isCredentialHeader(h.name)),
  );
  let url: URL;
  try {
    url = new URL(req.url);
  } catch {
    return probe;
  }
  const signed = items.some((i) => SIGNED_KINDS.has(i.kind));
  const fromItems = new Set(
    items.filter((i) => i.location.startsWith('query:')).map((i) => i.location.slice(6).toLowerCase()),
  );
  const names = [
    ...new Set(
      [...url.searchParams]
        .filter(([k, v]) => {
          const n = k.toLowerCase();
          // A signed URL is one credential spread over many parameters; half of it is a malformed request, not an anonymous one.
          // `code` is an OAuth authorization code on its way to be exchanged, not a credential this server judges.
          return (signed && SIGNED_URL_PARAMS.has(n)) || fromItems.has(n) || (n !== 'code' && isSecretParam(k, v));
        })
        .map(([k]) => k),
    ),
  ];
  if (names.length) probe = combine(probe, (r) => withoutQuery(r, names));
  return probe;
}

// ---------------------------------------------------------------- reading

/**
 * How a probe's answer compares with the original denial:
 * allowed (2xx, 304), same (status and body shape), challenge (401, a
 * WWW-Authenticate challenge, a redirect to a login page), different (a
 * denial that reads otherwise), hidden (404/410), redirect (elsewhere), other.
 */
function interpret(ctx: ProbeContext, probe: ProbeRequest, ex: Exchange): ProbeFinding {
  const o = ctx.first.response.status;
  const p = ex.response.status;
  const what = describeRemoved(probe.removed);
  const reading = readOutcome(ctx.first, ex);
  const claims: CauseClaim[] = [];
  const identityStanding = standingOf(ctx, [...IDENTITY_GRANT, ...CREDENTIAL_STATE, 'wrong-audience']);
  const item = deniedCredential(ctx);
  const fallbackGrant: CauseId = item?.scopes?.length ? 'insufficient-scope' : 'insufficient-role';
  let meaning: string;

  if (reading === 'allowed') {
    meaning = `Without ${what} the server answers ${p}: the resource is public, and it is your credential itself that is refused (invalid, revoked, expired or for another audience), not a missing grant or a network rule.`;
    const text = `Without the credential the same request gets ${p}; with it, ${o}.`;
    claims.push(
      claim(
        NAME,
        'credential-invalid',
        0.6,
        'The server refuses this credential itself: the same request without it is allowed.',
        text,
      ),
    );
    for (const id of standingOf(ctx, [
      'credential-expired',
      'credential-not-yet-valid',
      'clock-skew',
      'wrong-audience',
      'credential-malformed',
      'account-state',
    ]))
      claims.push(
        claim(
          NAME,
          id,
          0.5,
          'The server refuses this credential itself: the same request without it is allowed.',
          text,
        ),
      );
    claims.push(
      ...against(
        NAME,
        [...NOT_IDENTITY, 'method-not-allowed'],
        -0.85,
        `${text} No network, path or method rule refuses this request.`,
      ),
    );
    claims.push(
      ...against(
        NAME,
        ['credential-missing'],
        -0.8,
        `${text} The credential reaches the server: its presence changes the answer.`,
      ),
    );
    claims.push(...against(NAME, GRANTS, -0.5, `${text} Anonymous callers may do this, so no grant is missing.`));
  } else if (o === 401 && reading === 'same') {
    meaning = `Without ${what} the server answers exactly the same 401: either it never sees your credential (stripped on the way, wrong header name or format) or it answers every refused credential like a missing one.`;
    const text = `With and without the credential the answer is the same 401${challengeOf(ex) ? ` (${headerValue(ex.response.headers, 'www-authenticate')})` : ''}.`;
    claims.push(
      claim(
        NAME,
        'credential-missing',
        0.3,
        'The server answers as if no credential were sent: it may never reach it.',
        text,
      ),
    );
    if (ctx.standing.includes('credential-malformed'))
      claims.push(
        claim(
          NAME,
          'credential-malformed',
          0.2,
          'The server answers as if no credential were sent: it may not parse it.',
          text,
        ),
      );
  } else if (o === 401 && (reading === 'challenge' || reading === 'different' || reading === 'hidden')) {
    meaning = `Without ${what} the server answers ${describeAnswer(ex)}, not what it says to your credential: it reads your credential and rejects it (expired, invalid, for another audience).`;
    const text = `Without the credential: ${describeAnswer(ex)}; with it: ${describeAnswer(ctx.first)}. The server tells them apart.`;
    const ids = standingOf(ctx, [
      'credential-expired',
      'credential-invalid',
      'credential-not-yet-valid',
      'clock-skew',
      'wrong-audience',
      'credential-malformed',
    ]);
    for (const id of ids.length ? ids : (['credential-invalid'] as CauseId[]))
      claims.push(claim(NAME, id, 0.35, 'The server reads the credential and rejects it.', text));
    claims.push(...against(NAME, ['credential-missing'], -0.8, `${text} The credential reaches the server.`));
  } else if (reading === 'challenge') {
    meaning = `Without ${what} the server answers ${describeAnswer(ex)}: it recognises your credential, so the ${o} is about what this identity may do, not about the network, the path or a WAF.`;
    const text = `Without the credential: ${describeAnswer(ex)}; with it: ${o}. The server knows who you are and refuses that identity.`;
    for (const id of identityStanding.length ? identityStanding : [fallbackGrant])
      claims.push(
        claim(
          NAME,
          id,
          identityStanding.length ? 0.3 : 0.4,
          'The server recognises the credential and refuses this identity.',
          text,
        ),
      );
    claims.push(...against(NAME, NOT_IDENTITY, -0.85, text));
    claims.push(...against(NAME, ['credential-missing'], -0.8, `${text} The credential reaches the server.`));
  } else if (reading === 'different' || reading === 'hidden') {
    meaning = `Without ${what} the server answers ${p}${reading === 'different' ? ' with another body' : ' (the resource is hidden from anonymous callers)'}: it tells you apart from an anonymous caller, so the denial concerns this identity.`;
    const text = `Without the credential: ${p}${reading === 'different' ? ' with a different body' : ''}; with it: ${o}.`;
    for (const id of identityStanding.length ? identityStanding : [fallbackGrant])
      claims.push(claim(NAME, id, 0.2, 'The server answers this identity differently from an anonymous caller.', text));
    claims.push(...against(NAME, NOT_IDENTITY, -0.6, text));
    claims.push(...against(NAME, ['credential-missing'], -0.6, `${text} The credential reaches the server.`));
  } else if (reading === 'same') {
    meaning = `Without ${what} the answer is the same ${p}: the denial does not depend on who you are (a network, path, WAF or server rule), unless your credential never reaches the server.`;
    const text = `With and without the credential the answer is the same ${p} with the same body.`;
    // Cloud storage and IAM answer an anonymous caller and an unauthorised one with the same AccessDenied, so sameness proves less there.
    const alike = ctx.report.deniedBy && ['storage', 'cloud-iam'].includes(ctx.report.deniedBy.layer);
    claims.push(
      ...against(NAME, IDENTITY_GRANT, alike ? -0.3 : -0.6, `${text} What this identity may do makes no difference.`),
    );
    claims.push(
      ...against(
        NAME,
        [...CREDENTIAL_STATE, 'wrong-audience'],
        alike ? -0.3 : -0.75,
        `${text} Whether the credential is valid makes no difference.`,
      ),
    );
    claims.push(
      ...forStanding(
        ctx,
        NAME,
        REFUSES_ALIKE,
        0.4,
        'The denial is the same without any credential: it refuses everyone alike.',
        text,
      ),
    );
    if (ctx.standing.includes('credential-missing'))
      claims.push(claim(NAME, 'credential-missing', 0.2, 'The server answers as if no credential were sent.', text));
  } else {
    meaning = `Without ${what} the server answers ${p}; that does not separate the hypotheses.`;
  }
  return finding(NAME, probe, ex, meaning, claims);
}

export default defineProbe({
  name: NAME,
  separates: [...IDENTITY_GRANT, ...CREDENTIAL_VALIDITY, ...NOT_IDENTITY, 'credential-missing'],
  order: 10,
  maxRequests: 1,
  applies(ctx) {
    if (withoutCredentials(ctx).removed.length) return true;
    const items = ctx.report.credential.items;
    if (items.some((i) => i.location.startsWith('body:')))
      return 'the only credential travels in the request body, which this probe does not edit';
    if (items.some((i) => i.location === 'header:proxy-authorization'))
      return 'the only credential is Proxy-Authorization, which is for the proxy and is kept';
    return 'the request carries no credential to remove';
  },
  plan: (ctx) => [withoutCredentials(ctx)],
  async run(ctx, send) {
    const probe = withoutCredentials(ctx);
    const ex = await send(NAME, probe);
    return ex ? [interpret(ctx, probe, ex)] : [];
  },
});
