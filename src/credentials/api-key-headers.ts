// Header names vendors document for API keys: x-api-key (AWS API Gateway and
// many others), private-token / job-token (GitLab), x-goog-api-key (Google),
// ocp-apim-subscription-key (Azure API Management), x-functions-key (Azure
// Functions), x-vault-token (Vault), x-shopify-access-token (Shopify).
export const API_KEY_HEADERS: ReadonlySet<string> = new Set([
  'x-api-key',
  'api-key',
  'apikey',
  'x-apikey',
  'x-auth-token',
  'x-access-token',
  'x-authorization',
  'private-token',
  'job-token',
  'x-goog-api-key',
  'ocp-apim-subscription-key',
  'x-functions-key',
  'x-vault-token',
  'x-shopify-access-token',
]);

// Beyond the documented names, a header named like a key or a token
// (`X-Consul-Token`, `X-Algolia-API-Key`, `Fastly-Key`, `api_key`) is how a
// service takes its own credential — except the anti-forgery tokens, the
// session tokens that travel beside a signature (which authenticate nothing
// alone), and the keys HTTP itself names that are no credential: an
// idempotency key (Stripe and the IETF draft), the WebSocket handshake key,
// a cache key.
const API_KEY_HEADER_PATTERN = /(^|[-_])(api[-_]?key|key|token)$/i;
const NOT_A_KEY_HEADER = /csrf|xsrf|^x-amz-security-token$|^x-goog-|idempotency|^sec-websocket-|cache-key$/i;

export function isApiKeyHeader(name: string): boolean {
  const n = name.toLowerCase();
  return API_KEY_HEADERS.has(n) || (API_KEY_HEADER_PATTERN.test(n) && !NOT_A_KEY_HEADER.test(n));
}
