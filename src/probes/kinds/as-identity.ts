// The same request as a second identity the user named (--as, --as-env,
// --as-cmd): the troubleshooting guides' "try it with a known-allowed account".
// If that identity is let through, the denial is about the first identity's
// grants, and the difference between the two credentials names the grant.
import type { Exchange } from '../../model/exchange.ts';
import type { CredentialItem } from '../../model/credential.ts';
import type { Gap } from '../../model/report.ts';
import type { CauseId } from '../../model/vocabulary.ts';
import type { CauseClaim } from '../../model/rule.ts';
import { observeToken } from '../../credentials/index.ts';
import { combine, withHeader } from '../vary.ts';
import { defineProbe, type Identity, type ProbeContext, type ProbeFinding, type ProbeRequest } from '../define.ts';
import { withoutCredentials } from './without-credential.ts';
import {
  against,
  claim,
  CREDENTIAL_STATE,
  CREDENTIAL_VALIDITY,
  deniedCredential,
  describeAnswer,
  finding,
  forStanding,
  NOT_IDENTITY,
  PER_IDENTITY,
  readOutcome,
  REFUSES_ALIKE,
  standingOf,
} from '../compare.ts';

const NAME = 'as-identity';
const MAX_IDENTITIES = 2;

/** The user's request with their own credentials removed and the named identity's header in their place. */
export function asIdentity(ctx: ProbeContext, identity: Identity): ProbeRequest {
  const p = combine(withoutCredentials(ctx), (r) => withHeader(r, identity.header, `as ${identity.label}`));
  return { ...p, removed: [...new Set(p.removed)] };
}

/** The second identity's credential, decoded like the first (never verified). */
function inspectIdentity(identity: Identity): CredentialItem | undefined {
  try {
    return observeToken(`${identity.header.name}: ${identity.header.value}`).items[0];
  } catch {
    return undefined;
  }
}

interface Difference {
  /** "it holds scope reports:write that yours lacks; …" */
  text: string;
  scopeGap?: Gap;
  roleGap?: Gap;
  /** Audience, issuer or tenant differ: the two credentials are for different places. */
  elsewhere?: string;
  comparable: boolean;
}

const missing = (has: string[] | undefined, lacks: string[] | undefined) =>
  (has ?? []).filter((s) => !(lacks ?? []).includes(s));

export function compareCredentials(
  denied: CredentialItem | undefined,
  allowed: CredentialItem | undefined,
): Difference {
  const readable = (i: CredentialItem | undefined) =>
    Boolean(i && (i.claims || i.scopes || i.roles || i.principal) && i.kind !== 'cookie');
  if (!readable(allowed))
    return {
      text: `its credential (${allowed?.kind ?? 'unrecognised'}) carries no claims to compare with yours`,
      comparable: false,
    };
  if (!readable(denied))
    return {
      text: `your credential (${denied?.kind ?? 'unrecognised'}) carries no claims to compare with its`,
      comparable: false,
    };
  const parts: string[] = [];
  const d = denied!;
  const a = allowed!;
  const scopes = missing(a.scopes, d.scopes);
  const roles = missing(a.roles, d.roles);
  const diff: Difference = { text: '', comparable: true };
  if (scopes.length) {
    diff.scopeGap = { required: scopes, held: d.scopes ?? [] };
    parts.push(
      `it holds scope ${scopes.join(', ')} that yours lacks (yours: ${d.scopes?.length ? d.scopes.join(' ') : 'none'})`,
    );
  }
  if (roles.length) {
    diff.roleGap = { required: roles, held: d.roles ?? [] };
    parts.push(
      `it holds role ${roles.join(', ')} that yours lacks (yours: ${d.roles?.length ? d.roles.join(' ') : 'none'})`,
    );
  }
  const elsewhere: string[] = [];
  const list = (v: string[] | undefined) => (v ?? []).join(' ');
  if (list(a.audience) !== list(d.audience) && (a.audience || d.audience))
    elsewhere.push(`audience ${list(a.audience) || 'none'} against yours ${list(d.audience) || 'none'}`);
  if ((a.issuer ?? '') !== (d.issuer ?? ''))
    elsewhere.push(`issuer ${a.issuer ?? 'none'} against yours ${d.issuer ?? 'none'}`);
  if ((a.tenant ?? '') !== (d.tenant ?? ''))
    elsewhere.push(`tenant ${a.tenant ?? 'none'} against yours ${d.tenant ?? 'none'}`);
  if (elsewhere.length) {
    diff.elsewhere = elsewhere.join('; ');
    parts.push(`its ${diff.elsewhere}`);
  }
  if (a.principal && a.principal !== d.principal)
    parts.push(`it is user ${a.principal}, yours ${d.principal ?? 'unnamed'}`);
  if (a.subject && a.subject === d.subject) parts.push(`both are for the same subject (${a.subject})`);
  const any = [a.scopes, a.roles, d.scopes, d.roles].some((v) => v?.length);
  diff.text = parts.length
    ? parts.join('; ')
    : any
      ? 'the two credentials hold the same scopes and roles'
      : 'neither credential names scopes or roles';
  return diff;
}

function interpret(ctx: ProbeContext, identity: Identity, probe: ProbeRequest, ex: Exchange): ProbeFinding {
  const o = ctx.first.response.status;
  const p = ex.response.status;
  const as = `As ${identity.label}`;
  const diff = compareCredentials(deniedCredential(ctx, identity.header), inspectIdentity(identity));
  const reading = readOutcome(ctx.first, ex);
  const claims: CauseClaim[] = [];
  const text = `${as} the same request gets ${p}; yours got ${o}. Compared with yours: ${diff.text}.`;
  let meaning: string;

  if (reading === 'allowed' && o === 401) {
    meaning = `${as} the server answers ${p} where yours got 401: that credential is accepted and yours is not, so the problem is your credential (expired, invalid, for another audience), not the resource; ${diff.text}.`;
    if (diff.elsewhere)
      claims.push(
        claim(
          NAME,
          'wrong-audience',
          0.7,
          `Your credential is for another place than one the server accepts: ${diff.elsewhere}.`,
          text,
        ),
      );
    const ids = standingOf(
      ctx,
      CREDENTIAL_VALIDITY.filter((id) => id !== 'wrong-audience'),
    );
    for (const id of ids.length ? ids : (['credential-invalid'] as CauseId[]))
      claims.push(claim(NAME, id, 0.4, 'Another credential is accepted for the same request; yours is refused.', text));
    claims.push(...against(NAME, [...NOT_IDENTITY, 'method-not-allowed', 'wrong-endpoint'], -0.85, text));
  } else if (reading === 'allowed') {
    meaning = `${as} the server answers ${p}: that identity is allowed, so the denial is about your identity's grants; ${diff.text}.`;
    if (diff.scopeGap)
      claims.push(
        claim(
          NAME,
          'insufficient-scope',
          0.85,
          `Your credential lacks ${diff.scopeGap.required.join(', ')}, which an identity that is allowed holds.`,
          text,
          diff.scopeGap,
        ),
      );
    if (diff.roleGap)
      claims.push(
        claim(
          NAME,
          'insufficient-role',
          0.85,
          `Your identity lacks role ${diff.roleGap.required.join(', ')}, which an identity that is allowed holds.`,
          text,
          diff.roleGap,
        ),
      );
    if (diff.elsewhere)
      claims.push(
        claim(
          NAME,
          'wrong-audience',
          0.6,
          `Your credential is for another place than one that is allowed: ${diff.elsewhere}.`,
          text,
        ),
      );
    // No visible difference: the grant lives on the server side (a role binding, an ACL, ownership), so the grant causes share the weight.
    const named = new Set(claims.map((c) => c.id));
    const grants = standingOf(ctx, PER_IDENTITY).filter((id) => !named.has(id));
    const weight = named.size ? 0.3 : 0.5;
    for (const id of grants.length || named.size ? grants : (['insufficient-role'] as CauseId[]))
      claims.push(
        claim(
          NAME,
          id,
          weight,
          'Another identity is allowed the same request: the denial is about what yours may do.',
          text,
        ),
      );
    claims.push(
      ...against(
        NAME,
        [...NOT_IDENTITY, 'method-not-allowed', 'wrong-endpoint'],
        -0.85,
        `${text} The same request from the same place is allowed.`,
      ),
    );
  } else if (reading === 'same') {
    meaning = `${as} the server answers the same ${p}: the denial is not specific to your identity; compared with yours, ${diff.text}.`;
    claims.push(...against(NAME, PER_IDENTITY, -0.6, `${text} Another identity is refused the same way.`));
    claims.push(...against(NAME, CREDENTIAL_STATE, -0.4, `${text} Another credential is refused the same way.`));
    claims.push(
      ...forStanding(
        ctx,
        NAME,
        REFUSES_ALIKE,
        0.35,
        'Another identity is refused the same way: the denial is not about who is asking.',
        text,
      ),
    );
  } else if (reading === 'challenge' && o !== 401) {
    meaning = `${as} the server answers ${describeAnswer(ex)}: it does not accept that credential (expired, invalid, or for another audience), so this comparison says nothing about yours.`;
  } else if (reading === 'different' && p === o) {
    meaning = `${as} the server answers ${p} with another body: it tells the two identities apart, so the denial depends on identity.`;
    claims.push(...against(NAME, NOT_IDENTITY, -0.5, `${text} The server answers the two identities differently.`));
  } else {
    meaning = `${as} the server answers ${describeAnswer(ex)}; that does not separate the hypotheses.`;
  }
  return finding(NAME, probe, ex, meaning, claims);
}

export default defineProbe({
  name: NAME,
  separates: [
    'insufficient-scope',
    'insufficient-role',
    'not-owner',
    'wrong-audience',
    'credential-expired',
    'credential-invalid',
    ...NOT_IDENTITY,
    'method-not-allowed',
  ],
  order: 20,
  maxRequests: MAX_IDENTITIES,
  applies: (ctx) =>
    ctx.options.identities.length ? true : 'no second identity was named (--as, --as-env or --as-cmd)',
  plan: (ctx) => ctx.options.identities.slice(0, MAX_IDENTITIES).map((i) => asIdentity(ctx, i)),
  async run(ctx, send) {
    const out: ProbeFinding[] = [];
    for (const identity of ctx.options.identities.slice(0, MAX_IDENTITIES)) {
      const probe = asIdentity(ctx, identity);
      const ex = await send(NAME, probe);
      if (!ex) break;
      out.push(interpret(ctx, identity, probe, ex));
    }
    return out;
  },
});
