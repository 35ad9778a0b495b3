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

/** A prefix of one vendor's table: `docs` only where it differs from the vendor's page. */
interface Prefix {
  match: RegExp;
  name: string;
  docs?: string;
  notBearer?: string;
}

/** One vendor's documented prefixes, all sharing the vendor name and (unless a prefix says otherwise) its page. */
function vendorKinds(vendor: string, docs: string, prefixes: Prefix[]): Entry[] {
  return prefixes.map((p) => ({
    match: p.match,
    vendor,
    name: p.name,
    docs: p.docs ?? docs,
    ...(p.notBearer ? { notBearer: p.notBearer } : {}),
  }));
}

const GITHUB_FORMATS =
  'https://github.blog/changelog/2021-03-31-authentication-token-format-updates-are-generally-available';
const AWS_KEY_INFO = 'https://docs.aws.amazon.com/STS/latest/APIReference/API_GetAccessKeyInfo.html';

const KINDS: Entry[] = [
  ...vendorKinds('github', GITHUB_FORMATS, [
    {
      match: /^github_pat_/,
      name: 'GitHub fine-grained personal access token',
      docs: 'https://docs.github.com/en/authentication/keeping-your-account-and-data-secure/managing-your-personal-access-tokens',
    },
    { match: /^ghp_/, name: 'GitHub personal access token (classic)' },
    { match: /^gho_/, name: 'GitHub OAuth access token' },
    { match: /^ghu_/, name: 'GitHub App user access token' },
    { match: /^ghs_/, name: 'GitHub App installation token (also GITHUB_TOKEN in Actions)' },
    {
      match: /^ghr_/,
      name: 'GitHub App refresh token',
      notBearer:
        'A refresh token is exchanged for an access token at the token endpoint; it does not authorize API calls itself.',
    },
  ]),
  ...vendorKinds('gitlab', 'https://docs.gitlab.com/security/tokens/#token-prefixes', [
    { match: /^glpat-/, name: 'GitLab personal, project or group access token' },
    { match: /^gldt-/, name: 'GitLab deploy token' },
    { match: /^glrt-/, name: 'GitLab runner authentication token' },
    { match: /^glptt-/, name: 'GitLab pipeline trigger token' },
  ]),
  ...vendorKinds('slack', 'https://docs.slack.dev/authentication/tokens', [
    { match: /^xoxb-/, name: 'Slack bot token' },
    { match: /^xoxp-/, name: 'Slack user token' },
    { match: /^xapp-/, name: 'Slack app-level token' },
  ]),
  ...vendorKinds('stripe', 'https://docs.stripe.com/keys', [
    { match: /^sk_live_/, name: 'Stripe secret key (live mode)' },
    { match: /^sk_test_/, name: 'Stripe secret key (test mode: reaches test data only)' },
    { match: /^rk_live_/, name: 'Stripe restricted key (live mode)' },
    { match: /^rk_test_/, name: 'Stripe restricted key (test mode)' },
    {
      match: /^pk_(live|test)_/,
      name: 'Stripe publishable key',
      notBearer:
        'A publishable key only identifies the account to client-side Stripe.js calls; server-side API calls need the secret key (sk_) or a restricted key (rk_).',
    },
  ]),
  ...vendorKinds('aws', AWS_KEY_INFO, [
    {
      match: /^AKIA[0-9A-Z]{16}$/,
      name: 'AWS access key id (long-term, IAM user or root)',
      notBearer:
        'An access key id is not a bearer token: AWS requests are signed with Signature Version 4 using the key id and its secret key (the AWS CLI and SDKs do this).',
    },
    {
      match: /^ASIA[0-9A-Z]{16}$/,
      name: 'AWS access key id (temporary, from STS)',
      notBearer:
        'An access key id is not a bearer token: AWS requests are signed with Signature Version 4 using the key id, its secret key and the session token.',
    },
  ]),
  // Access tokens issued by Google's token endpoint, and API keys.
  ...vendorKinds('google', 'https://developers.google.com/identity/protocols/oauth2', [
    { match: /^ya29\./, name: 'Google OAuth 2.0 access token' },
    {
      match: /^AIza[0-9A-Za-z_-]{35}$/,
      name: 'Google API key',
      docs: 'https://cloud.google.com/docs/authentication/api-keys-use',
      notBearer:
        'A Google API key goes in the `key` query parameter or the `X-Goog-Api-Key` header, not in `Authorization: Bearer`.',
    },
  ]),
  ...vendorKinds('vault', 'https://developer.hashicorp.com/vault/docs/concepts/tokens#token-prefixes', [
    { match: /^hvs\./, name: 'HashiCorp Vault service token' },
    { match: /^hvb\./, name: 'HashiCorp Vault batch token' },
  ]),
];

export function recogniseToken(token: string): TokenKind | undefined {
  const hit = KINDS.find((k) => k.match.test(token));
  if (!hit) return undefined;
  const { match: _match, ...kind } = hit;
  return kind;
}
