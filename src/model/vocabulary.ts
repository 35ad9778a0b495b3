// The vocabulary fixed by ../shared/design.md section 2. A new id is added
// there first, then here; nothing else in the code invents cause, layer or
// product names.

export const CAUSE_IDS = [
  'credential-missing',
  'credential-malformed',
  'credential-expired',
  'credential-not-yet-valid',
  'clock-skew',
  'credential-invalid',
  'wrong-audience',
  'insufficient-scope',
  'insufficient-role',
  'explicit-deny',
  'resource-policy',
  'not-owner',
  'field-restricted',
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

export const LAYERS = [
  'cdn',
  'waf',
  'forward-proxy',
  'reverse-proxy',
  'gateway',
  'service-mesh',
  'web-server',
  'application',
  'cloud-iam',
  'storage',
  'identity-provider',
  'unknown',
] as const;
export type Layer = (typeof LAYERS)[number];

export const PRODUCTS = [
  // web servers and proxies
  'nginx', 'openresty', 'apache-httpd', 'iis', 'haproxy', 'caddy', 'lighttpd', 'squid',
  'varnish', 'tomcat', 'envoy', 'istio', 'kong',
  // CDN and WAF
  'cloudflare', 'akamai', 'fastly', 'imperva', 'sucuri', 'aws-cloudfront', 'aws-waf',
  'azure-front-door',
  // frameworks
  'django', 'rails', 'laravel', 'express', 'fastify', 'spring-security', 'aspnetcore',
  'wordpress',
  // cloud
  'aws-s3', 'aws-api-gateway', 'aws-iam', 'azure-storage', 'azure-resource-manager',
  'azure-key-vault', 'microsoft-graph', 'google-apis', 'google-cloud-storage',
  'google-cloud-run', 'firebase-firestore', 'supabase-postgrest',
  // identity
  'auth0', 'okta', 'authentik', 'keycloak',
  // services
  'github', 'gitlab', 'kubernetes', 'elasticsearch', 'vault', 'jenkins', 'atlassian-jira',
  'docker-registry', 'npm-registry', 'verdaccio', 'rabbitmq', 'stripe', 'shopify',
  'salesforce', 'discord', 'x-api', 'openai',
  'why403',
  'unknown',
] as const;
export type Product = (typeof PRODUCTS)[number];

export type Likelihood = 'high' | 'medium' | 'low';
export type Difficulty = 'easy' | 'medium' | 'hard';

export const isCauseId = (s: string): s is CauseId => (CAUSE_IDS as readonly string[]).includes(s);
export const isLayer = (s: string): s is Layer => (LAYERS as readonly string[]).includes(s);
export const isProduct = (s: string): s is Product => (PRODUCTS as readonly string[]).includes(s);
