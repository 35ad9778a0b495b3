// Elasticsearch security: every refusal is a security_exception inside the
// {"error":{"root_cause":[…],"type","reason"},"status"} envelope, and since 7.10
// an authorization refusal names the action, the user, the effective roles, the
// indices and the privileges that would grant it — the whole near miss.
import { defineProducer, ev, jsonString, signals, type Challenge, type Context } from '../define.ts';
import texts from './texts.json' with { type: 'json' };

function reason(ctx: Context): string | undefined {
  const j = ctx.body.json;
  return jsonString(j, 'error.reason') ?? jsonString(j, 'error.root_cause.0.reason') ?? jsonString(j, 'error');
}

const DENIAL =
  /action \[([^\]]+)\] is unauthorized for (?:user \[([^\]]*)\]|API key id \[([^\]]*)\][^,]*?)(?: run as \[([^\]]*)\])?(?: with (?:effective )?roles \[([^\]]*)\](?: \(assigned roles \[([^\]]*)\] were not found\))?)?(?: on (?:restricted )?indices \[([^\]]*)\])?(?:, this action is granted by the (index|cluster) privileges \[([^\]]*)\])?/;

/** How Elasticsearch's security (X-Pack) words its refusals; OpenSearch's security plugin words them otherwise ("no permissions for [...]"). */
const ES_SENTENCE =
  /\bis unauthorized for (user|API key id) \[|missing authentication (token|credentials) for REST request|(unable|failed) to authenticate (user|api key)|\bAuthenticationException\[/i;

const list = (s: string | undefined) =>
  (s ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

function base(ctx: Context): string {
  return ctx.url ? `${ctx.url.protocol}//${ctx.url.host}` : 'https://localhost:9200';
}

/** What the grant fix fills in for a denial the message spelled out: the role to create and the has_privileges check. */
function grantData(d: { user?: string; kind?: string; indices?: string; privs: string[] }) {
  const priv = d.privs[0] ?? 'PRIVILEGE';
  const names = `["${list(d.indices).join('","') || 'INDEX'}"]`;
  const cluster = d.kind === 'cluster';
  return {
    privilege: d.privs[0] ?? 'the privilege',
    roleName: `${(d.privs[0] ?? 'access').replace(/[^a-z0-9_]/gi, '_')}_${(d.indices ?? 'cluster').split(',')[0].replace(/[^a-z0-9_-]/gi, '_')}`,
    roleBody: cluster ? `{"cluster":["${priv}"]}` : `{"indices":[{"names":${names},"privileges":["${priv}"]}]}`,
    check: cluster ? `{"cluster":["${priv}"]}` : `{"index":[{"names":${names},"privileges":["${priv}"]}]}`,
    user: d.user ?? 'USER',
  };
}

export default defineProducer({
  meta: {
    id: 'elasticsearch',
    product: 'elasticsearch',
    layer: 'application',
    causes: ['credential-missing', 'credential-invalid', 'credential-expired', 'insufficient-role'],
    statuses: [401, 403],
    ...texts,
  },
  recognise(ctx) {
    const found = signals();
    const product = ctx.header('x-elastic-product');
    if (product && /elasticsearch/i.test(product)) found.add(0.97, ev('header:x-elastic-product', product));
    const cluster = ctx.header('x-found-handling-cluster');
    if (cluster) found.add(0.9, ev('header:x-found-handling-cluster', cluster));
    const type = jsonString(ctx.body.json, 'error.type');
    const rootCause = (ctx.body.json as { error?: { root_cause?: unknown } } | undefined)?.error?.root_cause;
    if (type && Array.isArray(rootCause)) {
      // The envelope is Elasticsearch's REST error model, which its forks (OpenSearch) answer in too:
      // alone it recognises the protocol; Elasticsearch's own security sentences prove the product.
      const own = ES_SENTENCE.test(reason(ctx) ?? '');
      found.add(
        own ? 0.9 : 0.45,
        ev(
          'body:error.type',
          `${type} inside Elasticsearch’s root_cause error envelope${own ? '' : ' (its forks answer in it too)'}`,
        ),
      );
      if (own) found.add(0.9, ev('body:error.reason', 'worded as Elasticsearch security words its refusals'));
    }
    const legacy = jsonString(ctx.body.json, 'error');
    if (legacy && /^AuthenticationException\[/.test(legacy)) found.add(0.85, ev('body:error', legacy));
    const esBasic = (c: Challenge) =>
      c.scheme.toLowerCase() === 'basic' && c.params.realm === 'security' && /utf-8/i.test(c.params.charset ?? '');
    if (ctx.challenges.some(esBasic))
      found.add(0.6, ev('header:www-authenticate', 'Basic realm="security" charset="UTF-8"'));
    return found.result();
  },
  explain(ctx, _recognised, report) {
    const r = reason(ctx) ?? '';
    const evidence = [ev('body:error.reason', r.slice(0, 400))];
    const data = { base: base(ctx) };

    const m = DENIAL.exec(r);
    if (m) {
      const [, action, user, apiKey, runAs, roles, missingRoles, indices, kind, privileges] = m;
      const principal = runAs ?? user ?? (apiKey ? `API key ${apiKey}` : 'this user');
      const privs = list(privileges);
      const held = list(roles);
      const target = indices ? `index ${indices}` : kind === 'cluster' ? 'the cluster' : 'the target';
      report.claim('insufficient-role', 'denied', 0.92, {
        data: {
          ...data,
          ...grantData({ user, kind, indices, privs }),
          principal,
          roles: held.join(', ') || 'none',
          action,
          target,
          wouldGrant: privs.length ? `; the ${kind} privileges that would are [${privs.join(', ')}] (least first)` : '',
          missingRoles: missingRoles
            ? ` The roles [${missingRoles}] it is assigned do not exist, so they grant nothing.`
            : '',
        },
        evidence,
        gap: {
          required: privs.length
            ? [`${privs.join(' or ')} (${kind} privilege) on ${target}`]
            : [`${action} on ${target}`],
          held: held.map((x) => `role ${x}`),
        },
        fixes: ['grantRole', 'authenticate'],
      });
    } else if (/is unauthorized for/.test(r)) {
      report.claim('insufficient-role', 'unauthorized', 0.85, { data, evidence, fixes: ['checkRoles'] });
    }

    if (/missing authentication (token|credentials)/i.test(r)) {
      report.claim('credential-missing', 'missing', 0.88, {
        data: { ...data, url: ctx.url?.href ?? data.base },
        evidence,
        fixes: ['send'],
      });
    }
    if (/(?:unable|failed) to authenticate/i.test(r)) {
      const resetUser = /user \[([^\]]+)\]/.exec(r)?.[1] ?? 'USER';
      report.claim('credential-invalid', 'rejected', 0.85, {
        data: { ...data, resetUser },
        evidence,
        fixes: ['checkCredentials', 'resetPassword'],
      });
    }
    if (/expired/i.test(r) && /(api key|token)/i.test(r)) {
      report.claim('credential-expired', 'expired', 0.85, { data, evidence, fixes: ['newKey'] });
    }
  },
});
