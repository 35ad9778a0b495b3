// Azure Key Vault's data plane ({vault}.vault.azure.net) answers in the Azure
// error envelope {"error":{code, message, innererror:{code}}}; the inner code
// says which gate refused: ForbiddenByRbac (RBAC permission model, no role
// assignment), AccessDenied / ForbiddenByPolicy (access-policy model, no
// policy entry for the caller), ForbiddenByFirewall / ForbiddenByConnection
// (network rules). Its 401 is the challenge of the bearer protocol: the
// WWW-Authenticate header names the tenant and the resource a token must be for.
import { defineRule, ev, type CauseClaim } from '../define.ts';
import type { Context } from '../../engine/context.ts';
import { jsonString } from '../../engine/context.ts';
import type { Evidence, Fix } from '../../model/report.ts';

const VAULT_HOST = /^([a-z0-9-]+)\.(vault\.azure\.net|vault\.azure\.cn|vault\.usgovcloudapi\.net|vault\.microsoftazure\.de|managedhsm\.azure\.net)$/i;
const INNER = /^(ForbiddenByRbac|ForbiddenByPolicy|ForbiddenByFirewall|ForbiddenByConnection|AccessDenied)$/;

interface KvError {
  code?: string;
  inner?: string;
  message: string;
}

function readError(ctx: Context): KvError | undefined {
  const j = ctx.body.json;
  if (!j || typeof j !== 'object') return undefined;
  const message = jsonString(j, 'error.message');
  if (message === undefined) return undefined;
  return { code: jsonString(j, 'error.code'), inner: jsonString(j, 'error.innererror.code'), message };
}

/** "Vault: name;location=region" (RBAC/firewall) or "on key vault 'name;location=region'" (access policy). */
function vaultOf(ctx: Context, message: string): string | undefined {
  const m = /Vault: ([A-Za-z0-9-]+);location=/.exec(message) ?? /on key vault '([A-Za-z0-9-]+);location=/.exec(message);
  return m?.[1] ?? VAULT_HOST.exec(ctx.url?.hostname ?? '')?.[1];
}

function signature(ctx: Context, err: KvError | undefined) {
  const evidence: Evidence[] = [];
  let confidence = 0;
  const bump = (c: number, e: Evidence) => {
    confidence = Math.max(confidence, c);
    evidence.push(e);
  };
  for (const h of ['x-ms-keyvault-service-version', 'x-ms-keyvault-region', 'x-ms-keyvault-network-info']) {
    const v = ctx.header(h);
    if (v) bump(0.97, ev(`header:${h}`, v.length > 60 ? v.slice(0, 60) + '…' : v));
  }
  const www = ctx.header('www-authenticate') ?? '';
  if (/resource="https:\/\/vault\.(azure\.net|azure\.cn|usgovcloudapi\.net)"/i.test(www)) bump(0.95, ev('header:www-authenticate', 'resource https://vault.azure.net'));
  const host = ctx.url?.hostname ?? '';
  const kvHost = VAULT_HOST.test(host);
  if (err) {
    const vaultLine = /(^|\n|\\r\\n|\r\n)Vault: [A-Za-z0-9-]+;location=/.test(err.message) || / on key vault '[A-Za-z0-9-]+;location=/.test(err.message);
    if (vaultLine) bump(0.95, ev('body:error.message', 'names the vault ("Vault: NAME;location=…")'));
    if (/^AKV\d{5}:/.test(err.message)) bump(0.93, ev('body:error.message', `Key Vault message id ${err.message.slice(0, 8)}`));
    if (err.inner && INNER.test(err.inner) && kvHost) bump(0.95, ev('body:error.innererror.code', err.inner));
    else if (err.inner && /^ForbiddenBy(Rbac|Policy|Firewall|Connection)$/.test(err.inner) && /go\.microsoft\.com\/fwlink|Caller: /.test(err.message)) bump(0.8, ev('body:error.innererror.code', err.inner));
  }
  if (kvHost) {
    evidence.push(ev('request:url', `Key Vault endpoint ${host}`));
    if (confidence === 0) confidence = 0.6;
  }
  return { confidence, evidence };
}

const IDENTITY: Fix = {
  title: 'Find the object ID the request really ran as (the "oid" in the message or token) — managed identity, service principal or user',
  difficulty: 'easy',
  commands: ['az account show --query user', 'az ad sp show --id APP_ID --query id -o tsv   # object id of an app; for a managed identity: az identity show -n NAME -g RG --query principalId'],
  verify: 'The object ID matches the principal you granted access to (several objects can share a display name).',
};

function rbacFixes(vault: string, action: string | undefined, scope: string | undefined): Fix[] {
  const role = /\/secrets\//i.test(action ?? '') ? 'Key Vault Secrets User' : /\/keys\//i.test(action ?? '') ? 'Key Vault Crypto User' : /\/certificates\//i.test(action ?? '') ? 'Key Vault Certificate User' : 'Key Vault Secrets User';
  const sc = scope ?? `$(az keyvault show -n ${vault} --query id -o tsv)`;
  return [
    IDENTITY,
    {
      title: `Assign "${role}" (or a role containing ${action ?? 'the data action'}) to the caller on the vault`,
      difficulty: 'easy',
      commands: [`az role assignment create --role "${role}" --assignee-object-id PRINCIPAL_OBJECT_ID --assignee-principal-type ServicePrincipal --scope ${sc}`],
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
      commands: [`az keyvault set-policy -n ${vault} --object-id PRINCIPAL_OBJECT_ID --${kind.replace(/s$/, '')}-permissions ${perm} list`],
      verify: `az keyvault show -n ${vault} --query "properties.accessPolicies[?objectId=='PRINCIPAL_OBJECT_ID'].permissions" lists ${perm}.`,
      docs: 'https://learn.microsoft.com/azure/key-vault/general/assign-access-policy',
    },
    {
      title: 'Check which permission model the vault uses',
      difficulty: 'easy',
      commands: [`az keyvault show -n ${vault} --query properties.enableRbacAuthorization`],
      verify: 'false or null: access policies decide; true: use role assignments instead.',
    },
  ];
}

function networkFixes(vault: string, address: string | undefined): Fix[] {
  return [
    {
      title: `Allow the client address${address ? ` ${address}` : ''} in the vault firewall, or reach the vault through an allowed VNet / private endpoint`,
      difficulty: 'medium',
      commands: [`az keyvault network-rule add -n ${vault} --ip-address ${address && /^\d/.test(address) ? `${address}/32` : 'CLIENT_IP/32'}`, `az keyvault show -n ${vault} --query "properties.{publicNetworkAccess:publicNetworkAccess, defaultAction:networkAcls.defaultAction, bypass:networkAcls.bypass, ipRules:networkAcls.ipRules}"`],
      verify: 'The client address (or its subnet) is listed and the request is no longer answered ForbiddenByFirewall.',
      docs: 'https://learn.microsoft.com/azure/key-vault/general/network-security',
    },
  ];
}

function causesOf(ctx: Context, err: KvError): CauseClaim[] {
  const msg = err.message.replace(/\\r\\n|\r\n/g, '\n');
  const vault = vaultOf(ctx, msg) ?? 'VAULT_NAME';
  const evidence = [...(err.inner ? [ev('body:error.innererror.code', err.inner)] : []), ev('body:error.message', msg.split('\n')[0])];
  const inner = err.inner ?? '';
  if (inner === 'ForbiddenByRbac' || /^Caller is not authorized to perform action on resource/.test(msg)) {
    const action = /Action: '([^']+)'/.exec(msg)?.[1];
    const resource = /Resource: '([^']+)'/.exec(msg)?.[1];
    const assignment = /Assignment: ([^\n]+)/.exec(msg)?.[1]?.trim();
    const scope = resource ? resource.replace(/\/(secrets|keys|certificates)\/.*$/i, '') : undefined;
    const gap = action ? { required: [`${action}${resource ? ` on ${resource}` : ''}`], held: [] as string[] } : undefined;
    return [
      {
        id: 'insufficient-role',
        weight: 0.9,
        summary: `Key Vault (RBAC permission model) refused: the caller holds no role assignment granting ${action ?? 'the data action'}${assignment === '(not found)' ? ' — "Assignment: (not found)"' : ''}. A role assigned in the last minutes may still be propagating.`,
        evidence: [...evidence, ...(action ? [ev('body:error.message', `Action: ${action}`)] : []), ...(assignment ? [ev('body:error.message', `Assignment: ${assignment}`)] : [])],
        fixes: rbacFixes(vault, action, scope),
        ...(gap ? { gap } : {}),
      },
    ];
  }
  const policy = /does not have (secrets|keys|certificates|storage) (\w+) permission on key vault/.exec(msg);
  if (inner === 'AccessDenied' || inner === 'ForbiddenByPolicy' || policy) {
    const kind = policy?.[1] ?? 'secrets';
    const perm = policy?.[2] ?? 'get';
    return [
      {
        id: 'insufficient-role',
        weight: 0.88,
        summary: `Key Vault (access-policy model) refused: no access policy gives this caller ${kind} ${perm} on vault ${vault}.`,
        evidence,
        gap: { required: [`${kind}/${perm} on key vault ${vault}`], held: [] },
        fixes: policyFixes(vault, kind, perm),
      },
    ];
  }
  if (inner === 'ForbiddenByFirewall' || inner === 'ForbiddenByConnection' || /client address is not authorized|Public network access is disabled/i.test(msg)) {
    const address = /Client address: ([^\s\n]+)/.exec(msg)?.[1];
    return [
      {
        id: 'ip-restricted',
        weight: 0.9,
        summary: `The Key Vault firewall refused the connection${address ? ` from ${address}` : ''}: ${msg.split('\n')[0]} This is a network rule, not a missing permission — the identity was not even evaluated.`,
        evidence: [...evidence, ...(address ? [ev('body:error.message', `Client address: ${address}`)] : [])],
        fixes: networkFixes(vault, address),
      },
    ];
  }
  return [];
}

function challenge(ctx: Context): CauseClaim[] {
  const www = ctx.header('www-authenticate') ?? '';
  const authority = /authorization="([^"]+)"/.exec(www)?.[1];
  const resource = /resource="([^"]+)"/.exec(www)?.[1] ?? 'https://vault.azure.net';
  const auth = ctx.requestHeader('authorization');
  const evidence = [ev('header:www-authenticate', www || 'absent')];
  const fix: Fix = {
    title: `Send a token issued by ${authority ?? 'the vault’s tenant'} for the resource ${resource}`,
    difficulty: 'easy',
    commands: [`az account get-access-token --resource ${resource} --query accessToken -o tsv`, '# SDKs do this challenge for you: the first unauthenticated 401 is expected, a second one is not'],
    verify: 'The token’s aud claim is https://vault.azure.net and its tid the tenant in the challenge.',
    docs: 'https://learn.microsoft.com/azure/key-vault/general/authentication-requests-and-responses',
  };
  if (!auth)
    return [{ id: 'credential-missing', weight: 0.85, summary: `No bearer token reached Key Vault; it answers with a challenge naming the tenant (${authority ?? 'see WWW-Authenticate'}) and the resource (${resource}) a token must be for.`, evidence: [...evidence, ev('request:header', 'no Authorization header')], fixes: [fix] }];
  return [
    { id: 'wrong-audience', weight: 0.5, summary: `Key Vault rejected the bearer token: it must be issued for ${resource} by the vault’s tenant (${authority ?? 'see WWW-Authenticate'}).`, evidence, fixes: [fix] },
    { id: 'credential-expired', weight: 0.3, summary: 'An expired token is rejected with the same challenge.', evidence, fixes: [fix] },
  ];
}

export default defineRule({
  meta: {
    id: 'azure-key-vault',
    kind: 'producer',
    product: 'azure-key-vault',
    layer: 'cloud-iam',
    description: 'Azure Key Vault data-plane refusals: RBAC (ForbiddenByRbac, "Assignment: (not found)"), access policies (AccessDenied / ForbiddenByPolicy), the vault firewall (ForbiddenByFirewall / ForbiddenByConnection), and the 401 bearer challenge.',
    docs: [
      'https://learn.microsoft.com/azure/key-vault/general/rest-error-codes',
      'https://learn.microsoft.com/azure/key-vault/general/troubleshooting-access-issues',
      'https://learn.microsoft.com/azure/key-vault/general/rbac-guide',
      'https://learn.microsoft.com/azure/key-vault/general/network-security',
    ],
    causes: ['insufficient-role', 'ip-restricted', 'credential-missing', 'wrong-audience', 'credential-expired'],
  },
  applies: (ctx) => ctx.status >= 400 && ctx.status < 500,
  run(ctx) {
    const err = readError(ctx);
    const sig = signature(ctx, err);
    if (sig.confidence === 0) return undefined;
    const producer = { product: 'azure-key-vault' as const, layer: 'cloud-iam' as const, confidence: sig.confidence, evidence: sig.evidence };
    if (ctx.status === 401) return { producer, causes: challenge(ctx) };
    if (ctx.status !== 403 || !err) return { producer };
    const causes = causesOf(ctx, err);
    const notes = causes[0]?.id === 'ip-restricted' ? ['Key Vault checks the network rules before the identity: fixing roles or access policies will not help until the firewall lets the client in.'] : [];
    return { producer, causes, notes };
  },
});
