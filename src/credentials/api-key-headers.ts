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
