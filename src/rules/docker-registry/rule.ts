// Docker Registry HTTP API V2 / OCI distribution: every error is
// {"errors":[{"code","message","detail"}]} with codes from a fixed table
// (UNAUTHORIZED, DENIED, TOOMANYREQUESTS, …) and, from the reference
// registry, `Docker-Distribution-Api-Version: registry/2.0`. A 401 carries the
// challenge of the registry's auth: Basic for htpasswd, Bearer for token auth,
// whose `scope` names what the request needs (repository:NAME:pull,push) and
// whose `error` says what was wrong with the token sent (insufficient_scope,
// invalid_token). The token's own `access` claim is what it held: the gap.
// The registry answers a missing and a wrong Basic credential with the same
// body, so only the request tells them apart; and it authorises before it
// looks a name up, so a pull of a name that does not exist is refused too.
import { defineProducer, ev, signals, type Context } from '../define.ts';
import texts from './texts.json' with { type: 'json' };
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

/** Under 0.5: a registry API recognised, not which registry. */
const PROTOCOL = 0.45;
const DOCKER_HUB = /^(registry-1\.docker\.io|registry\.docker\.io|auth\.docker\.io|index\.docker\.io)$/;

/** The reference registry's `detail`: [{"Type":"repository","Class":"","Name":"team/app","Action":"pull"}]. */
function accessRecord(detail: unknown): boolean {
  return (
    Array.isArray(detail) &&
    detail.some((d) => d && typeof d === 'object' && 'Type' in d && 'Name' in d && 'Action' in d)
  );
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

export default defineProducer({
  meta: {
    id: 'docker-registry',
    product: 'docker-registry',
    layer: 'application',
    causes: [
      'credential-missing',
      'credential-invalid',
      'credential-malformed',
      'credential-expired',
      'insufficient-scope',
      'insufficient-role',
      'rate-limited',
      'wrong-endpoint',
    ],
    // TOOMANYREQUESTS comes with 429.
    statuses: [401, 403, 407, 429],
    ...texts,
  },
  recognise(ctx) {
    // The error envelope, the version header and the scoped Bearer challenge are the registry
    // API's, which every registry speaks (Quay, Harbor, GHCR, ECR, Artifactory…): they recognise
    // the protocol. The reference registry (distribution, Docker Hub) proves itself by its own
    // marks: the access record it puts in `detail`, or Docker Hub's hosts.
    const found = signals();
    const api = ctx.header('docker-distribution-api-version');
    if (api && /^registry\/2/i.test(api)) found.add(PROTOCOL, ev('header:docker-distribution-api-version', api));
    const errs = registryErrors(ctx);
    if (errs.length) {
      const onV2 = /^\/v2(\/|$)/.test(ctx.url?.pathname ?? '');
      found.add(onV2 ? PROTOCOL : 0.35, ev('body:errors[].code', errs.map((e) => e.code).join(', ')));
      if (errs.some((e) => accessRecord(e.detail)))
        found.add(
          0.9,
          ev('body:errors[].detail', 'the access record (Type, Class, Name, Action) the reference registry reports'),
        );
    }
    const scoped = ctx.challenges.find(
      (c) =>
        c.scheme.toLowerCase() === 'bearer' &&
        /^(repository|registry|repository\(plugin\)):/.test(c.params.scope ?? ''),
    );
    if (scoped) found.add(PROTOCOL, ev('header:www-authenticate', `Bearer scope="${scoped.params.scope}"`));
    const host = ctx.url?.hostname ?? '';
    const realmHost = /^https?:\/\/([^/:]+)/.exec(scoped?.params.realm ?? '')?.[1] ?? '';
    if (found.confidence > 0 && (DOCKER_HUB.test(host) || DOCKER_HUB.test(realmHost)))
      found.add(
        0.9,
        ev(
          DOCKER_HUB.test(host) ? 'request:url' : 'header:www-authenticate',
          `Docker Hub ${DOCKER_HUB.test(host) ? host : realmHost}`,
        ),
      );
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
      const tokenData = {
        host,
        realm,
        scope,
        query: `service=${encodeURIComponent(service)}&scope=${encodeURIComponent(scope)}`,
        url: ctx.url?.href ?? `https://${host}/v2/`,
      };
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
          data: {
            ...tokenData,
            held: holds,
            actions: missing.length ? missing.map((m) => m.split(':').pop()).join(', ') : 'the missing actions',
          },
          evidence: [chEv, ...(held ? [ev('claim:access', fmt(held).join(' ') || '[]')] : []), ...codeEv],
          gap: { required: fmt(required), held: held ? fmt(held) : [] },
          fixes: ['token', 'grant'],
        });
      } else if (error === 'invalid_token') {
        const tokenEv = [chEv, ...codeEv];
        if (ctx.credential.findings.some((f) => f.cause === 'credential-expired'))
          report.claim('credential-expired', 'tokenExpired', 0.85, {
            data: tokenData,
            evidence: tokenEv,
            fixes: ['token'],
          });
        else {
          report.claim('credential-invalid', 'tokenInvalid', 0.8, {
            data: tokenData,
            evidence: tokenEv,
            fixes: ['token', 'issuer'],
          });
          report.claim('credential-expired', 'tokenMaybeExpired', 0.3, {
            data: tokenData,
            evidence: tokenEv,
            fixes: ['token'],
          });
        }
      } else if (sent && scheme?.toLowerCase() !== 'bearer') {
        report.claim('credential-malformed', 'notBearer', 0.8, {
          data: {
            ...tokenData,
            sent: scheme?.toLowerCase() === 'basic' ? 'Basic credentials' : `a ${scheme} credential`,
          },
          evidence: [chEv, ev('request-header:authorization', `${scheme} … (not Bearer)`)],
          fixes: ['token'],
        });
      } else {
        report.claim('credential-missing', 'noToken', 0.85, {
          data: { ...tokenData, service },
          evidence: [chEv, ...codeEv],
          gap: { required: fmt(required), held: [] },
          fixes: ['token'],
        });
      }
    } else if (ctx.status === 401 && (basic || codes.includes('UNAUTHORIZED'))) {
      // The registry answers a missing and a wrong Basic credential alike; only the request tells them apart.
      const messages = basic
        ? ({ rejected: 'basicRejected', wrongScheme: 'basicWrongScheme', missing: 'basicMissing' } as const)
        : ({ rejected: 'rejected', wrongScheme: 'basicWrongScheme', missing: 'missing' } as const);
      claimBasicAuth(ctx, report, messages, {
        data: { host },
        evidence: codeEv,
        fixes: ['htpasswdLogin', 'htpasswdUser'],
        weights: { rejected: 0.85, missing: 0.85 },
      });
    }

    // The registry authorises before it looks the name up: a pull of a
    // repository that does not exist (a typo, another registry, not pushed
    // yet) is refused like a private one — docker's own message for it is
    // "repository does not exist or may require 'docker login'".
    const pull = /^\/v2\/(.+)\/(manifests|blobs)\/[^/]+$/.exec(ctx.url?.pathname ?? '');
    if (pull && ['GET', 'HEAD'].includes(ctx.method) && ((ctx.status === 401 && !sent) || codes.includes('DENIED')))
      report.claim('wrong-endpoint', 'nameMaybeWrong', 0.5, {
        data: { host, name: pull[1] },
        evidence: [ev('request', `${ctx.method} ${ctx.url?.pathname}`), ...codeEv],
        fixes: ['checkName'],
      });

    if (codes.includes('DENIED'))
      report.claim('insufficient-role', 'denied', 0.8, {
        data: { host },
        evidence: codeEv,
        fixes: ['checkAccount', 'askAdmin'],
      });

    if (codes.includes('TOOMANYREQUESTS') || ctx.status === 429) {
      const retry = ctx.header('retry-after');
      report.claim('rate-limited', 'rateLimited', 0.85, {
        data: { retry: retry ? `; retry after ${retry} s` : '', host },
        evidence: [...codeEv, ...(retry ? [ev('header:retry-after', retry)] : [])],
        fixes: ['loginForLimits'],
      });
    }
  },
});
