// Elasticsearch security: every refusal is a security_exception inside the
// {"error":{"root_cause":[…],"type","reason"},"status"} envelope, and since 7.10
// an authorization refusal names the action, the user, the effective roles, the
// indices and the privileges that would grant it — the whole near miss.
import { defineRule, ev, type CauseClaim } from '../define.ts';
import type { Context } from '../../engine/context.ts';
import { jsonString } from '../../engine/context.ts';
import type { Evidence } from '../../model/report.ts';

function reason(ctx: Context): string | undefined {
  const j = ctx.body.json;
  const r = jsonString(j, 'error.reason') ?? jsonString(j, 'error.root_cause.0.reason');
  if (r) return r;
  const e = jsonString(j, 'error');
  return e;
}

function signature(ctx: Context): { confidence: number; evidence: Evidence[] } {
  const evidence: Evidence[] = [];
  let confidence = 0;
  const bump = (c: number, e: Evidence) => {
    confidence = Math.max(confidence, c);
    evidence.push(e);
  };
  const product = ctx.header('x-elastic-product');
  if (product && /elasticsearch/i.test(product)) bump(0.97, ev('header:x-elastic-product', product));
  const found = ctx.header('x-found-handling-cluster');
  if (found) bump(0.9, ev('header:x-found-handling-cluster', found));
  const type = jsonString(ctx.body.json, 'error.type');
  if (type && Array.isArray((ctx.body.json as { error?: { root_cause?: unknown } }).error?.root_cause)) bump(0.9, ev('body:error.type', `${type} inside Elasticsearch’s root_cause error envelope`));
  const legacy = jsonString(ctx.body.json, 'error');
  if (legacy && /^AuthenticationException\[/.test(legacy)) bump(0.85, ev('body:error', legacy));
  if (ctx.challenges.some((c) => c.scheme.toLowerCase() === 'basic' && c.params.realm === 'security' && /utf-8/i.test(c.params.charset ?? ''))) bump(0.6, ev('header:www-authenticate', 'Basic realm="security" charset="UTF-8"'));
  return { confidence, evidence };
}

const DENIAL = /action \[([^\]]+)\] is unauthorized for (?:user \[([^\]]*)\]|API key id \[([^\]]*)\][^,]*?)(?: run as \[([^\]]*)\])?(?: with (?:effective )?roles \[([^\]]*)\](?: \(assigned roles \[([^\]]*)\] were not found\))?)?(?: on (?:restricted )?indices \[([^\]]*)\])?(?:, this action is granted by the (index|cluster) privileges \[([^\]]*)\])?/;

const list = (s: string | undefined) => (s ?? '').split(',').map((x) => x.trim()).filter(Boolean);

function base(ctx: Context): string {
  return ctx.url ? `${ctx.url.protocol}//${ctx.url.host}` : 'https://localhost:9200';
}

export default defineRule({
  meta: {
    id: 'elasticsearch',
    kind: 'producer',
    product: 'elasticsearch',
    layer: 'application',
    description: 'Elasticsearch security_exception refusals: missing or rejected credentials, expired API keys, and actions a user’s effective roles do not grant (with the index or cluster privileges that would).',
    docs: [
      'https://www.elastic.co/guide/en/elasticsearch/reference/current/security-trb-roles.html',
      'https://www.elastic.co/guide/en/elasticsearch/reference/current/security-privileges.html',
      'https://www.elastic.co/guide/en/elasticsearch/reference/current/security-api-has-privileges.html',
      'https://github.com/elastic/elasticsearch/pull/60357',
    ],
    causes: ['credential-missing', 'credential-invalid', 'credential-expired', 'insufficient-role'],
  },
  applies: (ctx) => signature(ctx).confidence > 0,
  run(ctx) {
    const sig = signature(ctx);
    const producer = { product: 'elasticsearch' as const, layer: 'application' as const, confidence: sig.confidence, evidence: sig.evidence };
    if (ctx.status !== 401 && ctx.status !== 403) return { producer };
    const r = reason(ctx) ?? '';
    const rEv = [ev('body:error.reason', r.slice(0, 400))];
    const causes: CauseClaim[] = [];
    const auth = `curl -s -u "$ES_USER:$ES_PASSWORD" ${base(ctx)}/_security/_authenticate`;

    const m = DENIAL.exec(r);
    if (m) {
      const [, action, user, apiKey, runAs, roles, missingRoles, indices, kind, privileges] = m;
      const principal = runAs ?? user ?? (apiKey ? `API key ${apiKey}` : 'this user');
      const privs = list(privileges);
      const held = list(roles);
      const target = indices ? `index ${indices}` : kind === 'cluster' ? 'the cluster' : 'the target';
      const roleName = `${(privs[0] ?? 'access').replace(/[^a-z0-9_]/gi, '_')}_${(indices ?? 'cluster').split(',')[0].replace(/[^a-z0-9_-]/gi, '_')}`;
      const roleBody = kind === 'cluster' ? `{"cluster":["${privs[0] ?? 'PRIVILEGE'}"]}` : `{"indices":[{"names":["${list(indices).join('","') || 'INDEX'}"],"privileges":["${privs[0] ?? 'PRIVILEGE'}"]}]}`;
      const check = kind === 'cluster' ? `{"cluster":["${privs[0] ?? 'PRIVILEGE'}"]}` : `{"index":[{"names":["${list(indices).join('","') || 'INDEX'}"],"privileges":["${privs[0] ?? 'PRIVILEGE'}"]}]}`;
      causes.push({
        id: 'insufficient-role',
        weight: 0.92,
        summary: `${principal} is authenticated but none of its effective roles [${held.join(', ') || 'none'}] grants ${action} on ${target}${privs.length ? `; the ${kind} privileges that would are [${privs.join(', ')}] (least first)` : ''}.${missingRoles ? ` The roles [${missingRoles}] it is assigned do not exist, so they grant nothing.` : ''}`,
        evidence: rEv,
        gap: { required: privs.length ? [`${privs.join(' or ')} (${kind} privilege) on ${target}`] : [`${action} on ${target}`], held: held.map((x) => `role ${x}`) },
        fixes: [
          {
            title: `Grant ${privs[0] ?? 'the privilege'} on ${target}: create a role with it and add the role to ${principal} (or Kibana → Stack Management → Roles)`,
            difficulty: 'medium',
            commands: [
              `curl -s -u "$ADMIN:$ADMIN_PASSWORD" -X PUT ${base(ctx)}/_security/role/${roleName} -H 'Content-Type: application/json' -d '${roleBody}'`,
              `# then add "${roleName}" to the user's roles (PUT _security/user/${user ?? 'USER'} with the full roles list, or the role mapping for its realm)`,
            ],
            verify: `curl -s -u "$ES_USER:$ES_PASSWORD" -X GET ${base(ctx)}/_security/user/_has_privileges -H 'Content-Type: application/json' -d '${check}'   # has_all_requested: true`,
            docs: 'https://www.elastic.co/guide/en/elasticsearch/reference/current/security-api-has-privileges.html',
          },
          { title: 'See which roles the request really runs with (realm, role mapping, run-as)', difficulty: 'easy', commands: [auth] },
        ],
      });
    } else if (/is unauthorized for/.test(r)) {
      causes.push({ id: 'insufficient-role', weight: 0.85, summary: 'The user is authenticated but its roles do not grant this action.', evidence: rEv, fixes: [{ title: 'Check the user’s roles and the privileges the action needs', difficulty: 'medium', commands: [auth], verify: `GET ${base(ctx)}/_security/user/_has_privileges with the index and privilege` }] });
    }

    if (/missing authentication (token|credentials)/i.test(r)) {
      causes.push({
        id: 'credential-missing',
        weight: 0.88,
        summary: 'No credentials reached Elasticsearch: security is on and the request carried no Authorization header (Basic, Bearer or ApiKey).',
        evidence: rEv,
        fixes: [{ title: 'Send credentials with every request (Elasticsearch is stateless)', difficulty: 'easy', commands: [`curl -u "$ES_USER:$ES_PASSWORD" ${ctx.url?.href ?? base(ctx)}`, `curl -H "Authorization: ApiKey $ES_API_KEY" ${ctx.url?.href ?? base(ctx)}`], verify: auth }],
      });
    }
    if (/(?:unable|failed) to authenticate/i.test(r)) {
      causes.push({
        id: 'credential-invalid',
        weight: 0.85,
        summary: 'Elasticsearch received credentials but no realm accepted them: wrong password, a user that does not exist (yet), or an invalidated API key.',
        evidence: rEv,
        fixes: [
          { title: 'Check the credentials against the _authenticate endpoint', difficulty: 'easy', commands: [auth], verify: 'A 200 naming the user and its roles.' },
          { title: 'Reset a built-in or native user’s password', difficulty: 'easy', commands: [`bin/elasticsearch-reset-password -u ${/user \[([^\]]+)\]/.exec(r)?.[1] ?? 'USER'}`] },
        ],
      });
    }
    if (/expired/i.test(r) && /(api key|token)/i.test(r)) {
      causes.push({ id: 'credential-expired', weight: 0.85, summary: 'The API key or access token has expired.', evidence: rEv, fixes: [{ title: 'Create a new API key (or refresh the token)', difficulty: 'easy', commands: [`curl -s -u "$ES_USER:$ES_PASSWORD" -X POST ${base(ctx)}/_security/api_key -H 'Content-Type: application/json' -d '{"name":"new-key","expiration":"30d"}'`], verify: auth }] });
    }
    return causes.length ? { producer, causes } : { producer };
  },
});
