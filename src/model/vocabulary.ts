// The vocabulary every report speaks: cause ids, layers and producer slugs.
// These ids are stable (labelled benchmarks and users' scripts depend on
// them); docs/vocabulary.md is generated from this file (npm run generate),
// and `node scripts/check-design-vocabulary.ts` compares it with the design
// notes the project was started from. Nothing else in the code invents cause,
// layer or product names.

/** Causes that mean the server could not establish who is asking: what HTTP signals with 401. */
export const AUTHENTICATION_CAUSES = [
  'credential-missing',
  'credential-malformed',
  'credential-expired',
  'credential-not-yet-valid',
  'clock-skew',
  'credential-invalid',
] as const;

/** Causes that mean the server knew who is asking and that identity may not do this: what HTTP signals with 403. */
export const PERMISSION_CAUSES = [
  'insufficient-scope',
  'insufficient-role',
  'explicit-deny',
  'resource-policy',
  'not-owner',
  'field-restricted',
] as const;

export const CAUSE_IDS = [
  ...AUTHENTICATION_CAUSES,
  'wrong-audience',
  ...PERMISSION_CAUSES,
  'account-state',
  'resource-state',
  'feature-disabled',
  'ip-restricted',
  'waf-block',
  'rate-limited',
  'csrf',
  'cors',
  'filesystem-permission',
  'directory-listing',
  'method-not-allowed',
  'path-forbidden',
  'wrong-endpoint',
  'conditional-access',
  'proxy-interference',
  'unknown',
] as const;
export type CauseId = (typeof CAUSE_IDS)[number];

/** Each layer, in report order, with what it is in one line. */
const LAYER_TABLE = [
  ['cdn', 'a content delivery network in front of the site'],
  ['waf', 'a web application firewall or bot manager'],
  ['forward-proxy', 'a proxy on the client’s side (corporate, HTTPS_PROXY)'],
  ['reverse-proxy', 'a proxy or load balancer in front of the server'],
  ['gateway', 'an API gateway'],
  ['service-mesh', 'a sidecar or mesh proxy between services'],
  ['web-server', 'the web server itself (its configuration, its files)'],
  ['application', 'the application behind the server'],
  ['cloud-iam', 'a cloud provider’s identity and access management'],
  ['storage', 'a storage service (buckets, blobs, objects)'],
  ['identity-provider', 'the service that issues and checks identities and tokens'],
  ['unknown', 'no layer can be told from the evidence'],
] as const;

/** The first of each row of a table of [id, meaning] rows, as a tuple. */
type Ids<T extends readonly (readonly [string, string])[]> = {
  readonly [I in keyof T]: T[I] extends readonly [infer Id, string] ? Id : never;
};
export const LAYERS = LAYER_TABLE.map(([id]) => id) as unknown as Ids<typeof LAYER_TABLE>;
export type Layer = (typeof LAYERS)[number];

export const PRODUCTS = [
  // web servers and proxies
  'nginx',
  'openresty',
  'apache-httpd',
  'iis',
  'haproxy',
  'caddy',
  'lighttpd',
  'squid',
  'varnish',
  'tomcat',
  'envoy',
  'istio',
  'kong',
  // CDN and WAF
  'cloudflare',
  'akamai',
  'fastly',
  'imperva',
  'sucuri',
  'aws-cloudfront',
  'aws-waf',
  'azure-front-door',
  // frameworks
  'django',
  'rails',
  'laravel',
  'express',
  'fastify',
  'spring-security',
  'aspnetcore',
  'wordpress',
  // cloud
  'aws-s3',
  'aws-api-gateway',
  'aws-iam',
  'azure-storage',
  'azure-resource-manager',
  'azure-key-vault',
  'microsoft-graph',
  'google-apis',
  'google-cloud-storage',
  'google-cloud-run',
  'firebase-firestore',
  'supabase-postgrest',
  // identity
  'auth0',
  'okta',
  'authentik',
  'keycloak',
  // services
  'github',
  'gitlab',
  'kubernetes',
  'elasticsearch',
  'vault',
  'jenkins',
  'atlassian-jira',
  'docker-registry',
  'npm-registry',
  'verdaccio',
  'rabbitmq',
  'stripe',
  'shopify',
  'salesforce',
  'discord',
  'x-api',
  'openai',
  'why403',
  'unknown',
] as const;
export type Product = (typeof PRODUCTS)[number];

export type Likelihood = 'high' | 'medium' | 'low';
export type Difficulty = 'easy' | 'medium' | 'hard';

export const isCauseId = (s: string): s is CauseId => (CAUSE_IDS as readonly string[]).includes(s);
export const isLayer = (s: string): s is Layer => (LAYERS as readonly string[]).includes(s);
export const isProduct = (s: string): s is Product => (PRODUCTS as readonly string[]).includes(s);
export const isAuthenticationCause = (id: CauseId): boolean =>
  (AUTHENTICATION_CAUSES as readonly string[]).includes(id);
export const isPermissionCause = (id: CauseId): boolean => (PERMISSION_CAUSES as readonly string[]).includes(id);

/** What each cause means, in one line: docs/vocabulary.md and `why403 rules` read this. */
export const CAUSE_MEANINGS: Readonly<Record<CauseId, string>> = {
  'credential-missing':
    'No credential arrived: never sent, dropped by a proxy on the way, or sent under a header the server does not read.',
  'credential-malformed':
    'A credential arrived in a shape the server cannot read: scheme missing or wrong (`Bearer `), wrong header, broken encoding.',
  'credential-expired': 'The token, session, signature, pre-signed URL or SAS is past the end of its validity.',
  'credential-not-yet-valid': 'The credential’s validity starts later (`nbf`, a start time in the future).',
  'clock-skew': 'Client and server clocks differ by enough to break a time-bound credential.',
  'credential-invalid':
    'The credential does not verify: bad signature, unknown or revoked key, wrong secret or password.',
  'wrong-audience':
    'A valid credential for something else: another audience, issuer, tenant or environment (a test key against production).',
  'insufficient-scope':
    'The credential lacks an OAuth scope, an app permission or a token permission the operation needs.',
  'insufficient-role': 'The principal lacks the role or permission (RBAC, no IAM allow).',
  'explicit-deny':
    'A deny statement wins over the allows (IAM explicit deny, SCP, permission boundary, organisation policy).',
  'resource-policy':
    'A policy or ACL attached to the resource itself refuses (bucket policy, object ACL, resource-based policy).',
  'not-owner': 'The resource belongs to another user, organisation or tenant.',
  'field-restricted': 'A record or field inside an otherwise allowed resource is restricted.',
  'account-state': 'The account is suspended, disabled or unverified, or must first satisfy SSO or 2FA enforcement.',
  'resource-state': 'The resource is locked, archived, read-only or disabled.',
  'feature-disabled': 'A feature, plan, licence or API is not enabled for this principal or project.',
  'ip-restricted': 'The client address is outside an allowlist, geo rule, VPN requirement or network rule.',
  'waf-block': 'A WAF, bot-management or security rule matched the request’s content or the client’s signature.',
  'rate-limited': 'A rate limit or quota answered with a denial.',
  csrf: 'A CSRF token, Origin or Referer check failed.',
  cors: 'The server’s origin policy rejected a cross-origin request.',
  'filesystem-permission': 'The server process cannot read the file or enter a directory on its path.',
  'directory-listing': 'A directory was requested where listings are off and no index file exists.',
  'method-not-allowed': 'The method is refused on this resource (what should have been a 405).',
  'path-forbidden': 'The server’s configuration refuses this path to everyone (deny rules, hidden files).',
  'wrong-endpoint':
    'A wrong URL, host, stage or method answered as a denial (an API gateway’s "Missing Authentication Token").',
  'conditional-access': 'A device, MFA, location or risk condition was not met.',
  'proxy-interference':
    'A forward proxy, corporate firewall or reverse proxy between client and server blocked or changed the request.',
  unknown: 'Nothing in the evidence supports a cause.',
};

/** What each layer is, in one line (from LAYER_TABLE above). */
export const LAYER_MEANINGS: Readonly<Record<Layer, string>> = Object.fromEntries(LAYER_TABLE) as Record<Layer, string>;
