// What an opaque token appears to be, from the prefixes its vendor documents.
// A prefix says who issued the token, not whether it is still good.

export interface TokenKind {
  vendor: string;
  name: string;
  docs: string;
  /** Set when this kind is not meant for `Authorization: Bearer`: what to do instead. */
  notBearer?: string;
}

interface Entry extends TokenKind {
  match: RegExp;
}

const KINDS: Entry[] = [
  // https://github.blog/changelog/2021-03-31-authentication-token-format-updates-are-generally-available
  {
    match: /^github_pat_/,
    vendor: 'github',
    name: 'GitHub fine-grained personal access token',
    docs: 'https://docs.github.com/en/authentication/keeping-your-account-and-data-secure/managing-your-personal-access-tokens',
  },
  {
    match: /^ghp_/,
    vendor: 'github',
    name: 'GitHub personal access token (classic)',
    docs: 'https://github.blog/changelog/2021-03-31-authentication-token-format-updates-are-generally-available',
  },
  {
    match: /^gho_/,
    vendor: 'github',
    name: 'GitHub OAuth access token',
    docs: 'https://github.blog/changelog/2021-03-31-authentication-token-format-updates-are-generally-available',
  },
  {
    match: /^ghu_/,
    vendor: 'github',
    name: 'GitHub App user access token',
    docs: 'https://github.blog/changelog/2021-03-31-authentication-token-format-updates-are-generally-available',
  },
  {
    match: /^ghs_/,
    vendor: 'github',
    name: 'GitHub App installation token (also GITHUB_TOKEN in Actions)',
    docs: 'https://github.blog/changelog/2021-03-31-authentication-token-format-updates-are-generally-available',
  },
  {
    match: /^ghr_/,
    vendor: 'github',
    name: 'GitHub App refresh token',
    docs: 'https://github.blog/changelog/2021-03-31-authentication-token-format-updates-are-generally-available',
    notBearer:
      'A refresh token is exchanged for an access token at the token endpoint; it does not authorize API calls itself.',
  },
  // https://docs.gitlab.com/security/tokens/#token-prefixes
  {
    match: /^glpat-/,
    vendor: 'gitlab',
    name: 'GitLab personal, project or group access token',
    docs: 'https://docs.gitlab.com/security/tokens/#token-prefixes',
  },
  {
    match: /^gldt-/,
    vendor: 'gitlab',
    name: 'GitLab deploy token',
    docs: 'https://docs.gitlab.com/security/tokens/#token-prefixes',
  },
  {
    match: /^glrt-/,
    vendor: 'gitlab',
    name: 'GitLab runner authentication token',
    docs: 'https://docs.gitlab.com/security/tokens/#token-prefixes',
  },
  {
    match: /^glptt-/,
    vendor: 'gitlab',
    name: 'GitLab pipeline trigger token',
    docs: 'https://docs.gitlab.com/security/tokens/#token-prefixes',
  },
  // https://docs.slack.dev/authentication/tokens
  { match: /^xoxb-/, vendor: 'slack', name: 'Slack bot token', docs: 'https://docs.slack.dev/authentication/tokens' },
  { match: /^xoxp-/, vendor: 'slack', name: 'Slack user token', docs: 'https://docs.slack.dev/authentication/tokens' },
  {
    match: /^xapp-/,
    vendor: 'slack',
    name: 'Slack app-level token',
    docs: 'https://docs.slack.dev/authentication/tokens',
  },
  // https://docs.stripe.com/keys
  { match: /^sk_live_/, vendor: 'stripe', name: 'Stripe secret key (live mode)', docs: 'https://docs.stripe.com/keys' },
  {
    match: /^sk_test_/,
    vendor: 'stripe',
    name: 'Stripe secret key (test mode: reaches test data only)',
    docs: 'https://docs.stripe.com/keys',
  },
  {
    match: /^rk_live_/,
    vendor: 'stripe',
    name: 'Stripe restricted key (live mode)',
    docs: 'https://docs.stripe.com/keys',
  },
  {
    match: /^rk_test_/,
    vendor: 'stripe',
    name: 'Stripe restricted key (test mode)',
    docs: 'https://docs.stripe.com/keys',
  },
  {
    match: /^pk_(live|test)_/,
    vendor: 'stripe',
    name: 'Stripe publishable key',
    docs: 'https://docs.stripe.com/keys',
    notBearer:
      'A publishable key only identifies the account to client-side Stripe.js calls; server-side API calls need the secret key (sk_) or a restricted key (rk_).',
  },
  // https://docs.aws.amazon.com/STS/latest/APIReference/API_GetAccessKeyInfo.html
  {
    match: /^AKIA[0-9A-Z]{16}$/,
    vendor: 'aws',
    name: 'AWS access key id (long-term, IAM user or root)',
    docs: 'https://docs.aws.amazon.com/STS/latest/APIReference/API_GetAccessKeyInfo.html',
    notBearer:
      'An access key id is not a bearer token: AWS requests are signed with Signature Version 4 using the key id and its secret key (the AWS CLI and SDKs do this).',
  },
  {
    match: /^ASIA[0-9A-Z]{16}$/,
    vendor: 'aws',
    name: 'AWS access key id (temporary, from STS)',
    docs: 'https://docs.aws.amazon.com/STS/latest/APIReference/API_GetAccessKeyInfo.html',
    notBearer:
      'An access key id is not a bearer token: AWS requests are signed with Signature Version 4 using the key id, its secret key and the session token.',
  },
  // https://developers.google.com/identity/protocols/oauth2 (access tokens issued by Google's token endpoint)
  {
    match: /^ya29\./,
    vendor: 'google',
    name: 'Google OAuth 2.0 access token',
    docs: 'https://developers.google.com/identity/protocols/oauth2',
  },
  // https://cloud.google.com/docs/authentication/api-keys
  {
    match: /^AIza[0-9A-Za-z_-]{35}$/,
    vendor: 'google',
    name: 'Google API key',
    docs: 'https://cloud.google.com/docs/authentication/api-keys-use',
    notBearer:
      'A Google API key goes in the `key` query parameter or the `X-Goog-Api-Key` header, not in `Authorization: Bearer`.',
  },
  // https://developer.hashicorp.com/vault/docs/concepts/tokens#token-prefixes
  {
    match: /^hvs\./,
    vendor: 'vault',
    name: 'HashiCorp Vault service token',
    docs: 'https://developer.hashicorp.com/vault/docs/concepts/tokens#token-prefixes',
  },
  {
    match: /^hvb\./,
    vendor: 'vault',
    name: 'HashiCorp Vault batch token',
    docs: 'https://developer.hashicorp.com/vault/docs/concepts/tokens#token-prefixes',
  },
];

export function recogniseToken(token: string): TokenKind | undefined {
  const hit = KINDS.find((k) => k.match.test(token));
  if (!hit) return undefined;
  const { match: _match, ...kind } = hit;
  return kind;
}
