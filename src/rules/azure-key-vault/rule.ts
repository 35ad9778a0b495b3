// Azure Key Vault's data plane ({vault}.vault.azure.net) answers in the Azure
// error envelope {"error":{code, message, innererror:{code}}}; the inner code
// says which gate refused: ForbiddenByRbac (RBAC permission model, no role
// assignment), AccessDenied / ForbiddenByPolicy (access-policy model, no
// policy entry for the caller), ForbiddenByFirewall / ForbiddenByConnection
// (network rules). Its 401 is the challenge of the bearer protocol: the
// WWW-Authenticate header names the tenant and the resource a token must be for.
import { defineProducer, ev, signals, type Context, type Fix } from '../define.ts';
import { jsonError, jsonField } from '../_lib/envelopes.ts';
import { isClientError } from '../_lib/cloud-errors.ts';

const VAULT_HOST =
  /^([a-z0-9-]+)\.(vault\.azure\.net|vault\.azure\.cn|vault\.usgovcloudapi\.net|vault\.microsoftazure\.de|managedhsm\.azure\.net)$/i;
const INNER = /^(ForbiddenByRbac|ForbiddenByPolicy|ForbiddenByFirewall|ForbiddenByConnection|AccessDenied)$/;

interface KvError {
  code?: string;
  inner?: string;
  message: string;
}

/** "Vault: name;location=region" (RBAC/firewall) or "on key vault 'name;location=region'" (access policy). */
function vaultOf(ctx: Context, message: string): string | undefined {
  const m = /Vault: ([A-Za-z0-9-]+);location=/.exec(message) ?? /on key vault '([A-Za-z0-9-]+);location=/.exec(message);
  return m?.[1] ?? VAULT_HOST.exec(ctx.url?.hostname ?? '')?.[1];
}

const IDENTITY: Fix = {
  title:
    'Find the object ID the request really ran as (the "oid" in the message or token) — managed identity, service principal or user',
  difficulty: 'easy',
  commands: [
    'az account show --query user',
    'az ad sp show --id APP_ID --query id -o tsv   # object id of an app; for a managed identity: az identity show -n NAME -g RG --query principalId',
  ],
  verify: 'The object ID matches the principal you granted access to (several objects can share a display name).',
};

function rbacFixes(vault: string, action: string | undefined, scope: string | undefined): Fix[] {
  const role = /\/secrets\//i.test(action ?? '')
    ? 'Key Vault Secrets User'
    : /\/keys\//i.test(action ?? '')
      ? 'Key Vault Crypto User'
      : /\/certificates\//i.test(action ?? '')
        ? 'Key Vault Certificate User'
        : 'Key Vault Secrets User';
  const sc = scope ?? `$(az keyvault show -n ${vault} --query id -o tsv)`;
  return [
    IDENTITY,
    {
      title: `Assign "${role}" (or a role containing ${action ?? 'the data action'}) to the caller on the vault`,
      difficulty: 'easy',
      commands: [
        `az role assignment create --role "${role}" --assignee-object-id PRINCIPAL_OBJECT_ID --assignee-principal-type ServicePrincipal --scope ${sc}`,
      ],
      verify: `az role assignment list --assignee PRINCIPAL_OBJECT_ID --scope ${sc} --include-inherited -o table lists the role; allow up to 10 minutes for propagation.`,
      docs: 'https://learn.microsoft.com/azure/key-vault/general/rbac-guide',
    },
    {
      title: 'Confirm the vault uses the RBAC permission model (access policies are ignored when it does)',
      difficulty: 'easy',
      commands: [`az keyvault show -n ${vault} --query properties.enableRbacAuthorization`],
      verify: 'true: grant a role as above; false: add an access policy instead.',
    },
  ];
}

function policyFixes(vault: string, kind: string, perm: string): Fix[] {
  return [
    IDENTITY,
    {
      title: `Add an access policy granting ${kind} ${perm} to the caller`,
      difficulty: 'easy',
      commands: [
        `az keyvault set-policy -n ${vault} --object-id PRINCIPAL_OBJECT_ID --${kind.replace(/s$/, '')}-permissions ${perm} list`,
      ],
      verify: `az keyvault show -n ${vault} --query "properties.accessPolicies[?objectId=='PRINCIPAL_OBJECT_ID'].permissions" lists ${perm}.`,
      docs: 'https://learn.microsoft.com/azure/key-vault/general/assign-access-policy',
    },
    { title: 'Check which permission model the vault uses', difficulty: 'easy', commands: [`az keyvault show -n ${vault} --query properties.enableRbacAuthorization`], verify: 'false or null: access policies decide; true: use role assignments instead.' },
  ];
}

function networkFixes(vault: string, address: string | undefined): Fix[] {
  return [
    {
      title: `Allow the client address${address ? ` ${address}` : ''} in the vault firewall, or reach the vault through an allowed VNet / private endpoint`,
      difficulty: 'medium',
      commands: [
        `az keyvault network-rule add -n ${vault} --ip-address ${address && /^\d/.test(address) ? `${address}/32` : 'CLIENT_IP/32'}`,
        `az keyvault show -n ${vault} --query "properties.{publicNetworkAccess:publicNetworkAccess, defaultAction:networkAcls.defaultAction, bypass:networkAcls.bypass, ipRules:networkAcls.ipRules}"`,
      ],
      verify: 'The client address (or its subnet) is listed and the request is no longer answered ForbiddenByFirewall.',
      docs: 'https://learn.microsoft.com/azure/key-vault/general/network-security',
    },
  ];
}

const FIREWALL_NOTE =
  'Key Vault checks the network rules before the identity: fixing roles or access policies will not help until the firewall lets the client in.';

function tokenFix(authority: string | undefined, resource: string): Fix {
  return {
    title: `Send a token issued by ${authority ?? 'the vault’s tenant'} for the resource ${resource}`,
    difficulty: 'easy',
    commands: [
      `az account get-access-token --resource ${resource} --query accessToken -o tsv`,
      '# SDKs do this challenge for you: the first unauthenticated 401 is expected, a second one is not',
    ],
    verify: 'The token’s aud claim is https://vault.azure.net and its tid the tenant in the challenge.',
    docs: 'https://learn.microsoft.com/azure/key-vault/general/authentication-requests-and-responses',
  };
}

export default defineProducer({
  meta: {
    id: 'azure-key-vault',
    product: 'azure-key-vault',
    layer: 'cloud-iam',
    description:
      'Azure Key Vault data-plane refusals: RBAC (ForbiddenByRbac, "Assignment: (not found)"), access policies (AccessDenied / ForbiddenByPolicy), the vault firewall (ForbiddenByFirewall / ForbiddenByConnection), and the 401 bearer challenge.',
    docs: [
      'https://learn.microsoft.com/azure/key-vault/general/rest-error-codes',
      'https://learn.microsoft.com/azure/key-vault/general/troubleshooting-access-issues',
      'https://learn.microsoft.com/azure/key-vault/general/rbac-guide',
      'https://learn.microsoft.com/azure/key-vault/general/network-security',
    ],
    causes: ['insufficient-role', 'ip-restricted', 'credential-missing', 'wrong-audience', 'credential-expired'],
    statuses: [401, 403],
    messages: {
      rbac: 'Key Vault (RBAC permission model) refused: the caller holds no role assignment granting {{action}}{{assignment}}. A role assigned in the last minutes may still be propagating.',
      accessPolicy:
        'Key Vault (access-policy model) refused: no access policy gives this caller {{kind}} {{perm}} on vault {{vault}}.',
      firewall:
        'The Key Vault firewall refused the connection{{from}}: {{line}} This is a network rule, not a missing permission — the identity was not even evaluated.',
      noToken:
        'No bearer token reached Key Vault; it answers with a challenge naming the tenant ({{authority}}) and the resource ({{resource}}) a token must be for.',
      tokenRejected:
        'Key Vault rejected the bearer token: it must be issued for {{resource}} by the vault’s tenant ({{authority}}).',
      tokenExpired: 'An expired token is rejected with the same challenge.',
    },
  },
  recognise(ctx) {
    // Key Vault answers its refusals with client errors; other statuses are not read.
    if (!isClientError(ctx.status)) return undefined;
    const error = jsonError(ctx, ['error.code'], ['error.message']);
    const err: KvError | undefined =
      error?.message === undefined
        ? undefined
        : { code: error.code, inner: jsonField(ctx, ['error.innererror.code'])?.value, message: error.message };
    const found = signals();
    for (const h of ['x-ms-keyvault-service-version', 'x-ms-keyvault-region', 'x-ms-keyvault-network-info']) {
      const v = ctx.header(h);
      if (v) found.add(0.97, ev(`header:${h}`, v.length > 60 ? v.slice(0, 60) + '…' : v));
    }
    const www = ctx.header('www-authenticate') ?? '';
    if (/resource="https:\/\/vault\.(azure\.net|azure\.cn|usgovcloudapi\.net)"/i.test(www))
      found.add(0.95, ev('header:www-authenticate', 'resource https://vault.azure.net'));
    const host = ctx.url?.hostname ?? '';
    const kvHost = VAULT_HOST.test(host);
    if (err) {
      const m = err.message;
      const vaultLine =
        /(^|\n|\\r\\n|\r\n)Vault: [A-Za-z0-9-]+;location=/.test(m) || / on key vault '[A-Za-z0-9-]+;location=/.test(m);
      if (vaultLine) found.add(0.95, ev('body:error.message', 'names the vault ("Vault: NAME;location=…")'));
      if (/^AKV\d{5}:/.test(m)) found.add(0.93, ev('body:error.message', `Key Vault message id ${m.slice(0, 8)}`));
      if (err.inner && INNER.test(err.inner) && kvHost) found.add(0.95, ev('body:error.innererror.code', err.inner));
      else if (
        err.inner &&
        /^ForbiddenBy(Rbac|Policy|Firewall|Connection)$/.test(err.inner) &&
        /go\.microsoft\.com\/fwlink|Caller: /.test(m)
      )
        found.add(0.8, ev('body:error.innererror.code', err.inner));
    }
    if (kvHost) found.add(0.6, ev('request:url', `Key Vault endpoint ${host}`));
    return found.result({ err });
  },
  explain(ctx, { err }, report) {
    if (ctx.status === 401) {
      // The bearer challenge: it names the tenant and the resource a token must be for.
      const www = ctx.header('www-authenticate') ?? '';
      const authority = /authorization="([^"]+)"/.exec(www)?.[1];
      const resource = /resource="([^"]+)"/.exec(www)?.[1] ?? 'https://vault.azure.net';
      const evidence = [ev('header:www-authenticate', www || 'absent')];
      const data = { authority: authority ?? 'see WWW-Authenticate', resource };
      const fixes = [tokenFix(authority, resource)];
      if (!ctx.requestHeader('authorization')) {
        report.claim('credential-missing', 'noToken', 0.85, {
          data,
          evidence: [...evidence, ev('request:header', 'no Authorization header')],
          fixes,
        });
        return;
      }
      report.claim('wrong-audience', 'tokenRejected', 0.5, { data, evidence, fixes });
      report.claim('credential-expired', 'tokenExpired', 0.3, { evidence, fixes });
      return;
    }
    if (!err) return;
    const msg = err.message.replace(/\\r\\n|\r\n/g, '\n');
    const vault = vaultOf(ctx, msg) ?? 'VAULT_NAME';
    const evidence = [
      ...(err.inner ? [ev('body:error.innererror.code', err.inner)] : []),
      ev('body:error.message', msg.split('\n')[0]),
    ];
    const inner = err.inner ?? '';
    if (inner === 'ForbiddenByRbac' || /^Caller is not authorized to perform action on resource/.test(msg)) {
      const action = /Action: '([^']+)'/.exec(msg)?.[1];
      const resource = /Resource: '([^']+)'/.exec(msg)?.[1];
      const assignment = /Assignment: ([^\n]+)/.exec(msg)?.[1]?.trim();
      const scope = resource ? resource.replace(/\/(secrets|keys|certificates)\/.*$/i, '') : undefined;
      report.claim('insufficient-role', 'rbac', 0.9, {
        data: {
          action: action ?? 'the data action',
          assignment: assignment === '(not found)' ? ' — "Assignment: (not found)"' : '',
        },
        evidence: [
          ...evidence,
          ...(action ? [ev('body:error.message', `Action: ${action}`)] : []),
          ...(assignment ? [ev('body:error.message', `Assignment: ${assignment}`)] : []),
        ],
        fixes: rbacFixes(vault, action, scope),
        ...(action ? { gap: { required: [`${action}${resource ? ` on ${resource}` : ''}`], held: [] } } : {}),
      });
      return;
    }
    const policy = /does not have (secrets|keys|certificates|storage) (\w+) permission on key vault/.exec(msg);
    if (inner === 'AccessDenied' || inner === 'ForbiddenByPolicy' || policy) {
      const kind = policy?.[1] ?? 'secrets';
      const perm = policy?.[2] ?? 'get';
      report.claim('insufficient-role', 'accessPolicy', 0.88, {
        data: { kind, perm, vault },
        evidence,
        gap: { required: [`${kind}/${perm} on key vault ${vault}`], held: [] },
        fixes: policyFixes(vault, kind, perm),
      });
      return;
    }
    if (
      inner === 'ForbiddenByFirewall' ||
      inner === 'ForbiddenByConnection' ||
      /client address is not authorized|Public network access is disabled/i.test(msg)
    ) {
      const address = /Client address: ([^\s\n]+)/.exec(msg)?.[1];
      report.claim('ip-restricted', 'firewall', 0.9, {
        data: { from: address ? ` from ${address}` : '', line: msg.split('\n')[0] },
        evidence: [...evidence, ...(address ? [ev('body:error.message', `Client address: ${address}`)] : [])],
        fixes: networkFixes(vault, address),
      });
      report.note(FIREWALL_NOTE);
    }
  },
});
