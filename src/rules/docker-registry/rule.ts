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
import { defineProducer, ev, signals, type Challenge, type Context, type Fix } from '../define.ts';
import { claimBasicAuth } from '../_lib/basic-auth.ts';
import { challenge } from '../_lib/challenges.ts';

const CODES = new Set([
  'BLOB_UNKNOWN',
  'BLOB_UPLOAD_INVALID',
  'BLOB_UPLOAD_UNKNOWN',
  'DIGEST_INVALID',
  'MANIFEST_BLOB_UNKNOWN',
  'MANIFEST_INVALID',
  'MANIFEST_UNKNOWN',
  'MANIFEST_UNVERIFIED',
  'NAME_INVALID',
  'NAME_UNKNOWN',
  'SIZE_INVALID',
  'TAG_INVALID',
  'UNAUTHORIZED',
  'DENIED',
  'UNSUPPORTED',
  'TOOMANYREQUESTS',
  'PAGINATION_NUMBER_INVALID',
  'RANGE_INVALID',
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
    return o && typeof o.code === 'string' && CODES.has(o.code) && typeof o.message === 'string'
      ? [{ code: o.code, message: o.message, detail: o.detail }]
      : [];
  });
}

interface Access {
  type: string;
  name: string;
  actions: string[];
}

/** "repository:team/app:pull,push" (several space-separated) → access entries. */
function parseScope(scope: string | undefined): Access[] {
  return (scope ?? '')
    .split(/\s+/)
    .filter(Boolean)
    .flatMap((s) => {
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
    return o && typeof o.type === 'string' && typeof o.name === 'string'
      ? [
          {
            type: o.type,
            name: o.name,
            actions: Array.isArray(o.actions) ? o.actions.filter((x): x is string => typeof x === 'string') : [],
          },
        ]
      : [];
  });
}

const fmt = (a: Access[]) => a.map((x) => `${x.type}:${x.name}:${x.actions.join(',')}`);

function registryHost(ctx: Context): string {
  return ctx.url?.host ?? 'REGISTRY';
}

const TOKEN_DOC = 'https://distribution.github.io/distribution/spec/auth/token/';

function tokenFix(ctx: Context, bearer: Challenge): Fix {
  const host = registryHost(ctx);
  const { realm = 'REALM', service = 'SERVICE', scope = 'repository:NAME:pull' } = bearer.params;
  const query = `service=${encodeURIComponent(service)}&scope=${encodeURIComponent(scope)}`;
  return {
    title: `Get a token for scope "${scope}" from the registry’s token service and send it as a Bearer token (docker login does this for docker push/pull)`,
    difficulty: 'easy',
    commands: [
      `docker login ${host}`,
      `TOKEN=$(curl -s -u USER '${realm}?${query}' | jq -r '.token // .access_token')`,
      `curl -s -H "Authorization: Bearer $TOKEN" ${ctx.url?.href ?? `https://${host}/v2/`}`,
    ],
    verify: `The token’s access claim lists every action of "${scope}": echo "$TOKEN" | cut -d. -f2 | base64 -d 2>/dev/null | jq .access — and the request no longer answers 401.`,
    docs: TOKEN_DOC,
  };
}

const grantFix = (missing: string[], scope: string): Fix => ({
  title: `Have the registry’s access control grant your account ${missing.length ? missing.map((m) => m.split(':').pop()).join(', ') : 'the missing actions'} on the repository (the token service only intersects what you ask for with what you have)`,
  difficulty: 'medium',
  verify: `A fresh token for "${scope}" lists all of its actions in the access claim.`,
  docs: 'https://distribution.github.io/distribution/spec/auth/jwt/',
});

const ISSUER_FIX: Fix = {
  title:
    'Compare the token’s iss and aud with the registry’s auth.token issuer and service, and its signing certificate with auth.token.rootcertbundle',
  difficulty: 'medium',
  commands: [
    'echo "$TOKEN" | cut -d. -f2 | base64 -d 2>/dev/null | jq "{iss, aud, exp}"',
    'grep -A6 "token:" /etc/docker/registry/config.yml',
  ],
  verify:
    'iss equals auth.token.issuer, aud equals auth.token.service, and the registry log no longer says "invalid token".',
  docs: 'https://distribution.github.io/distribution/about/configuration/#token',
};

function htpasswdFixes(host: string): Fix[] {
  return [
    {
      title: 'Log in to the registry with a user of its htpasswd file',
      difficulty: 'easy',
      commands: [`docker login ${host}`, `curl -s -u USER https://${host}/v2/_catalog`],
      verify: `curl -s -o /dev/null -w '%{http_code}\\n' -u USER https://${host}/v2/ prints 200.`,
    },
    {
      title: 'Check the user is in the registry’s htpasswd file (bcrypt only) and reset the password',
      difficulty: 'medium',
      commands: [
        'grep -A3 "htpasswd:" /etc/docker/registry/config.yml',
        'htpasswd -B /etc/docker/registry/htpasswd USER',
      ],
      docs: 'https://distribution.github.io/distribution/about/configuration/#htpasswd',
    },
  ];
}

const deniedFixes = (host: string): Fix[] => [
  {
    title:
      'Check which account the client is logged in as and that the repository path is under a namespace it may write to',
    difficulty: 'easy',
    commands: [`docker logout ${host} && docker login ${host}`, `docker tag IMAGE ${host}/NAMESPACE/REPO:TAG`],
    verify: 'The same push/pull succeeds; the registry’s UI or API lists your account with push on the repository.',
  },
  {
    title: 'Ask the registry’s administrator for the missing permission on the repository',
    difficulty: 'medium',
    docs: 'https://distribution.github.io/distribution/spec/api/#errors',
  },
];

export default defineProducer({
  meta: {
    id: 'docker-registry',
    product: 'docker-registry',
    layer: 'application',
    description:
      'Docker Registry HTTP API V2 / OCI distribution errors: Basic (htpasswd) and Bearer token challenges, insufficient_scope against the token’s access claim, invalid or expired tokens, DENIED, TOOMANYREQUESTS.',
    docs: [
      'https://distribution.github.io/distribution/spec/api/',
      TOKEN_DOC,
      'https://distribution.github.io/distribution/spec/auth/jwt/',
      'https://distribution.github.io/distribution/about/configuration/#auth',
      'https://github.com/opencontainers/distribution-spec/blob/main/spec.md#error-codes',
    ],
    causes: [
      'credential-missing',
      'credential-invalid',
      'credential-malformed',
      'credential-expired',
      'insufficient-scope',
      'insufficient-role',
      'rate-limited',
    ],
    // TOOMANYREQUESTS comes with 429.
    statuses: [401, 403, 407, 429],
    messages: {
      scope:
        'The registry accepted the token but it does not grant "{{scope}}"{{held}}. The token service issues only the actions your account has on the repository.',
      tokenExpired:
        'The registry rejected the token as invalid and its exp claim has passed: registry tokens live minutes; fetch a new one.',
      tokenInvalid:
        'The registry rejected the Bearer token (invalid_token): its signature does not verify against the registry’s trusted certificates, or its issuer or audience is not the registry’s.',
      tokenMaybeExpired: 'The registry answers an expired token with the same invalid_token.',
      notBearer:
        'This registry uses token authentication and wants a Bearer token from {{realm}}; the request sent {{sent}}, which the registry itself does not read.',
      noToken:
        'No token reached the registry. It wants a Bearer token from {{realm}} (service "{{service}}") holding "{{scope}}".',
      basicRejected:
        'The registry rejected the Basic credentials for realm "{{realm}}": unknown user, wrong password, or a password hash the registry cannot read (it accepts bcrypt only).',
      basicWrongScheme:
        'The registry wants HTTP Basic credentials (realm "{{realm}}") but the request sent a {{scheme}} credential, which htpasswd auth ignores.',
      basicMissing: 'The registry requires authentication (Basic, realm "{{realm}}") and the request sent none.',
      rejected:
        'The registry rejected the Basic credentials: unknown user, wrong password, or a password hash the registry cannot read (it accepts bcrypt only).',
      missing: 'The registry requires authentication and the request sent none.',
      denied:
        'The registry’s access controller authenticated you but denied this operation on the repository (DENIED): your account has no grant for it — often push to a namespace you do not own, or a repository that does not exist for you.',
      rateLimited: 'The registry’s rate limit stopped the request (TOOMANYREQUESTS){{retry}}.',
    },
  },
  recognise(ctx) {
    const found = signals();
    const api = ctx.header('docker-distribution-api-version');
    if (api && /^registry\/2/i.test(api)) found.add(0.95, ev('header:docker-distribution-api-version', api));
    const errs = registryErrors(ctx);
    if (errs.length) {
      // The envelope and its code table are the registry API's own; on a /v2/ path nothing else answers in that shape.
      const onV2 = /^\/v2(\/|$)/.test(ctx.url?.pathname ?? '');
      found.add(onV2 ? 0.9 : 0.7, ev('body:errors[].code', errs.map((e) => e.code).join(', ')));
    }
    const scoped = ctx.challenges.find(
      (c) =>
        c.scheme.toLowerCase() === 'bearer' &&
        /^(repository|registry|repository\(plugin\)):/.test(c.params.scope ?? ''),
    );
    if (scoped) found.add(0.85, ev('header:www-authenticate', `Bearer scope="${scoped.params.scope}"`));
    return found.result({ errs });
  },
  explain(ctx, { errs }, report) {
    const codes = errs.map((e) => e.code);
    const codeEv = errs.length ? [ev('body:errors[].code', errs.map((e) => `${e.code}: ${e.message}`).join('; '))] : [];
    const host = registryHost(ctx);
    const sent = ctx.requestHeader('authorization');
    const scheme = sent?.split(/\s+/)[0];
    const basic = challenge(ctx, 'basic');
    const bearer = challenge(ctx, 'bearer');

    if (ctx.status === 401 && bearer) {
      const { error, realm = 'REALM', service = 'SERVICE', scope = 'repository:NAME:pull' } = bearer.params;
      const required = parseScope(bearer.params.scope);
      const chEv = ev(
        'header:www-authenticate',
        `Bearer realm="${realm}",service="${service}",scope="${scope}"${error ? `,error="${error}"` : ''}`,
      );
      const fix = tokenFix(ctx, bearer);
      if (error === 'insufficient_scope') {
        const held = heldAccess(ctx);
        const heldActions = new Set(
          (held ?? [])
            .filter((a) => required.some((r) => r.type === a.type && r.name === a.name))
            .flatMap((a) => a.actions),
        );
        const missing = required.flatMap((r) =>
          r.actions.filter((a) => !heldActions.has(a) && !heldActions.has('*')).map((a) => `${r.type}:${r.name}:${a}`),
        );
        const holds = held
          ? `: it holds [${fmt(held).join(' ') || 'nothing'}]${missing.length ? `, missing ${missing.join(', ')}` : ''}`
          : '';
        report.claim('insufficient-scope', 'scope', 0.92, {
          data: { scope, held: holds },
          evidence: [chEv, ...(held ? [ev('claim:access', fmt(held).join(' ') || '[]')] : []), ...codeEv],
          gap: { required: fmt(required), held: held ? fmt(held) : [] },
          fixes: [fix, grantFix(missing, scope)],
        });
      } else if (error === 'invalid_token') {
        const tokenEv = [chEv, ...codeEv];
        if (ctx.credential.findings.some((f) => f.cause === 'credential-expired'))
          report.claim('credential-expired', 'tokenExpired', 0.85, { evidence: tokenEv, fixes: [fix] });
        else {
          report.claim('credential-invalid', 'tokenInvalid', 0.8, { evidence: tokenEv, fixes: [fix, ISSUER_FIX] });
          report.claim('credential-expired', 'tokenMaybeExpired', 0.3, { evidence: tokenEv, fixes: [fix] });
        }
      } else if (sent && scheme?.toLowerCase() !== 'bearer') {
        report.claim('credential-malformed', 'notBearer', 0.8, {
          data: { realm, sent: scheme?.toLowerCase() === 'basic' ? 'Basic credentials' : `a ${scheme} credential` },
          evidence: [chEv, ev('request-header:authorization', `${scheme} … (not Bearer)`)],
          fixes: [fix],
        });
      } else {
        report.claim('credential-missing', 'noToken', 0.85, {
          data: { realm, service, scope },
          evidence: [chEv, ...codeEv],
          gap: { required: fmt(required), held: [] },
          fixes: [fix],
        });
      }
    } else if (ctx.status === 401 && (basic || codes.includes('UNAUTHORIZED'))) {
      // The registry answers a missing and a wrong Basic credential alike; only the request tells them apart.
      const messages = basic
        ? ({ rejected: 'basicRejected', wrongScheme: 'basicWrongScheme', missing: 'basicMissing' } as const)
        : ({ rejected: 'rejected', wrongScheme: 'basicWrongScheme', missing: 'missing' } as const);
      claimBasicAuth(ctx, report, messages, {
        evidence: codeEv,
        fixes: htpasswdFixes(host),
        weights: { rejected: 0.85, missing: 0.85 },
      });
    }

    if (codes.includes('DENIED'))
      report.claim('insufficient-role', 'denied', 0.8, { evidence: codeEv, fixes: deniedFixes(host) });

    if (codes.includes('TOOMANYREQUESTS') || ctx.status === 429) {
      const retry = ctx.header('retry-after');
      const login: Fix = {
        title: 'Authenticate (anonymous pulls get the lowest limits), wait, and pull through a mirror or cache',
        difficulty: 'easy',
        commands: [`docker login ${host}`],
        verify: 'The ratelimit-remaining header, where the registry sends one, is above 0.',
      };
      report.claim('rate-limited', 'rateLimited', 0.85, {
        data: { retry: retry ? `; retry after ${retry} s` : '' },
        evidence: [...codeEv, ...(retry ? [ev('header:retry-after', retry)] : [])],
        fixes: [login],
      });
    }
  },
});
