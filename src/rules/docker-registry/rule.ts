// Docker Registry HTTP API V2 / OCI distribution: every error is
// {"errors":[{"code","message","detail"}]} with codes from a fixed table
// (UNAUTHORIZED, DENIED, TOOMANYREQUESTS, …) and, from the reference
// registry, `Docker-Distribution-Api-Version: registry/2.0`. A 401 carries the
// challenge of the registry's auth: Basic for htpasswd, Bearer for token auth,
// whose `scope` names what the request needs (repository:NAME:pull,push) and
// whose `error` says what was wrong with the token sent (insufficient_scope,
// invalid_token). The token's own `access` claim is what it held: the gap.
// The registry answers a missing and a wrong Basic credential with the same
// body, so only the request tells them apart.
import { defineRule, ev, type CauseClaim } from '../define.ts';
import type { Context } from '../../engine/context.ts';
import type { Evidence, Fix } from '../../model/report.ts';

const CODES = new Set([
  'BLOB_UNKNOWN', 'BLOB_UPLOAD_INVALID', 'BLOB_UPLOAD_UNKNOWN', 'DIGEST_INVALID', 'MANIFEST_BLOB_UNKNOWN', 'MANIFEST_INVALID',
  'MANIFEST_UNKNOWN', 'MANIFEST_UNVERIFIED', 'NAME_INVALID', 'NAME_UNKNOWN', 'SIZE_INVALID', 'TAG_INVALID', 'UNAUTHORIZED',
  'DENIED', 'UNSUPPORTED', 'TOOMANYREQUESTS', 'PAGINATION_NUMBER_INVALID', 'RANGE_INVALID',
]);

interface RegistryError {
  code: string;
  message: string;
  detail: unknown;
}

function registryErrors(ctx: Context): RegistryError[] {
  const j = ctx.body.json as { errors?: unknown } | undefined;
  if (!j || typeof j !== 'object' || !Array.isArray(j.errors)) return [];
  return j.errors.flatMap((e) => {
    const o = e as Record<string, unknown>;
    return o && typeof o.code === 'string' && CODES.has(o.code) && typeof o.message === 'string' ? [{ code: o.code, message: o.message, detail: o.detail }] : [];
  });
}

function signature(ctx: Context): { confidence: number; evidence: Evidence[] } {
  const evidence: Evidence[] = [];
  let confidence = 0;
  const api = ctx.header('docker-distribution-api-version');
  if (api && /^registry\/2/i.test(api)) {
    confidence = 0.95;
    evidence.push(ev('header:docker-distribution-api-version', api));
  }
  const errs = registryErrors(ctx);
  if (errs.length) {
    // The envelope and its code table are the registry API's own; on a /v2/ path nothing else answers in that shape.
    const onV2 = /^\/v2(\/|$)/.test(ctx.url?.pathname ?? '');
    confidence = Math.max(confidence, onV2 ? 0.9 : 0.7);
    evidence.push(ev('body:errors[].code', errs.map((e) => e.code).join(', ')));
  }
  const bearer = ctx.challenges.find((c) => c.scheme.toLowerCase() === 'bearer' && /^(repository|registry|repository\(plugin\)):/.test(c.params.scope ?? ''));
  if (bearer) {
    confidence = Math.max(confidence, 0.85);
    evidence.push(ev('header:www-authenticate', `Bearer scope="${bearer.params.scope}"`));
  }
  return { confidence, evidence };
}

interface Access {
  type: string;
  name: string;
  actions: string[];
}

/** "repository:team/app:pull,push" (several space-separated) → access entries. */
function parseScope(scope: string | undefined): Access[] {
  return (scope ?? '').split(/\s+/).filter(Boolean).flatMap((s) => {
    const m = /^([^:]+):(.+):([^:]*)$/.exec(s);
    return m ? [{ type: m[1], name: m[2], actions: m[3].split(',').filter(Boolean) }] : [];
  });
}

/** The `access` claim of the registry token the request carried, when it is a readable JWT. */
function heldAccess(ctx: Context): Access[] | undefined {
  const jwt = ctx.credential.items.find((i) => i.kind === 'bearer-jwt');
  const access = jwt?.claims?.access;
  if (!Array.isArray(access)) return undefined;
  return access.flatMap((a) => {
    const o = a as Record<string, unknown>;
    return o && typeof o.type === 'string' && typeof o.name === 'string' ? [{ type: o.type, name: o.name, actions: Array.isArray(o.actions) ? o.actions.filter((x): x is string => typeof x === 'string') : [] }] : [];
  });
}

const fmt = (a: Access[]) => a.map((x) => `${x.type}:${x.name}:${x.actions.join(',')}`);

function registryHost(ctx: Context): string {
  return ctx.url?.host ?? 'REGISTRY';
}

export default defineRule({
  meta: {
    id: 'docker-registry',
    kind: 'producer',
    product: 'docker-registry',
    layer: 'application',
    description: 'Docker Registry HTTP API V2 / OCI distribution errors: Basic (htpasswd) and Bearer token challenges, insufficient_scope against the token’s access claim, invalid or expired tokens, DENIED, TOOMANYREQUESTS.',
    docs: [
      'https://distribution.github.io/distribution/spec/api/',
      'https://distribution.github.io/distribution/spec/auth/token/',
      'https://distribution.github.io/distribution/spec/auth/jwt/',
      'https://distribution.github.io/distribution/about/configuration/#auth',
      'https://github.com/opencontainers/distribution-spec/blob/main/spec.md#error-codes',
    ],
    causes: ['credential-missing', 'credential-invalid', 'credential-malformed', 'credential-expired', 'insufficient-scope', 'insufficient-role', 'rate-limited'],
  },
  applies: (ctx) => signature(ctx).confidence > 0,
  run(ctx) {
    const sig = signature(ctx);
    const producer = { product: 'docker-registry' as const, layer: 'application' as const, confidence: sig.confidence, evidence: sig.evidence };
    const errs = registryErrors(ctx);
    const codes = errs.map((e) => e.code);
    const codeEv = errs.length ? [ev('body:errors[].code', errs.map((e) => `${e.code}: ${e.message}`).join('; '))] : [];
    const causes: CauseClaim[] = [];
    const host = registryHost(ctx);
    const url = ctx.url?.href ?? `https://${host}/v2/`;
    const sent = ctx.requestHeader('authorization');
    const sentScheme = sent?.split(/\s+/)[0]?.toLowerCase();
    const basic = ctx.challenges.find((c) => c.scheme.toLowerCase() === 'basic');
    const bearer = ctx.challenges.find((c) => c.scheme.toLowerCase() === 'bearer');
    const required = parseScope(bearer?.params.scope);

    if (ctx.status === 401 && bearer) {
      const error = bearer.params.error;
      const realm = bearer.params.realm ?? 'REALM';
      const service = bearer.params.service ?? 'SERVICE';
      const scope = bearer.params.scope ?? 'repository:NAME:pull';
      const chEv = ev('header:www-authenticate', `Bearer realm="${realm}",service="${service}",scope="${scope}"${error ? `,error="${error}"` : ''}`);
      const tokenFix: Fix = {
        title: `Get a token for scope "${scope}" from the registry’s token service and send it as a Bearer token (docker login does this for docker push/pull)`,
        difficulty: 'easy',
        commands: [`docker login ${host}`, `TOKEN=$(curl -s -u USER '${realm}?service=${encodeURIComponent(service)}&scope=${encodeURIComponent(scope)}' | jq -r '.token // .access_token')`, `curl -s -H "Authorization: Bearer $TOKEN" ${url}`],
        verify: `The token’s access claim lists every action of "${scope}": echo "$TOKEN" | cut -d. -f2 | base64 -d 2>/dev/null | jq .access — and the request no longer answers 401.`,
        docs: 'https://distribution.github.io/distribution/spec/auth/token/',
      };
      if (error === 'insufficient_scope') {
        const held = heldAccess(ctx);
        const heldActions = new Set((held ?? []).filter((a) => required.some((r) => r.type === a.type && r.name === a.name)).flatMap((a) => a.actions));
        const missing = required.flatMap((r) => r.actions.filter((a) => !heldActions.has(a) && !heldActions.has('*')).map((a) => `${r.type}:${r.name}:${a}`));
        causes.push({
          id: 'insufficient-scope',
          weight: 0.92,
          summary: `The registry accepted the token but it does not grant "${scope}"${held ? `: it holds [${fmt(held).join(' ') || 'nothing'}]${missing.length ? `, missing ${missing.join(', ')}` : ''}` : ''}. The token service issues only the actions your account has on the repository.`,
          evidence: [chEv, ...(held ? [ev('claim:access', fmt(held).join(' ') || '[]')] : []), ...codeEv],
          gap: { required: fmt(required), held: held ? fmt(held) : [] },
          fixes: [
            tokenFix,
            {
              title: `Have the registry’s access control grant your account ${missing.length ? missing.map((m) => m.split(':').pop()).join(', ') : 'the missing actions'} on the repository (the token service only intersects what you ask for with what you have)`,
              difficulty: 'medium',
              verify: `A fresh token for "${scope}" lists all of its actions in the access claim.`,
              docs: 'https://distribution.github.io/distribution/spec/auth/jwt/',
            },
          ],
        });
      } else if (error === 'invalid_token') {
        const expired = ctx.credential.findings.some((f) => f.cause === 'credential-expired');
        const tokenEv = [chEv, ...codeEv];
        if (expired)
          causes.push({ id: 'credential-expired', weight: 0.85, summary: 'The registry rejected the token as invalid and its exp claim has passed: registry tokens live minutes; fetch a new one.', evidence: tokenEv, fixes: [tokenFix] });
        else {
          causes.push({
            id: 'credential-invalid',
            weight: 0.8,
            summary: 'The registry rejected the Bearer token (invalid_token): its signature does not verify against the registry’s trusted certificates, or its issuer or audience is not the registry’s.',
            evidence: tokenEv,
            fixes: [
              tokenFix,
              {
                title: 'Compare the token’s iss and aud with the registry’s auth.token issuer and service, and its signing certificate with auth.token.rootcertbundle',
                difficulty: 'medium',
                commands: ['echo "$TOKEN" | cut -d. -f2 | base64 -d 2>/dev/null | jq "{iss, aud, exp}"', 'grep -A6 "token:" /etc/docker/registry/config.yml'],
                verify: 'iss equals auth.token.issuer, aud equals auth.token.service, and the registry log no longer says "invalid token".',
                docs: 'https://distribution.github.io/distribution/about/configuration/#token',
              },
            ],
          });
          causes.push({ id: 'credential-expired', weight: 0.3, summary: 'The registry answers an expired token with the same invalid_token.', evidence: tokenEv, fixes: [tokenFix] });
        }
      } else if (sent && sentScheme !== 'bearer') {
        causes.push({
          id: 'credential-malformed',
          weight: 0.8,
          summary: `This registry uses token authentication and wants a Bearer token from ${realm}; the request sent ${sentScheme === 'basic' ? 'Basic credentials' : `a ${sent.split(/\s+/)[0]} credential`}, which the registry itself does not read.`,
          evidence: [chEv, ev('request-header:authorization', `${sent.split(/\s+/)[0]} … (not Bearer)`)],
          fixes: [tokenFix],
        });
      } else {
        causes.push({
          id: 'credential-missing',
          weight: 0.85,
          summary: `No token reached the registry. It wants a Bearer token from ${realm} (service "${service}") holding "${scope}".`,
          evidence: [chEv, ...codeEv],
          gap: { required: fmt(required), held: [] },
          fixes: [tokenFix],
        });
      }
    } else if (ctx.status === 401 && (basic || codes.includes('UNAUTHORIZED'))) {
      const realm = basic?.params.realm;
      const chEv = basic ? [ev('header:www-authenticate', `Basic realm="${realm}"`)] : [];
      const fixes: Fix[] = [
        {
          title: 'Log in to the registry with a user of its htpasswd file',
          difficulty: 'easy',
          commands: [`docker login ${host}`, `curl -s -u USER https://${host}/v2/_catalog`],
          verify: `curl -s -o /dev/null -w '%{http_code}\\n' -u USER https://${host}/v2/ prints 200.`,
        },
        {
          title: 'Check the user is in the registry’s htpasswd file (bcrypt only) and reset the password',
          difficulty: 'medium',
          commands: ['grep -A3 "htpasswd:" /etc/docker/registry/config.yml', 'htpasswd -B /etc/docker/registry/htpasswd USER'],
          docs: 'https://distribution.github.io/distribution/about/configuration/#htpasswd',
        },
      ];
      if (sentScheme === 'basic')
        causes.push({ id: 'credential-invalid', weight: 0.85, summary: `The registry rejected the Basic credentials${realm ? ` for realm "${realm}"` : ''}: unknown user, wrong password, or a password hash the registry cannot read (it accepts bcrypt only).`, evidence: [...chEv, ev('request-header:authorization', 'Basic credentials were sent'), ...codeEv], fixes });
      else if (sent && basic)
        causes.push({ id: 'credential-malformed', weight: 0.75, summary: `The registry wants HTTP Basic credentials (realm "${realm}") but the request sent a ${sent.split(/\s+/)[0]} credential, which htpasswd auth ignores.`, evidence: [...chEv, ev('request-header:authorization', `${sent.split(/\s+/)[0]} … (not Basic)`)], fixes });
      else
        causes.push({ id: 'credential-missing', weight: 0.85, summary: `The registry requires authentication${realm ? ` (Basic, realm "${realm}")` : ''} and the request sent none.`, evidence: [...chEv, ...codeEv], fixes });
    }

    if (codes.includes('DENIED')) {
      causes.push({
        id: 'insufficient-role',
        weight: 0.8,
        summary: 'The registry’s access controller authenticated you but denied this operation on the repository (DENIED): your account has no grant for it — often push to a namespace you do not own, or a repository that does not exist for you.',
        evidence: codeEv,
        fixes: [
          {
            title: 'Check which account the client is logged in as and that the repository path is under a namespace it may write to',
            difficulty: 'easy',
            commands: [`docker logout ${host} && docker login ${host}`, 'docker tag IMAGE ' + `${host}/NAMESPACE/REPO:TAG`],
            verify: 'The same push/pull succeeds; the registry’s UI or API lists your account with push on the repository.',
          },
          { title: 'Ask the registry’s administrator for the missing permission on the repository', difficulty: 'medium', docs: 'https://distribution.github.io/distribution/spec/api/#errors' },
        ],
      });
    }

    if (codes.includes('TOOMANYREQUESTS') || ctx.status === 429) {
      const retry = ctx.header('retry-after');
      causes.push({
        id: 'rate-limited',
        weight: 0.85,
        summary: `The registry’s rate limit stopped the request (TOOMANYREQUESTS)${retry ? `; retry after ${retry} s` : ''}.`,
        evidence: [...codeEv, ...(retry ? [ev('header:retry-after', retry)] : [])],
        fixes: [{ title: 'Authenticate (anonymous pulls get the lowest limits), wait, and pull through a mirror or cache', difficulty: 'easy', commands: [`docker login ${host}`], verify: 'The ratelimit-remaining header, where the registry sends one, is above 0.' }],
      });
    }
    return causes.length ? { producer, causes } : { producer };
  },
});
