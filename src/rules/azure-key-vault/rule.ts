// Azure Key Vault's data plane ({vault}.vault.azure.net) answers in the Azure
// error envelope {"error":{code, message, innererror:{code}}}; the inner code
// says which gate refused: ForbiddenByRbac (RBAC permission model, no role
// assignment), AccessDenied / ForbiddenByPolicy (access-policy model, no
// policy entry for the caller), ForbiddenByFirewall / ForbiddenByConnection
// (network rules). Its 401 is the challenge of the bearer protocol: the
// WWW-Authenticate header names the tenant and the resource a token must be for.
import { defineProducer, ev, signals, type Context } from '../define.ts';
import { jsonError, jsonField } from '../_lib/envelopes.ts';
import { isClientError } from '../_lib/cloud-errors.ts';
import texts from './texts.json' with { type: 'json' };

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

/** The data role that holds the refused data action. */
function roleFor(action: string | undefined): string {
  return /\/secrets\//i.test(action ?? '')
    ? 'Key Vault Secrets User'
    : /\/keys\//i.test(action ?? '')
      ? 'Key Vault Crypto User'
      : /\/certificates\//i.test(action ?? '')
        ? 'Key Vault Certificate User'
        : 'Key Vault Secrets User';
}

const FIREWALL_NOTE =
  'Key Vault checks the network rules before the identity: fixing roles or access policies will not help until the firewall lets the client in.';

export default defineProducer({
  meta: {
    id: 'azure-key-vault',
    product: 'azure-key-vault',
    layer: 'cloud-iam',
    causes: ['insufficient-role', 'ip-restricted', 'credential-missing', 'wrong-audience', 'credential-expired'],
    statuses: [401, 403],
    ...texts,
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
      const data = {
        authority: authority ?? 'see WWW-Authenticate',
        resource,
        issuer: authority ?? 'the vault’s tenant',
      };
      const fixes = ['token'] as const;
      if (!ctx.requestHeader('authorization')) {
        report.claim('credential-missing', 'noToken', 0.85, {
          data,
          evidence: [...evidence, ev('request:header', 'no Authorization header')],
          fixes,
        });
        return;
      }
      report.claim('wrong-audience', 'tokenRejected', 0.5, { data, evidence, fixes });
      report.claim('credential-expired', 'tokenExpired', 0.3, { data, evidence, fixes });
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
          vault,
          role: roleFor(action),
          scope: scope ?? `$(az keyvault show -n ${vault} --query id -o tsv)`,
        },
        evidence: [
          ...evidence,
          ...(action ? [ev('body:error.message', `Action: ${action}`)] : []),
          ...(assignment ? [ev('body:error.message', `Assignment: ${assignment}`)] : []),
        ],
        fixes: ['identity', 'assignRole', 'confirmRbacModel'],
        ...(action ? { gap: { required: [`${action}${resource ? ` on ${resource}` : ''}`], held: [] } } : {}),
      });
      return;
    }
    const policy = /does not have (secrets|keys|certificates|storage) (\w+) permission on key vault/.exec(msg);
    if (inner === 'AccessDenied' || inner === 'ForbiddenByPolicy' || policy) {
      const kind = policy?.[1] ?? 'secrets';
      const perm = policy?.[2] ?? 'get';
      report.claim('insufficient-role', 'accessPolicy', 0.88, {
        data: { kind, perm, vault, permissionFlag: kind.replace(/s$/, '') },
        evidence,
        gap: { required: [`${kind}/${perm} on key vault ${vault}`], held: [] },
        fixes: ['identity', 'addAccessPolicy', 'permissionModel'],
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
        data: {
          from: address ? ` from ${address}` : '',
          line: msg.split('\n')[0],
          vault,
          address: address ? ` ${address}` : '',
          ipRule: address && /^\d/.test(address) ? `${address}/32` : 'CLIENT_IP/32',
        },
        evidence: [...evidence, ...(address ? [ev('body:error.message', `Client address: ${address}`)] : [])],
        fixes: ['allowAddress'],
      });
      report.note(FIREWALL_NOTE);
    }
  },
});
