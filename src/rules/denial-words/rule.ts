// What any denial says in its own words, for responses no product rule
// explains: "you do not have permission to view this order", "127.0.0.1 is
// not in the allow list", `{"errors":[{"extensions":{"code":"FORBIDDEN"}}]}`.
// The words come from wherever the response keeps them (ctx.words: JSON at
// any depth, XML, HTML, plain text, reason headers); phrases.json says which
// cause each wording speaks for, matched by stem so that "expired", "expires"
// and "expiration" are one word. A permission, scope or role the words or
// fields name becomes the cause's gap. Deterministic, and every claim quotes
// the words that raised it.
import type { CauseId } from '../../model/vocabulary.ts';
import type { Gap } from '../../model/report.ts';
import type { WordsField } from '../../model/rule.ts';
import type { CredentialItem } from '../../model/credential.ts';
import { compilePhrase, matchPhrase, tokenize, type Phrase } from '../_lib/phrases.ts';
import { defineCause, ev, type Context } from '../define.ts';
import { stockPage } from '../_lib/stock-page.ts';
import { redactUrl } from '../../credentials/index.ts';
import phrases from './phrases.json' with { type: 'json' };
import texts from './texts.json' with { type: 'json' };

const CAUSES = [
  'insufficient-scope',
  'insufficient-role',
  'credential-invalid',
  'credential-missing',
  'credential-malformed',
  'credential-expired',
  'credential-not-yet-valid',
  'clock-skew',
  'wrong-audience',
  'ip-restricted',
  'account-state',
  'resource-state',
  'feature-disabled',
  'not-owner',
  'field-restricted',
  'explicit-deny',
  'resource-policy',
  'rate-limited',
  'csrf',
  'cors',
  'waf-block',
  'method-not-allowed',
  'directory-listing',
  'filesystem-permission',
  'wrong-endpoint',
  'conditional-access',
  'proxy-interference',
] as const satisfies readonly CauseId[];
type WordsCause = (typeof CAUSES)[number];

interface Group {
  cause: WordsCause;
  weight: number;
  phrases: Phrase[];
}

const isWordsCause = (id: string): id is WordsCause => (CAUSES as readonly string[]).includes(id);

/** phrases.json, compiled once; a phrase that does not compile, or a cause outside the vocabulary, fails on load. */
const GROUPS: Group[] = phrases.groups.map((g) => {
  if (!isWordsCause(g.cause))
    throw new Error(`denial-words: phrases.json names cause "${g.cause}", not one this rule declares`);
  return { cause: g.cause, weight: g.weight, phrases: g.phrases.map(compilePhrase) };
});

/** Phrases by a stem their first required word may start with: a line is tried only against phrases one of its words can open. */
const BY_STEM = new Map<string, Phrase[]>();
for (const g of GROUPS)
  for (const p of g.phrases)
    for (const stem of p.required[0]) {
      const list = BY_STEM.get(stem) ?? [];
      list.push(p);
      BY_STEM.set(stem, list);
    }

interface Reading {
  cause: WordsCause;
  weight: number;
  quote: string;
  source: string;
  line: string;
  grant?: string;
}

/** A method ("DELETE is not allowed") or an origin or URL ("https://x is not allowed") is no permission, scope or role. */
const namesAGrant = (grant: string) =>
  !/^(GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS|CONNECT|TRACE)$/i.test(grant) &&
  !/^[a-z][a-z0-9+.-]{0,20}:\/\//i.test(grant);

/** The strongest reading per cause, over every line the response has. */
function readLines(ctx: Context): Reading[] {
  const best = new Map<WordsCause, Reading>();
  for (const line of ctx.words.lines) {
    const tokens = tokenize(line.text);
    const stems = new Set(tokens.map((t) => t.stem));
    const candidates = new Set<Phrase>();
    for (const stem of stems) for (const p of BY_STEM.get(stem) ?? []) candidates.add(p);
    if (!candidates.size) continue;
    for (const group of GROUPS) {
      const held = best.get(group.cause);
      if (held && held.weight >= group.weight) continue;
      for (const phrase of group.phrases) {
        if (!candidates.has(phrase)) continue;
        const m = matchPhrase(phrase, line.text, tokens, stems);
        if (!m) continue;
        const grant = m.captures.grant;
        best.set(group.cause, {
          cause: group.cause,
          weight: group.weight,
          quote: m.quote,
          source: line.source,
          line: line.text,
          ...(grant && namesAGrant(grant) ? { grant } : {}),
        });
        break;
      }
    }
  }
  return [...best.values()];
}

/** A field's name without case, `_`, `-` or spaces: `required_scopes`, `requiredScopes` and `X-Required-Scopes` alike. */
const keyOf = (f: WordsField) => f.key.toLowerCase().replace(/[_\-\s]/g, '');

/** Which cause a field that names grants speaks for, and whether it lists what was required or what is held. */
function fieldMeaning(f: WordsField): { cause: 'insufficient-scope' | 'insufficient-role'; side: 'required' | 'held' } {
  const k = keyOf(f);
  const cause = /scope/.test(k) ? 'insufficient-scope' : 'insufficient-role';
  const side = /^(granted|held|current|your|xoauthscopes)/.test(k) ? 'held' : 'required';
  return { cause, side };
}

/** Only a field whose name says what was required (or held) counts; a bare "permissions" list could be anything. */
const NAMES_A_NEED =
  /^(required|missing|needed|requested|accepted|granted|held|current|your|x(required|accepted|missing|permitted|oauth))/;

function gapFor(ctx: Context, cause: WordsCause, grant?: string): Gap | undefined {
  if (cause !== 'insufficient-scope' && cause !== 'insufficient-role' && cause !== 'field-restricted') return undefined;
  const required = new Set<string>();
  const held = new Set<string>();
  if (grant) required.add(grant.replace(/^[[(]|[\])]$/g, ''));
  for (const f of ctx.words.fields) {
    if (!NAMES_A_NEED.test(keyOf(f))) continue;
    const meaning = fieldMeaning(f);
    if (cause !== 'field-restricted' && meaning.cause !== cause) continue;
    for (const v of f.value)
      for (const one of v.split(/[\s,]+/)) if (one) (meaning.side === 'required' ? required : held).add(one);
  }
  if (cause === 'insufficient-scope')
    for (const item of ctx.credential.items) for (const s of item.scopes ?? []) held.add(s);
  if (!required.size) return undefined;
  return { required: [...required].slice(0, 20), held: [...held].slice(0, 50) };
}

type FixId = keyof typeof texts.fixes;

const FIXES: Record<WordsCause, { named?: FixId[]; fixes: FixId[] }> = {
  'insufficient-scope': { named: ['scopeNamed'], fixes: ['scopeFind'] },
  'insufficient-role': { named: ['grantNamed', 'compareIdentity'], fixes: ['grantFind', 'compareIdentity'] },
  'credential-invalid': { fixes: ['credentialCheck', 'credentialNew'] },
  'credential-missing': { fixes: ['credentialSend'] },
  'credential-malformed': { fixes: ['credentialShape'] },
  'credential-expired': { fixes: ['credentialRenew'] },
  'credential-not-yet-valid': { fixes: ['clockCheck'] },
  'clock-skew': { fixes: ['clockCheck'] },
  'wrong-audience': { fixes: ['audienceCheck', 'issuedFor'] },
  'ip-restricted': { fixes: ['addressCheck'] },
  'account-state': { fixes: ['accountCheck'] },
  'resource-state': { fixes: ['resourceCheck'] },
  'feature-disabled': { fixes: ['featureEnable'] },
  'not-owner': { fixes: ['ownerCheck'] },
  'field-restricted': { named: ['fieldNamed'], fixes: ['fieldFind'] },
  'explicit-deny': { fixes: ['denyFind'] },
  'resource-policy': { fixes: ['policyRead'] },
  'rate-limited': { fixes: ['rateWait'] },
  csrf: { fixes: ['csrfToken'] },
  cors: { fixes: ['corsOrigin'] },
  'waf-block': { fixes: ['wafReport'] },
  'method-not-allowed': { fixes: ['methodCheck'] },
  'directory-listing': { fixes: ['directoryIndex'] },
  'filesystem-permission': { fixes: ['filePermissions'] },
  'wrong-endpoint': { fixes: ['endpointCheck'] },
  'conditional-access': { fixes: ['conditionMeet'] },
  'proxy-interference': { fixes: ['proxyBypass'] },
};

/** Credentials that carry their own grants (scopes, token permissions), unlike a password or a session. */
const TOKEN_KINDS = new Set(['bearer-jwt', 'bearer-opaque', 'api-key']);

const short = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/**
 * A reading's weight in context. Saying no credential came, to a request
 * whose Authorization header carried one, is half the story (the rest is
 * `notTaken`). A bare refusal of permission that shares its line with a
 * narrower reading (a field, an owner, an expired token) gives way to it:
 * "permission" is the genus, the other names the species.
 */
function weighed(
  r: Reading,
  readings: readonly Reading[],
  credential: CredentialItem | undefined,
  status: number,
  stock = false,
): number {
  if (r.cause === 'credential-missing' && credential?.location === 'header:authorization')
    return Math.round(r.weight * 50) / 100;
  // "Your session has expired. Please log in again", "MFA authentication is
  // required": asked to sign in because the credential expired or a step-up
  // is wanted, not because none came.
  if (
    r.cause === 'credential-missing' &&
    readings.some((o) => o.line === r.line && (o.cause === 'credential-expired' || o.cause === 'conditional-access'))
  )
    return Math.round(r.weight * 50) / 100;
  // "Missing or invalid", to a request that carried a credential: it was not missing.
  if (
    r.cause === 'credential-missing' &&
    credential &&
    readings.some((o) => o.line === r.line && o.cause === 'credential-invalid')
  )
    return Math.round(r.weight * 50) / 100;
  // A stock 403 page's sentence ("You don't have permission to access this
  // resource") is the server's boilerplate for every rule it has: it says no
  // more than the status.
  if (r.cause === 'insufficient-role' && !r.grant && stock) return Math.min(r.weight, 0.15);
  // A 401 is the server's own word that it did not authenticate the caller:
  // "not authorized" there speaks of the credential more than of a grant.
  if (r.cause === 'insufficient-role' && !r.grant && status === 401) return Math.round(r.weight * 60) / 100;
  // A line that is only a code or a status ("PERMISSION_DENIED", "Access
  // denied") names the genus wherever the message names the species.
  const onlyACode = tokenize(r.line).length <= 3;
  if (
    r.cause === 'insufficient-role' &&
    !r.grant &&
    readings.some(
      (o) =>
        o !== r && (o.line === r.line || onlyACode) && o.cause !== 'insufficient-scope' && o.weight >= r.weight - 0.1,
    )
  )
    return Math.round((r.weight - 0.15) * 100) / 100;
  return r.weight;
}

export default defineCause({
  meta: {
    id: 'denial-words',
    causes: CAUSES,
    ...texts,
  },
  fallback: true,
  explain(ctx, report) {
    const url = ctx.url ? ctx.url.href : 'URL';
    const claimed = new Set<WordsCause>();
    const readings = readLines(ctx);
    const credential = ctx.credential.items.find((i) => i.kind !== 'cookie');
    for (const r of readings) {
      // "Invalid for the environment": the words say where it is not valid, which is the finding.
      if (r.cause === 'credential-invalid' && readings.some((o) => o.line === r.line && o.cause === 'wrong-audience'))
        continue;
      // "CSRF token missing or incorrect": the token the words speak of is the anti-forgery one, not a credential.
      if (r.cause.startsWith('credential-') && readings.some((o) => o.line === r.line && o.cause === 'csrf')) continue;
      const gap = gapFor(ctx, r.cause, r.grant);
      const named = gap?.required.join(', ');
      const advice = FIXES[r.cause];
      claimed.add(r.cause);
      report.claim(r.cause, 'says', weighed(r, readings, credential, ctx.status, stockPage(ctx)), {
        data: {
          quote: short(r.quote, 160),
          where: r.source,
          grant: named ?? '',
          url,
          method: ctx.method,
        },
        evidence: [ev(r.source, short(r.line, 300))],
        ...(gap ? { gap } : {}),
        fixes: named && advice.named ? advice.named : advice.fixes,
      });
    }
    // A permission refused to a token may be the token's own scope (what it
    // was issued for) rather than the account's role: both stay open.
    const role = readings.find((r) => r.cause === 'insufficient-role');
    const token = ctx.credential.items.find((i) => TOKEN_KINDS.has(i.kind));
    if (role && token && !claimed.has('insufficient-scope')) {
      claimed.add('insufficient-scope');
      report.claim('insufficient-scope', 'tokenPermission', Math.round(role.weight * 75) / 100, {
        data: { kind: token.kind, quote: short(role.quote, 160), url, method: ctx.method },
        evidence: [ev(role.source, short(role.line, 300)), ev(token.location, token.display)],
        fixes: FIXES['insufficient-scope'].fixes,
      });
    }
    // Words that say no credential came, to a request that carried one: the
    // server did not take it — the wrong kind, in the wrong place, or not valid.
    // (A line that also says what was wrong with it has said it already.)
    const missing = readings.find((r) => r.cause === 'credential-missing');
    const narrower = missing && readings.some((o) => o !== missing && o.line === missing.line);
    if (missing && credential && !narrower && !claimed.has('credential-invalid')) {
      claimed.add('credential-invalid');
      const standard = credential.location === 'header:authorization';
      report.claim(
        'credential-invalid',
        'notTaken',
        standard ? missing.weight : Math.round(missing.weight * 75) / 100,
        {
          data: { quote: short(missing.quote, 160), where: credential.location },
          evidence: [ev(missing.source, short(missing.line, 300)), ev(credential.location, credential.display)],
          fixes: FIXES['credential-invalid'].fixes,
        },
      );
      if (!claimed.has('credential-malformed')) {
        claimed.add('credential-malformed');
        report.claim('credential-malformed', 'notTakenForm', 0.2, {
          data: { quote: short(missing.quote, 160), where: credential.location },
          evidence: [ev(missing.source, short(missing.line, 300)), ev(credential.location, credential.display)],
          fixes: FIXES['credential-malformed'].fixes,
        });
      }
    }
    // A bare refusal of permission to an authenticated request, with nothing
    // narrower said: services that hide what exists answer a wrong path (a
    // typo, another region or namespace) in the same words.
    const onlyRefusal = readings.every((r) => r.cause === 'insufficient-role' || r.cause === 'insufficient-scope');
    if (role && !role.grant && onlyRefusal && credential && ctx.status === 403 && !claimed.has('wrong-endpoint')) {
      claimed.add('wrong-endpoint');
      report.claim('wrong-endpoint', 'mayNotExist', 0.15, {
        data: { quote: short(role.quote, 160), url: ctx.url ? redactUrl(ctx.url.href) : 'the URL' },
        evidence: [ev(role.source, short(role.line, 300))],
        fixes: FIXES['wrong-endpoint'].fixes,
      });
    }
    // Words that call a credential wrong, on a 403 (a 401's refusal is
    // request-context's to weigh): a good credential for another place is
    // refused in the same words, so it stays open beside them.
    const invalid = readings.find((r) => r.cause === 'credential-invalid');
    if (invalid && credential && ctx.status !== 401 && !claimed.has('wrong-audience')) {
      claimed.add('wrong-audience');
      report.claim('wrong-audience', 'invalidElsewhere', 0.2, {
        data: { quote: short(invalid.quote, 160), host: ctx.url?.host ?? 'this host' },
        evidence: [ev(invalid.source, short(invalid.line, 300)), ev(credential.location, credential.display)],
        fixes: ['issuedFor'],
      });
    }
    // Words that speak of a JWT, to a bearer token that is not one: the
    // server expected another kind of credential (or the token elsewhere).
    const jwtLine = ctx.words.lines.find((l) => /\bjwts?\b/i.test(l.text));
    const opaque = ctx.credential.items.find(
      (i) => i.kind === 'bearer-opaque' && i.location === 'header:authorization',
    );
    if (jwtLine && opaque && !claimed.has('credential-malformed')) {
      claimed.add('credential-malformed');
      report.claim('credential-malformed', 'notAJwt', 0.65, {
        data: { quote: short(jwtLine.text, 160) },
        evidence: [ev(jwtLine.source, short(jwtLine.text, 300)), ev(opaque.location, opaque.display)],
        fixes: FIXES['credential-malformed'].fixes,
      });
    }
    // A field that names the grant the operation required speaks even when the words do not.
    for (const cause of ['insufficient-scope', 'insufficient-role'] as const) {
      if (claimed.has(cause)) continue;
      const gap = gapFor(ctx, cause);
      const field = ctx.words.fields.find((f) => {
        return NAMES_A_NEED.test(keyOf(f)) && fieldMeaning(f).cause === cause && fieldMeaning(f).side === 'required';
      });
      if (!gap || !field) continue;
      report.claim(cause, 'names', 0.5, {
        data: {
          field: field.path,
          value: short(gap.required.join(', '), 160),
          grant: gap.required.join(', '),
          url,
          method: ctx.method,
        },
        evidence: [ev(field.path.startsWith('header:') ? field.path : `body:${field.path}`, field.value.join(', '))],
        gap,
        fixes: FIXES[cause].named ?? FIXES[cause].fixes,
      });
    }
  },
});
