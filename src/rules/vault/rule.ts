// HashiCorp Vault: every error is {"errors":[strings]}, and Vault answers a
// policy that lacks the capability and a token it does not know with the same
// 403 "permission denied" (wrapped in hashicorp/go-multierror's "1 error
// occurred:\n\t* …" on newer versions). The request tells them apart only
// partly: X-Vault-Token names the product, the token's shape says whether it
// can be a Vault token at all, and the path plus method give the capability.
import { defineProducer, ev, signals, type Context } from '../define.ts';
import texts from './texts.json' with { type: 'json' };

const REQUEST_HEADERS = ['x-vault-token', 'x-vault-namespace', 'x-vault-request', 'x-vault-wrap-ttl'];
const RESPONSE_HEADERS = ['x-vault-index', 'x-vault-raft-index'];

function errors(ctx: Context): string[] | undefined {
  const j = ctx.body.json as Record<string, unknown> | undefined;
  if (!j || typeof j !== 'object' || Array.isArray(j) || !Array.isArray(j.errors)) return undefined;
  if (!j.errors.every((e) => typeof e === 'string')) return undefined;
  // A bullet's marker goes with the blank lines before it. The lookbehind skips a
  // line start whose previous line is blank (the match began on that one), so a
  // run of empty lines is scanned once, not once per line (quadratic).
  const bullet = /^(?<!^[^\S\n\r\u2028\u2029]*[\n\r\u2028\u2029])\s*\*\s*/gm;
  return (j.errors as string[]).map((e) =>
    e
      .replace(/^\d+ errors? occurred:\s*/i, '')
      .replace(bullet, '')
      .trim(),
  );
}

/** Vault token shapes: hvs./hvb./hvr. (1.10+), s./b./r. (older), or a bare UUID (oldest). */
const TOKEN_SHAPE =
  /^(hv[sbr]\.[A-Za-z0-9_-]{20,}|[sbr]\.[A-Za-z0-9]{20,}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

const CAPABILITY: Record<string, string> = {
  GET: 'read',
  HEAD: 'read',
  POST: 'create or update',
  PUT: 'update',
  PATCH: 'patch',
  DELETE: 'delete',
};

function capability(ctx: Context): string {
  if (ctx.method === 'LIST' || ctx.url?.searchParams.get('list') === 'true') return 'list';
  return CAPABILITY[ctx.method] ?? 'read';
}

export default defineProducer({
  meta: {
    id: 'vault',
    product: 'vault',
    layer: 'application',
    causes: ['credential-missing', 'credential-invalid', 'credential-expired', 'insufficient-role'],
    statuses: [401, 403],
    ...texts,
  },
  recognise(ctx) {
    const found = signals();
    for (const h of REQUEST_HEADERS)
      if (ctx.requestHeader(h) !== undefined)
        found.add(0.85, ev(`request-header:${h}`, 'a Vault-only request header was sent'));
    for (const h of RESPONSE_HEADERS) if (ctx.header(h)) found.add(0.9, ev(`header:${h}`, ctx.header(h)!));
    const errs = errors(ctx);
    if (errs && /^\/v1\//.test(ctx.url?.pathname ?? '')) {
      const multi = /(?<!\d)\d+ errors? occurred:\n\t\*/.test(
        ctx.body.text.replace(/\\n/g, '\n').replace(/\\t/g, '\t'),
      );
      const port = ctx.url?.port === '8200';
      const how = `${multi ? ', in go-multierror form' : ''}${port ? ', port 8200' : ''}`;
      found.add(multi || port ? 0.75 : 0.55, ev('body:errors', `{"errors":[…]} on a /v1/ path${how}`));
    }
    return found.result({ errs: errs ?? [] });
  },
  explain(ctx, { errs }, report) {
    const all = errs.join('; ');
    const errEv = errs.length ? [ev('body:errors', all.slice(0, 300))] : [];
    const bearer = /^Bearer\s+(\S+)/i.exec(ctx.requestHeader('authorization') ?? '')?.[1];
    const token = ctx.requestHeader('x-vault-token') ?? bearer;
    const path = (ctx.url?.pathname ?? '/v1/PATH').replace(/^\/v1\//, '');
    const cap = capability(ctx);
    const ns = ctx.requestHeader('x-vault-namespace');
    const nsFlag = ns ? ` -namespace=${ns}` : '';
    const data = { nsFlag, path, firstCap: cap.split(' ')[0], url: ctx.url?.href ?? '$VAULT_ADDR/v1/PATH' };

    if (/missing client token/i.test(all) || (/permission denied/i.test(all) && ctx.exchange.request && !token)) {
      report.claim('credential-missing', 'missing', 0.85, {
        data,
        evidence: [...errEv, ev('request-header:x-vault-token', 'absent')],
        fixes: ['login'],
      });
    } else if (/invalid token|bad token/i.test(all)) {
      report.claim('credential-invalid', 'unknownToken', 0.85, { data, evidence: errEv, fixes: ['lookup', 'relogin'] });
      report.claim('credential-expired', 'expired', 0.4, { data, evidence: errEv, fixes: ['lookup'] });
    } else if (/permission denied/i.test(all)) {
      const shaped = token !== undefined && TOKEN_SHAPE.test(token);
      const odd = token !== undefined && !shaped;
      report.claim('insufficient-role', 'policy', odd ? 0.45 : 0.75, {
        data: { ...data, cap, inNamespace: ns ? ` in namespace ${ns}` : '' },
        evidence: errEv,
        gap: { required: [`${cap} on ${path}${ns ? ` (namespace ${ns})` : ''}`], held: [] },
        fixes: ['policy', 'lookup'],
      });
      const shapeEv = ev(
        'request-header:x-vault-token',
        shaped ? 'has the shape of a Vault token' : 'not shaped like a Vault token',
      );
      report.claim('credential-invalid', odd ? 'notVaultToken' : 'sameAnswer', odd ? 0.7 : 0.35, {
        data,
        evidence: [...errEv, ...(token !== undefined ? [shapeEv] : [])],
        fixes: ['lookup'],
      });
    }
  },
});
