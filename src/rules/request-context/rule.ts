// What the request itself says about a denial, whatever the product: a
// request that carried no credential cannot have had a wrong, expired or
// malformed one (and a 401 to it says the server could not tell who was
// asking, RFC 9110 section 15.5.2); a 401 to a request whose credential
// nothing faults says the server did not accept it; a credential valid by the
// clock it was judged by had not expired; a key in a header of its own may
// not be read from there (and one whose header name has an underscore may be
// dropped on the way); a GET is rarely refused for its method; and a request
// that went through no proxy was not blocked by one.
// It also weighs each cause by how often it answers a denial in this context
// (base-rates.json), as priors that order what the evidence leaves level.
// These are context, not findings: the rule is a fallback, set aside when a
// product's rule explained the denial or another rule is sure of a cause.
import { redactUrl } from '../../credentials/index.ts';
import { CAUSE_IDS, type CauseId } from '../../model/vocabulary.ts';
import type { CredentialItem } from '../../model/credential.ts';
import { defineCause, ev, type CauseSpec, type Context, type Reporter } from '../define.ts';
import { sentScheme } from '../_lib/challenges.ts';
import { claimStockForbidden, onlyTheStatus, stockPage } from '../_lib/stock-page.ts';
import baseRates from './base-rates.json' with { type: 'json' };
import texts from './texts.json' with { type: 'json' };
import { bucketsOf, carriedBy, type BaseRates } from './carried.ts';

type KnownCause = Exclude<CauseId, 'unknown'>;
const CAUSES = CAUSE_IDS.filter((c): c is KnownCause => c !== 'unknown');

type Counts = Partial<Record<string, number>>;
const total = (counts: Counts) => Object.values(counts).reduce((a: number, b) => a + (b ?? 0), 0);

/** How far a base rate may move a score: enough to order causes the evidence leaves level, never to outweigh evidence. */
const PRIOR_SCALE = 0.15;
/** The share among all labelled denials, which orders causes one context counted equally. */
const OVERALL_SCALE = 0.01;

/** A narrower context counts only once this many labelled denials make it up; else the wider one speaks. */
const MIN_BUCKET = 10;

const CARRIED_WORDS: Record<string, string> = {
  credential: 'a credential',
  cookies: 'only cookies',
  none: 'nothing',
  'credential:token': 'a token',
  'credential:password': 'a password',
  'credential:signature': 'a signature',
  'credential:other': 'a credential',
};

/** The scheme a challenge names for each kind of credential, to tell "asked again for the same" from "asked for another". */
const CHALLENGE_FOR: Partial<Record<string, string>> = {
  basic: 'basic',
  'bearer-jwt': 'bearer',
  'bearer-opaque': 'bearer',
  'aws-sigv4': 'aws4-hmac-sha256',
};

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

const isHtmlPage = (ctx: Context) =>
  /html/i.test(ctx.body.contentType) || ctx.body.htmlTitle !== undefined || ctx.body.htmlH1 !== undefined;

type Report = Reporter<KnownCause, keyof typeof texts.messages, keyof typeof texts.fixes>;

/** Each cause's base rate in this context: priors that count only where the evidence supports a cause. */
function claimBaseRates(ctx: Context, rates: BaseRates, report: Report): void {
  const keys = bucketsOf(ctx.status, ctx.credential.items);
  const key = keys.find((k) => total(rates.buckets[k] ?? {}) >= MIN_BUCKET) ?? keys.at(-1)!;
  const bucket = rates.buckets[key] ?? {};
  const inBucket = total(bucket);
  const overall = total(rates.overall);
  const carried = CARRIED_WORDS[key.slice(key.indexOf('/') + 1)];
  for (const cause of CAUSES) {
    const n = bucket[cause] ?? 0;
    const share =
      (inBucket ? (PRIOR_SCALE * n) / inBucket : 0) +
      (overall ? (OVERALL_SCALE * (rates.overall[cause] ?? 0)) / overall : 0);
    const weight = Math.round(share * 1000) / 1000;
    if (weight <= 0) continue;
    report.claim(cause, 'baseRate', weight, {
      data: { n, of: inBucket, status: ctx.status, carried, cause },
      evidence: [
        ev('base-rate', `${n} of ${inBucket} labelled ${ctx.status}s to requests carrying ${carried} were ${cause}`),
      ],
      prior: true,
    });
  }
}

/**
 * An answer shown without its request (a pasted response, an export that
 * stripped the credentials): only the status speaks, so the priors are how
 * often each cause answers that status at all.
 */
function claimStatusRates(ctx: Context, rates: BaseRates, report: Report, why: string): void {
  const bucket = rates.buckets[String(ctx.status)] ?? {};
  const inBucket = total(bucket);
  if (!inBucket) return;
  for (const cause of CAUSES) {
    const n = bucket[cause] ?? 0;
    const weight = Math.round(((PRIOR_SCALE * n) / inBucket) * 1000) / 1000;
    if (weight <= 0) continue;
    report.claim(cause, 'statusRate', weight, {
      data: { n, of: inBucket, status: ctx.status, cause, why },
      evidence: [ev('base-rate', `${n} of ${inBucket} labelled ${ctx.status}s were ${cause} (${why})`)],
      prior: true,
    });
  }
}

/**
 * A stock 403 page from a server no rule recognised: the server's own rules,
 * read as a known server's page is read (_lib/stock-page.ts) but weighed
 * lower, since an application may write such a page too; a request that
 * carried a session or a credential lowers them again. The error log names
 * the rule.
 */
function claimServerRule(ctx: Context, report: Report): void {
  const path = ctx.url?.pathname ?? '';
  const last = path.slice(path.lastIndexOf('/') + 1);
  const hidden = last.length > 1 && last.startsWith('.');
  const page = ctx.body.htmlTitle ?? ctx.body.htmlH1 ?? (ctx.body.text.trim() || `an empty ${ctx.status}`);
  claimStockForbidden(ctx, report, ev('body', `a stock 403 page: ${page.slice(0, 120)}`), {
    directory: ['serverLog'],
    method: ['serverLog'],
    path: {
      message: hidden ? 'dotFile' : 'pathRule',
      weight: hidden ? 0.6 : 0.35,
      data: { file: last },
      clue: hidden ? ev('request:url', `a name starting with a dot: ${last}`) : undefined,
      fixes: ['serverLog'],
    },
    ip: { message: 'addressRule', fixes: ['serverLog'] },
    unreadable: ['serverLog'],
    scale: ctx.credential.items.length ? 0.25 : 0.5,
  });
}

/** A request with no credential (or only cookies): a 401 asks for one, and nothing sent can be wrong. */
function claimNothingSent(ctx: Context, cookiesOnly: boolean, url: string, report: Report): void {
  const nothing = ev(
    'request',
    cookiesOnly
      ? 'no Authorization header, API key or signed URL; only cookies'
      : 'no Authorization header, API key, signed URL or cookie',
  );
  // With a challenge, credential-validity has said it in the server's own
  // words. A 403 page in HTML, or one that says only its status, is how web
  // servers and proxies refuse by their own rules, where an API's refusal of
  // anonymous callers is data.
  const is401 = ctx.status === 401;
  if (!ctx.challenges.length && (is401 || !(isHtmlPage(ctx) || onlyTheStatus(ctx)))) {
    report.claim('credential-missing', 'nothingSent', (is401 ? 0.4 : 0.25) * (cookiesOnly ? 0.75 : 1), {
      data: {
        carried: cookiesOnly ? 'only cookies' : 'no credential',
        status: ctx.status,
        meaning: is401
          ? 'says the server could not tell who was asking'
          : 'to a request without credentials is often how an API refuses anonymous callers',
        url,
      },
      evidence: [nothing],
      fixes: ['send'],
    });
  }
  // A cookie may be the session: it can still be wrong or expired.
  if (cookiesOnly) return;
  for (const [cause, what] of [
    ['credential-invalid', 'wrong or revoked'],
    ['credential-expired', 'expired'],
    ['credential-not-yet-valid', 'used too early'],
    ['credential-malformed', 'malformed'],
  ] as const)
    report.claim(cause, 'nothingToJudge', -0.6, { data: { what }, evidence: [nothing] });
  // A scope is what a token was issued for; none was sent.
  report.claim('insufficient-scope', 'nothingToJudge', -0.3, {
    data: { what: 'short of a scope' },
    evidence: [nothing],
  });
}

/** The weight of "valid, but for another place" beside a refusal: an alternative to check, never the finding. */
const ELSEWHERE = 0.2;

/**
 * A refused credential may be a good one for another place: a sandbox key on
 * the live host, a key from another region or data centre, a token for
 * another account or API. Services word that refusal like any wrong
 * credential, so it stays open beside it, with what would tell them apart.
 */
function claimIssuedElsewhere(ctx: Context, main: CredentialItem, report: Report): void {
  const host = ctx.url?.host ?? 'this host';
  report.claim('wrong-audience', 'refusedElsewhere', ELSEWHERE, {
    data: { host },
    evidence: [ev(main.location, main.display)],
    fixes: ['issuedFor'],
  });
}

/**
 * An OpenID Connect ID token (its nonce and at_hash, or Cognito's token_use
 * "id", and no scope) is made for the client that signed in, to say who
 * signed in; an API that wants an access token does not accept it. (An aud
 * naming another host than the one asked says less than it seems: API
 * identifiers are often logical URLs, and the same API answers on localhost,
 * internal names and gateways.)
 */
function claimIdToken(ctx: Context, items: readonly CredentialItem[], report: Report): boolean {
  const jwt = items.find((i) => i.kind === 'bearer-jwt' && i.location === 'header:authorization');
  const claims = jwt?.claims ?? {};
  const marks = ['nonce', 'at_hash', 'token_use'].filter((k) => k in claims);
  const idToken =
    ('nonce' in claims || 'at_hash' in claims || claims.token_use === 'id') && !('scope' in claims || 'scp' in claims);
  if (!jwt || !idToken) return false;
  report.claim('wrong-audience', 'idToken', 0.5, {
    data: { marks: marks.join(', '), host: ctx.url?.hostname ?? 'the API' },
    evidence: [ev(jwt.location, `an ID token: ${marks.join(', ')}`)],
    fixes: ['audience'],
  });
  return true;
}

/**
 * A request that carried a credential: a 401 to one nothing faults was a
 * refusal of it (and when the server asks again for that very scheme, it read
 * it); one still valid by its clock had not expired.
 */
function claimCarried(ctx: Context, report: Report): void {
  const items = ctx.credential.items;
  const findings = ctx.credential.findings;
  const main = items.find((i) => i.kind === ctx.credential.scheme);
  const idToken = claimIdToken(ctx, items, report);
  if (ctx.status === 401 && main && !findings.some((f) => f.weight >= 0.5)) {
    const asked = CHALLENGE_FOR[main.kind];
    const again = asked ? ctx.challenges.find((c) => c.scheme.toLowerCase() === asked) : undefined;
    const challenge = again ? ev('header:www-authenticate', ctx.header('www-authenticate') ?? again.scheme) : undefined;
    // A server reads only the schemes it challenges with (RFC 9110 section
    // 11.6.1): asked for another, it never looked at the one sent.
    const other = asked && !again && main.location === 'header:authorization' ? ctx.challenges[0] : undefined;
    if (other) {
      report.claim('credential-malformed', 'otherScheme', 0.6, {
        data: { asked: other.scheme, sent: sentScheme(ctx) ?? main.kind, url: redactUrl(ctx.url?.href ?? 'URL') },
        evidence: [
          ev('header:www-authenticate', ctx.header('www-authenticate') ?? other.scheme),
          ev(main.location, main.display),
        ],
        fixes: ['scheme'],
      });
    } else {
      report.claim('credential-invalid', 'refused', again ? 0.45 : 0.35, {
        data: {
          what: `a ${main.kind.replace('-', ' ')} credential (${main.location})`,
          challenge: again ? ` asking again for ${again.scheme}` : '',
        },
        evidence: [ev(main.location, main.display), ...(challenge ? [challenge] : [])],
        fixes: ['check'],
      });
      // (An ID token has said where it belongs already.)
      if (!idToken) claimIssuedElsewhere(ctx, main, report);
    }
    if (again && challenge)
      report.claim('credential-missing', 'readAndRefused', -0.6, {
        data: { scheme: again.scheme },
        evidence: [challenge],
      });
  }
  // Only an Authorization header is read by every server; a key in a header
  // or parameter of its own is read only where the service looks for it.
  const placed = items.filter((i) => i.kind !== 'cookie');
  const underscored = placed.find((i) => i.location.startsWith('header:') && i.location.includes('_'));
  if (underscored) {
    const header = underscored.location.slice('header:'.length);
    report.claim('credential-missing', 'underscoreDropped', 0.5, {
      data: { where: header, header, hyphenated: header.replace(/_/g, '-'), url: redactUrl(ctx.url?.href ?? 'URL') },
      evidence: [ev(underscored.location, underscored.display)],
      fixes: ['hyphenate'],
    });
  } else if (
    ctx.status === 401 &&
    !ctx.challenges.length &&
    placed.length &&
    placed.every((i) => i.location !== 'header:authorization') &&
    !findings.some((f) => f.weight >= 0.5)
  ) {
    const where = placed[0].location;
    report.claim('credential-missing', 'notReadThere', 0.3, {
      data: {
        where,
        header: where.startsWith('header:') ? where.slice('header:'.length) : 'X-API-Key',
        url: redactUrl(ctx.url?.href ?? 'URL'),
      },
      evidence: [ev(where, placed[0].display)],
      fixes: ['placeCheck'],
    });
  }
  const timed = items.filter((i) => i.expiresAt && i.kind !== 'cookie');
  const outOfWindow = findings.some((f) =>
    ['credential-expired', 'credential-not-yet-valid', 'clock-skew'].includes(f.cause),
  );
  if (timed.length && !outOfWindow) {
    const until = timed.map((i) => i.expiresAt!).sort()[0];
    report.claim('credential-expired', 'stillValid', -0.6, {
      data: { until, clock: ctx.credential.clock.server ? "the server's clock" : 'the local clock' },
      evidence: [ev(timed[0].location, `valid until ${until}`)],
    });
  }
}

/** The rule's definition over given base rates. */
const spec = (rates: BaseRates): CauseSpec<KnownCause, keyof typeof texts.messages, keyof typeof texts.fixes> => ({
  meta: {
    id: 'request-context',
    causes: CAUSES,
    statuses: [401, 403],
    ...texts,
  },
  fallback: true,
  explain(ctx, report) {
    // A request the input does not show, or one whose credentials a
    // sanitised export removed, says nothing of what was sent: the status
    // alone orders the causes.
    if (!ctx.exchange.request || ctx.exchange.credentialsStripped) {
      const why = ctx.exchange.request ? 'the export removed its credentials' : 'the request is not shown';
      claimStatusRates(ctx, rates, report, why);
      return;
    }
    const url = ctx.url ? redactUrl(ctx.url.href) : 'URL';
    const carried = carriedBy(ctx.credential.items);
    claimBaseRates(ctx, rates, report);
    if (stockPage(ctx)) claimServerRule(ctx, report);
    if (carried === 'credential') claimCarried(ctx, report);
    else claimNothingSent(ctx, carried === 'cookies', url, report);
    // A safe method is rarely what a server refuses, unless its words say so.
    if (SAFE_METHODS.has(ctx.method) && !ctx.words.lines.some((l) => /\bmethod\b/i.test(l.text)))
      report.claim('method-not-allowed', 'safeMethod', -0.6, {
        data: { method: ctx.method },
        evidence: [ev('request', `${ctx.method} ${url}`)],
      });
    const trace = ctx.exchange.trace;
    if (trace && !trace.proxy?.used)
      report.claim('proxy-interference', 'noProxy', -0.5, {
        data: {},
        evidence: [ev('trace:proxy', 'sent directly, through no proxy')],
      });
  },
});

/** The rule over other base rates: leave-one-product-out counts them without that product (bench/accuracy.ts). */
export const withBaseRates = (rates: BaseRates) => defineCause(spec(rates));

export default defineCause(spec(baseRates));
