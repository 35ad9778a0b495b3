// The same request with a fresh credential from the user's --token-cmd in
// place of the one that was denied, sent only when expiry or revocation is a
// hypothesis. Allowed: the old credential had expired or been revoked. The same
// denial: its age is not why.
import type { Exchange, ExchangeRequest } from '../../model/exchange.ts';
import type { CredentialItem } from '../../model/credential.ts';
import type { CauseId } from '../../model/vocabulary.ts';
import type { CauseClaim } from '../../model/rule.ts';
import { observeToken } from '../../credentials/index.ts';
import { redactSecret } from '../../credentials/redact.ts';
import { isApiKeyHeader } from '../../credentials/api-key-headers.ts';
import { withHeader } from '../vary.ts';
import { runCredentialCommand } from '../credential-command.ts';
import { defineProbe, type ProbeContext, type ProbeFinding, type ProbeRequest } from '../define.ts';
import {
  against,
  claim,
  CREDENTIAL_STATE,
  deniedCredential,
  describeAnswer,
  describeClaims,
  finding,
  NOT_IDENTITY,
  readOutcome,
  standingOf,
} from '../compare.ts';

const NAME = 'fresh-credential';
const EXPIRY: CauseId[] = ['credential-expired', 'credential-invalid', 'credential-not-yet-valid', 'clock-skew'];
const PERMISSION: CauseId[] = [
  'insufficient-scope',
  'insufficient-role',
  'not-owner',
  'explicit-deny',
  'resource-policy',
];
/** Schemes whose value is a signature over the request: a token cannot stand in for it. */
const SIGNED_SCHEME = /^(aws4-hmac-sha256|aws|sharedkey|sharedkeylite|hmac|signature)$/i;
const PLACEHOLDER = '<output of --token-cmd>';

/** Where the denied credential sat, and the scheme the user wrote before it. */
interface Slot {
  header: string;
  scheme?: string;
  old: string;
}

function slotOf(req: ExchangeRequest): Slot | string {
  const auth = req.headers.find((h) => h.name.toLowerCase() === 'authorization');
  if (auth) {
    const m = /^\s*(\S+)\s([\s\S]+)$/.exec(auth.value);
    if (m && SIGNED_SCHEME.test(m[1]))
      return `the Authorization header is a ${m[1]} signature over the request; a token cannot be swapped in for it`;
    return m ? { header: auth.name, scheme: m[1], old: m[2].trim() } : { header: auth.name, old: auth.value.trim() };
  }
  const key = req.headers.find((h) => isApiKeyHeader(h.name));
  if (key) return { header: key.name, old: key.value.trim() };
  return 'the request carries no Authorization or API-key header for a fresh credential to replace';
}

/** The header value with the fresh token, in the scheme the user wrote (kept when the command prints it too). */
function valueFor(slot: Slot, token: string): string {
  if (!slot.scheme) return token;
  const m = /^(\S+)\s+(\S+)$/.exec(token);
  if (m && m[1].toLowerCase() === slot.scheme.toLowerCase()) return token;
  return `${slot.scheme} ${token}`;
}

function swap(req: ExchangeRequest, slot: Slot, token: string): ProbeRequest {
  return withHeader(req, { name: slot.header, value: valueFor(slot, token) }, 'fresh from --token-cmd');
}

/** One line, with anything that looks like a token masked: an error may echo what the command was handed. */
function oneLine(err: unknown): string {
  const text = (err instanceof Error ? err.message : String(err)).split('\n')[0].slice(0, 240);
  return text.replace(/[A-Za-z0-9_.~+=-]{24,}/g, (m) => (/\d/.test(m) && /[A-Za-z]/.test(m) ? redactSecret(m) : m));
}

function failed(meaning: string): ProbeFinding {
  return { result: { name: NAME, status: null, meaning }, claims: [] };
}

function interpret(
  ctx: ProbeContext,
  probe: ProbeRequest,
  ex: Exchange,
  fresh: CredentialItem | undefined,
  old: CredentialItem | undefined,
): ProbeFinding {
  const o = ctx.first.response.status;
  const p = ex.response.status;
  const reading = readOutcome(ctx.first, ex);
  const claims: CauseClaim[] = [];
  const desc = describeClaims(fresh);
  const text = `A fresh credential from --token-cmd (${desc}) gets ${describeAnswer(ex)}; the old one (${describeClaims(old)}) got ${o}.`;
  const expired = old?.expiresAt && Date.parse(old.expiresAt) < Date.now();
  const confirmed: CauseId =
    standingOf(ctx, CREDENTIAL_STATE)[0] ?? (expired ? 'credential-expired' : 'credential-invalid');
  const how =
    {
      'credential-expired': 'had expired',
      'credential-invalid': 'had been revoked or was invalid',
      'credential-not-yet-valid': 'was not yet valid',
    }[confirmed as string] ?? 'was refused';
  // A fresh token that also carries more scopes or roles proves less about age: it may be the grants that changed.
  const widened = [
    ...(fresh?.scopes ?? []).filter((s) => !(old?.scopes ?? []).includes(s)),
    ...(fresh?.roles ?? []).filter((r) => !(old?.roles ?? []).includes(r)),
  ];
  const comparable = Boolean(old?.claims && fresh?.claims);
  let meaning: string;

  if (reading === 'allowed') {
    if (comparable && widened.length) {
      meaning = `With a fresh credential (${desc}) the server answers ${p}, but the fresh one also holds ${widened.join(', ')} that the old one lacked: either the old credential ${how}, or it lacked those grants.`;
      claims.push(claim(NAME, confirmed, 0.5, `The old credential ${how}: a fresh one is accepted.`, text));
      const scopeGap = (fresh?.scopes ?? []).filter((s) => !(old?.scopes ?? []).includes(s));
      if (scopeGap.length)
        claims.push(
          claim(
            NAME,
            'insufficient-scope',
            0.5,
            `The old credential lacked ${scopeGap.join(', ')}, which the accepted fresh one holds.`,
            text,
            { required: scopeGap, held: old?.scopes ?? [] },
          ),
        );
    } else {
      meaning = `With a fresh credential (${desc}) the server answers ${p}: the old credential ${how}; nothing is missing from this identity's grants.`;
      claims.push(
        claim(NAME, confirmed, 0.85, `The old credential ${how}: a fresh one for the same request is accepted.`, text),
      );
      claims.push(...against(NAME, PERMISSION, -0.8, `${text} The same identity with a fresh credential may do this.`));
    }
    claims.push(
      ...against(
        NAME,
        [...NOT_IDENTITY, 'method-not-allowed'],
        -0.85,
        `${text} The same request from the same place is allowed.`,
      ),
    );
    if (confirmed !== 'credential-not-yet-valid')
      claims.push(
        ...against(NAME, ['clock-skew'], -0.6, `${text} A clock difference would refuse the fresh credential too.`),
      );
  } else if (reading === 'same') {
    const skew = ctx.standing.includes('clock-skew');
    meaning = `With a fresh credential (${desc}) the server answers the same ${p}: the old credential's age or revocation is not why${skew ? '; a clock difference would refuse the fresh one too, so clock skew still stands' : ''}.`;
    claims.push(
      ...against(
        NAME,
        ['credential-expired', 'credential-not-yet-valid'],
        -0.8,
        `${text} A credential just issued is refused the same way.`,
      ),
    );
    claims.push(
      ...against(NAME, ['credential-invalid'], -0.6, `${text} A credential just issued is refused the same way.`),
    );
    if (skew)
      claims.push(
        claim(
          NAME,
          'clock-skew',
          0.3,
          'Even a credential just issued is refused: the server may judge it by a clock that disagrees with the issuer’s.',
          text,
        ),
      );
  } else if (o === 401 && p === 403) {
    meaning = `With a fresh credential (${desc}) the server answers 403 instead of 401: the old credential ${how}; the fresh one is accepted, but this identity still lacks permission.`;
    claims.push(claim(NAME, confirmed, 0.7, `The old credential ${how}: a fresh one gets past authentication.`, text));
    const grant: CauseId = fresh?.scopes?.length ? 'insufficient-scope' : 'insufficient-role';
    claims.push(
      claim(NAME, grant, 0.35, 'With a valid credential the identity is still refused: a grant is missing.', text),
    );
  } else if ((reading === 'different' || reading === 'challenge') && p === o) {
    meaning = `With a fresh credential (${desc}) the server still answers ${p}, but differently: the old credential's problem is gone and another remains.`;
    claims.push(
      claim(
        NAME,
        confirmed,
        0.3,
        `The server answers a fresh credential differently from the old one, which ${how}.`,
        text,
      ),
    );
  } else {
    meaning = `With a fresh credential (${desc}) the server answers ${describeAnswer(ex)}; that does not separate the hypotheses.`;
  }
  return finding(NAME, probe, ex, meaning, claims);
}

export default defineProbe({
  name: NAME,
  separates: EXPIRY,
  order: 15,
  maxRequests: 1,
  applies(ctx) {
    if (!ctx.options.tokenCmd) return 'no --token-cmd was given';
    if (!standingOf(ctx, EXPIRY).length) return 'neither expiry nor revocation is a hypothesis';
    const slot = slotOf(ctx.original);
    return typeof slot === 'string' ? slot : true;
  },
  plan(ctx) {
    const slot = slotOf(ctx.original);
    return typeof slot === 'string' ? [] : [swap(ctx.original, slot, PLACEHOLDER)];
  },
  async run(ctx, send) {
    const slot = slotOf(ctx.original);
    if (typeof slot === 'string' || !ctx.options.tokenCmd) return [];
    let token: string;
    try {
      token = ctx.freshCredential
        ? await ctx.freshCredential()
        : await runCredentialCommand(ctx.options.tokenCmd, ctx.options.env, '--token-cmd');
    } catch (err) {
      return [failed(`--token-cmd gave no credential: ${oneLine(err)}`)];
    }
    token = token.trim();
    const oneToken =
      !/\s/.test(token) || (slot.scheme !== undefined && !/[\r\n]/.test(token) && valueFor(slot, token) === token);
    if (!oneToken)
      return [
        failed(
          `--token-cmd printed ${token.split(/\s+/).length} words (${redactSecret(token)}); it should print the token alone, or "${slot.scheme ?? 'Scheme'} <token>"`,
        ),
      ];
    const probe = swap(ctx.original, slot, token);
    const value = probe.request.headers.find((h) => h.name === slot.header)!.value;
    const original = ctx.original.headers.find((h) => h.name.toLowerCase() === slot.header.toLowerCase())?.value.trim();
    if (value === original)
      return [failed('--token-cmd printed the same credential that was denied; there is nothing fresh to compare')];
    let fresh: CredentialItem | undefined;
    try {
      fresh = observeToken(slot.header.toLowerCase() === 'authorization' ? value : `${slot.header}: ${value}`).items[0];
    } catch {
      fresh = undefined;
    }
    const ex = await send(NAME, probe);
    return ex ? [interpret(ctx, probe, ex, fresh, deniedCredential(ctx, { name: slot.header, value: '' }))] : [];
  },
});
