// What Envoy's own filters write when they refuse a request (its "local
// replies"), shared by the envoy and istio rules: Istio's sidecars and
// gateways are Envoy, so the bodies are the same and only the headers tell
// the two apart. Wordings from envoy source/extensions/filters/http/rbac and
// jwt_authn (jwt_verify_lib status.cc).
import type { Context } from '../model/rule.ts';
import type { Evidence } from '../model/report.ts';
import type { CauseId } from '../model/vocabulary.ts';

export const RBAC_BODY = 'RBAC: access denied';

/** The causes jwt_authn's replies name. */
export type JwtCause = Extract<
  CauseId,
  | 'credential-missing'
  | 'credential-expired'
  | 'credential-not-yet-valid'
  | 'credential-invalid'
  | 'credential-malformed'
  | 'wrong-audience'
>;

export interface JwtReply {
  re: RegExp;
  cause: JwtCause;
  meaning: string;
}

export const JWT_REPLIES: JwtReply[] = [
  {
    re: /^Jwt is missing$/,
    cause: 'credential-missing',
    meaning: 'no JWT was found where the provider looks (Authorization: Bearer, or its from_headers / from_params)',
  },
  { re: /^Jwt is expired$/, cause: 'credential-expired', meaning: 'the JWT’s exp is in the past' },
  { re: /^Jwt not yet valid$/, cause: 'credential-not-yet-valid', meaning: 'the JWT’s nbf is in the future' },
  {
    re: /^Jwt verification fails$/,
    cause: 'credential-invalid',
    meaning:
      'the signature does not verify against the provider’s JWKS (token signed by another key or issuer, or altered)',
  },
  {
    re: /^Jwks doesn't have key to match kid or alg from Jwt$/,
    cause: 'credential-invalid',
    meaning: 'the provider’s JWKS holds no key with the token’s kid/alg (rotated keys or the wrong JWKS)',
  },
  {
    re: /^Jwt issuer is not configured$/,
    cause: 'wrong-audience',
    meaning: 'the token’s iss matches no configured provider: a valid token of another issuer',
  },
  {
    re: /^Audiences in Jwt are not allowed$/,
    cause: 'wrong-audience',
    meaning: 'the token’s aud is not in the provider’s audiences',
  },
  {
    re: /^Jwt is not in the form of Header\.Payload\.Signature|^Jwt (header|payload) (is an invalid|\[)|^Jwt signature is an invalid Base64|^Jwt header is an invalid JSON/,
    cause: 'credential-malformed',
    meaning:
      'what was sent is not a well-formed JWT (an opaque token, a missing "Bearer " prefix, or a truncated value)',
  },
];

export type LocalReply = { kind: 'rbac'; body: string } | { kind: 'jwt'; body: string; reply: JwtReply };

export function localReply(ctx: Context): LocalReply | undefined {
  const body = ctx.body.text.trim();
  if (body.length > 200) return undefined;
  if (body === RBAC_BODY && ctx.status === 403) return { kind: 'rbac', body };
  if (ctx.status === 401) {
    const reply = JWT_REPLIES.find((r) => r.re.test(body));
    if (reply) return { kind: 'jwt', body, reply };
  }
  return undefined;
}

/** Headers plain Envoy adds: its default server name and the x-envoy-* family (Istio's peer metadata aside). */
export function envoyMarkers(ctx: Context): Evidence[] {
  const out: Evidence[] = [];
  const server = ctx.header('server');
  if (server && /^envoy$/i.test(server.trim())) out.push({ source: 'header:server', text: server });
  for (const h of ctx.exchange.response.headers) {
    const name = h.name.toLowerCase();
    if (name.startsWith('x-envoy-') && !name.startsWith('x-envoy-peer-metadata'))
      out.push({ source: `header:${name}`, text: h.value });
  }
  return out;
}

/** The request's WWW-Authenticate challenge as evidence, when jwt_authn sent one. */
export function challengeEvidence(ctx: Context): Evidence[] {
  const www = ctx.header('www-authenticate');
  return www ? [{ source: 'header:www-authenticate', text: www }] : [];
}
