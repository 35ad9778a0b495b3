// HashiCorp Vault: every error is {"errors":[strings]}, and Vault answers a
// policy that lacks the capability and a token it does not know with the same
// 403 "permission denied" (wrapped in hashicorp/go-multierror's "1 error
// occurred:\n\t* …" on newer versions). The request tells them apart only
// partly: X-Vault-Token names the product, the token's shape says whether it
// can be a Vault token at all, and the path plus method give the capability.
import { defineRule, ev, type CauseClaim } from '../define.ts';
import type { Context } from '../../engine/context.ts';
import type { Evidence, Fix } from '../../model/report.ts';

function errors(ctx: Context): string[] | undefined {
  const j = ctx.body.json as Record<string, unknown> | undefined;
  if (!j || typeof j !== 'object' || Array.isArray(j) || !Array.isArray(j.errors)) return undefined;
  if (!j.errors.every((e) => typeof e === 'string')) return undefined;
  // A bullet's marker goes with the blank lines before it. The lookbehind skips a
  // line start whose previous line is blank (the match began on that one), so a
  // run of empty lines is scanned once, not once per line (quadratic).
  return (j.errors as string[]).map((e) => e.replace(/^\d+ errors? occurred:\s*/i, '').replace(/^(?<!^[^\S\n\r\u2028\u2029]*[\n\r\u2028\u2029])\s*\*\s*/gm, '').trim());
}

function signature(ctx: Context): { confidence: number; evidence: Evidence[] } {
  const evidence: Evidence[] = [];
  let confidence = 0;
  const bump = (c: number, e: Evidence) => {
    confidence = Math.max(confidence, c);
    evidence.push(e);
  };
  for (const h of ['x-vault-token', 'x-vault-namespace', 'x-vault-request', 'x-vault-wrap-ttl']) if (ctx.requestHeader(h) !== undefined) bump(0.85, ev(`request-header:${h}`, 'a Vault-only request header was sent'));
  for (const h of ['x-vault-index', 'x-vault-raft-index']) if (ctx.header(h)) bump(0.9, ev(`header:${h}`, ctx.header(h)!));
  const errs = errors(ctx);
  if (errs && /^\/v1\//.test(ctx.url?.pathname ?? '')) {
    const multi = /(?<!\d)\d+ errors? occurred:\n\t\*/.test(ctx.body.text.replace(/\\n/g, '\n').replace(/\\t/g, '\t'));
    const port = ctx.url?.port === '8200';
    bump(multi || port ? 0.75 : 0.55, ev('body:errors', `{"errors":[…]} on a /v1/ path${multi ? ', in go-multierror form' : ''}${port ? ', port 8200' : ''}`));
  }
  return { confidence, evidence };
}

/** Vault token shapes: hvs./hvb./hvr. (1.10+), s./b./r. (older), or a bare UUID (oldest). */
const TOKEN_SHAPE = /^(hv[sbr]\.[A-Za-z0-9_-]{20,}|[sbr]\.[A-Za-z0-9]{20,}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

function capability(ctx: Context): string {
  if (ctx.method === 'LIST' || ctx.url?.searchParams.get('list') === 'true') return 'list';
  switch (ctx.method) {
    case 'GET': case 'HEAD': return 'read';
    case 'POST': return 'create or update';
    case 'PUT': return 'update';
    case 'PATCH': return 'patch';
    case 'DELETE': return 'delete';
    default: return 'read';
  }
}

export default defineRule({
  meta: {
    id: 'vault',
    kind: 'producer',
    product: 'vault',
    layer: 'application',
    description: 'HashiCorp Vault denials: "permission denied" for a policy that lacks the capability on the path (or an unknown token, which Vault answers the same way), "missing client token" and "invalid token".',
    docs: [
      'https://developer.hashicorp.com/vault/api-docs#http-status-codes',
      'https://developer.hashicorp.com/vault/docs/concepts/policies',
      'https://developer.hashicorp.com/vault/docs/commands/token/capabilities',
    ],
    causes: ['credential-missing', 'credential-invalid', 'credential-expired', 'insufficient-role'],
  },
  applies: (ctx) => signature(ctx).confidence > 0,
  run(ctx) {
    const sig = signature(ctx);
    const producer = { product: 'vault' as const, layer: 'application' as const, confidence: sig.confidence, evidence: sig.evidence };
    if (ctx.status !== 401 && ctx.status !== 403) return { producer };
    const errs = errors(ctx) ?? [];
    const all = errs.join('; ');
    const errEv = errs.length ? [ev('body:errors', all.slice(0, 300))] : [];
    const causes: CauseClaim[] = [];
    const token = ctx.requestHeader('x-vault-token') ?? /^Bearer\s+(\S+)/i.exec(ctx.requestHeader('authorization') ?? '')?.[1];
    const path = (ctx.url?.pathname ?? '/v1/PATH').replace(/^\/v1\//, '');
    const cap = capability(ctx);
    const ns = ctx.requestHeader('x-vault-namespace');
    const nsFlag = ns ? ` -namespace=${ns}` : '';
    const lookup: Fix = { title: 'Look the token up: its policies, TTL and whether Vault knows it', difficulty: 'easy', commands: [`vault token lookup${nsFlag}`], verify: 'The policies listed include one that grants the path; an error here means the token itself is invalid or expired.', docs: 'https://developer.hashicorp.com/vault/docs/commands/token/lookup' };
    const capabilities = `vault token capabilities${nsFlag} ${path}`;

    if (/missing client token/i.test(all) || (/permission denied/i.test(all) && ctx.exchange.request && !token)) {
      causes.push({ id: 'credential-missing', weight: 0.85, summary: 'No Vault token reached the server: the request had no X-Vault-Token (or Authorization: Bearer) header.', evidence: [...errEv, ev('request-header:x-vault-token', 'absent')], fixes: [{ title: 'Log in and send the token', difficulty: 'easy', commands: ['vault login -method=<method>', `curl -H "X-Vault-Token: $VAULT_TOKEN" ${ctx.url?.href ?? '$VAULT_ADDR/v1/PATH'}`], verify: capabilities }] });
    } else if (/invalid token|bad token/i.test(all)) {
      causes.push({ id: 'credential-invalid', weight: 0.85, summary: 'Vault does not know this token: it was revoked, expired, or belongs to another cluster or namespace.', evidence: errEv, fixes: [lookup, { title: 'Log in again for a fresh token', difficulty: 'easy', commands: ['vault login -method=<method>'] }] });
      causes.push({ id: 'credential-expired', weight: 0.4, summary: 'A token past its TTL (or whose parent was revoked) gets the same answer.', evidence: errEv, fixes: [lookup] });
    } else if (/permission denied/i.test(all)) {
      const shaped = token !== undefined && TOKEN_SHAPE.test(token);
      const policyClaim: CauseClaim = {
        id: 'insufficient-role',
        weight: token !== undefined && !shaped ? 0.45 : 0.75,
        summary: `No policy attached to the token grants "${cap}" on ${path}${ns ? ` in namespace ${ns}` : ''}. Vault denies by default and says only "permission denied"; it gives an unknown or expired token the same answer.`,
        evidence: errEv,
        gap: { required: [`${cap} on ${path}${ns ? ` (namespace ${ns})` : ''}`], held: [] },
        fixes: [
          {
            title: `Add the capability to a policy the token carries (path "${path}" { capabilities = ["${cap.split(' ')[0]}"] }) — for KV v2 the path includes data/ or metadata/`,
            difficulty: 'medium',
            commands: [`vault policy read${nsFlag} <policy>`, `printf 'path "${path}" {\\n  capabilities = ["${cap.split(' ')[0]}"]\\n}\\n' | vault policy write${nsFlag} <policy> -`],
            verify: `${capabilities}   # must list ${cap.split(' ')[0]} (new tokens pick up policy edits at once; check the token's policies with vault token lookup)`,
            docs: 'https://developer.hashicorp.com/vault/docs/concepts/policies',
          },
          lookup,
        ],
      };
      const tokenClaim: CauseClaim = {
        id: 'credential-invalid',
        weight: token !== undefined && !shaped ? 0.7 : 0.35,
        summary: token !== undefined && !shaped ? 'The token sent does not look like a Vault token (hvs./s./UUID), so Vault most likely does not know it — and answers an unknown token with the same "permission denied".' : 'Vault answers a token it does not know (revoked, expired, another cluster or namespace) with the same "permission denied".',
        evidence: [...errEv, ...(token !== undefined ? [ev('request-header:x-vault-token', shaped ? 'has the shape of a Vault token' : 'not shaped like a Vault token')] : [])],
        fixes: [lookup],
      };
      causes.push(policyClaim, tokenClaim);
    }
    return causes.length ? { producer, causes } : { producer };
  },
});
