// Azure Resource Manager (management.azure.com) authorises every control-plane
// call with Azure RBAC, Azure Policy and deny assignments, and answers with
// {"error":{"code":…,"message":…}} plus x-ms-failure-cause and the
// x-ms-correlation-request-id / x-ms-routing-request-id pair. AuthorizationFailed
// names the client, the action and the scope — the exact missing grant.
import { defineRule, ev, type CauseClaim } from '../define.ts';
import type { Context } from '../../engine/context.ts';
import { jsonString } from '../../engine/context.ts';
import type { Evidence, Fix } from '../../model/report.ts';
import type { CauseId } from '../../model/vocabulary.ts';

const ARM_CODES = /^(AuthorizationFailed|LinkedAuthorizationFailed|RequestDisallowedByPolicy|DenyAssignmentAuthorizationFailed|InvalidAuthenticationToken|InvalidAuthenticationTokenTenant|InvalidAuthenticationTokenAudience|ExpiredAuthenticationToken|AuthenticationFailed|AuthorizationFailedDueToConditions)$/;

function readError(ctx: Context): { code?: string; message?: string } {
  const j = ctx.body.json;
  if (!j || typeof j !== 'object') return {};
  return { code: jsonString(j, 'error.code'), message: jsonString(j, 'error.message') };
}

function signature(ctx: Context) {
  const evidence: Evidence[] = [];
  const cause = ctx.header('x-ms-failure-cause');
  const corr = ctx.header('x-ms-correlation-request-id');
  const routing = ctx.header('x-ms-routing-request-id');
  const host = ctx.url?.hostname ?? '';
  const armHost = /^management\.(azure\.com|chinacloudapi\.cn|usgovcloudapi\.net)$/.test(host);
  const { code, message } = readError(ctx);
  if (cause) evidence.push(ev('header:x-ms-failure-cause', cause));
  if (corr) evidence.push(ev('header:x-ms-correlation-request-id', corr));
  if (routing) evidence.push(ev('header:x-ms-routing-request-id', routing));
  if (armHost) evidence.push(ev('request:url', `Resource Manager endpoint ${host}`));
  const known = Boolean(code && ARM_CODES.test(code));
  if (known) evidence.push(ev('body:error.code', code!));
  // The AuthorizationFailed sentence is ARM's own; Graph and data planes word theirs differently.
  const armSentence = /does not have authorization to perform action '[^']+' over scope '[^']*'/.test(message ?? '') || /associated with this subscription/.test(message ?? '') || /was disallowed by policy/.test(message ?? '');
  let confidence = 0;
  if (known && (cause || routing || armHost)) confidence = 0.97;
  else if (known && armSentence) confidence = 0.9;
  else if (known && corr) confidence = 0.85;
  else if (armHost) confidence = 0.55;
  return { confidence, evidence, code, message: message ?? '' };
}

function claim(id: CauseId, weight: number, summary: string, evidence: Evidence[], fixes: Fix[], gap?: CauseClaim['gap']): CauseClaim {
  return { id, weight, summary, evidence, fixes, ...(gap ? { gap } : {}) };
}

/** A built-in role likely to hold the action — a starting point, not a guarantee. */
function suggestRole(action: string): string {
  if (/\/read$/i.test(action)) return 'Reader';
  if (/^Microsoft\.Authorization\//i.test(action)) return 'User Access Administrator';
  return 'Contributor';
}

const REFRESH: Fix = {
  title: 'Get a fresh token after a role change (tokens cache group and role claims)',
  difficulty: 'easy',
  commands: ['az account get-access-token --resource https://management.azure.com/ --query expiresOn -o tsv', 'az logout && az login  # if the cached token predates the assignment'],
  verify: 'The retried call succeeds; role assignments can take up to ~10 minutes to apply.',
};

export default defineRule({
  meta: {
    id: 'azure-resource-manager',
    kind: 'producer',
    product: 'azure-resource-manager',
    layer: 'cloud-iam',
    description: 'Azure Resource Manager refusals: RBAC AuthorizationFailed (action over scope), linked-scope failures, Azure Policy denials, deny assignments, and token errors (expired, wrong tenant, wrong audience).',
    docs: [
      'https://learn.microsoft.com/en-us/azure/role-based-access-control/troubleshooting',
      'https://learn.microsoft.com/en-us/azure/azure-resource-manager/troubleshooting/error-policy-requestdisallowedbypolicy',
      'https://learn.microsoft.com/en-us/azure/role-based-access-control/deny-assignments',
      'https://learn.microsoft.com/en-us/rest/api/azure/#create-the-request',
    ],
    causes: ['insufficient-role', 'explicit-deny', 'credential-expired', 'credential-invalid', 'credential-missing', 'credential-malformed', 'wrong-audience', 'conditional-access'],
  },
  applies: (ctx) => signature(ctx).confidence > 0,
  run(ctx) {
    const sig = signature(ctx);
    const producer = { product: 'azure-resource-manager' as const, layer: 'cloud-iam' as const, confidence: sig.confidence, evidence: sig.evidence };
    if ((ctx.status !== 401 && ctx.status !== 403) || !sig.code) return { producer };
    const { code, message } = sig;
    const evidence = [ev('body:error.code', code), ev('body:error.message', message)];
    const causes: CauseClaim[] = [];
    const notes: string[] = [];

    switch (code) {
      case 'AuthorizationFailed':
      case 'AuthorizationFailedDueToConditions': {
        const m = /The client '([^']*)' with object id '([^']*)' does not have authorization to perform action '([^']+)' over scope '([^']*)'/.exec(message);
        const client = m?.[1];
        const objectId = m?.[2] || 'OBJECT_ID';
        const action = m?.[3] ?? 'ACTION';
        const scope = m?.[4] || 'SCOPE';
        const role = suggestRole(action);
        const gap = m ? { required: [`${action} over ${scope}`], held: [] as string[] } : undefined;
        causes.push(
          claim('insufficient-role', 0.88, `Azure Resource Manager refused: "${message.split(' If access was recently granted')[0]}" — ${client ? `${client} (${objectId})` : 'the caller'} has no role assignment granting ${action} at ${scope} or above.`, evidence, [
            { title: `See what ${client ?? 'the caller'} holds at that scope`, difficulty: 'easy', commands: [`az role assignment list --assignee ${objectId} --scope '${scope}' --include-inherited --include-groups -o table`], verify: `No listed role includes ${action}: that is the gap.` },
            { title: `Assign a role that includes ${action} (for example "${role}"), at the narrowest scope that works`, difficulty: 'medium', commands: [`az role assignment create --assignee ${objectId} --role "${role}" --scope '${scope}'`, `az role definition list --name "${role}" --query "[].permissions[].actions"`], verify: `az role assignment list --assignee ${objectId} --scope '${scope}' --include-inherited shows the new role; the portal’s "Check access" agrees.`, docs: 'https://learn.microsoft.com/en-us/azure/role-based-access-control/role-assignments-cli' },
            REFRESH,
          ], gap),
        );
        if (/recently granted/.test(message)) notes.push('If the role was just assigned, refresh the token: Azure says so in the message itself.');
        if (code === 'AuthorizationFailedDueToConditions') causes.push(claim('conditional-access', 0.4, 'A role assignment exists but its ABAC condition did not match this request.', evidence, [{ title: 'Read the conditions on the assignment', difficulty: 'medium', commands: [`az role assignment list --assignee ${objectId} --scope '${scope}' --query "[].{role:roleDefinitionName,condition:condition}"`] }]));
        break;
      }
      case 'LinkedAuthorizationFailed': {
        const m = /permission to perform action '([^']+)' on the linked scope\(s\) '([^']+)'/.exec(message) ?? /perform action '([^']+)' over scope '([^']+)'/.exec(message);
        const action = m?.[1] ?? 'ACTION';
        const scope = m?.[2] ?? 'LINKED_SCOPE';
        causes.push(claim('insufficient-role', 0.8, `Azure Resource Manager refused: "${message}" — the call touches a second (linked) resource, and the caller lacks ${action} there.`, evidence, [{ title: `Grant ${action} on the linked scope too`, difficulty: 'medium', commands: [`az role assignment list --assignee OBJECT_ID --scope '${scope}' --include-inherited -o table`, `az role assignment create --assignee OBJECT_ID --role "${suggestRole(action)}" --scope '${scope}'`] }, REFRESH], m ? { required: [`${action} over ${scope}`], held: [] } : undefined));
        break;
      }
      case 'RequestDisallowedByPolicy': {
        const assignment = /"policyAssignment":\{"name":"([^"]+)","id":"([^"]+)"/.exec(message);
        causes.push(claim('explicit-deny', 0.88, `Azure Policy denied the request: "${message.split(' Policy identifiers')[0]}"${assignment ? ` — assignment "${assignment[1]}"` : ''}. No role grants past a Deny policy.`, evidence, [
          { title: 'Read the policy assignment and definition that denied the request', difficulty: 'easy', commands: [assignment ? `az policy assignment show --ids '${assignment[2]}'` : 'az policy assignment list --disable-scope-strict-match -o table', `az policy state list --filter "complianceState eq 'NonCompliant'" --top 10 -o table`], verify: 'The definition’s if-condition matches your request (location, SKU, tags …).', docs: 'https://learn.microsoft.com/en-us/azure/azure-resource-manager/troubleshooting/error-policy-requestdisallowedbypolicy' },
          { title: 'Change the request to comply, or ask the policy owner for an exemption', difficulty: 'hard', commands: [assignment ? `az policy exemption create --name why403-exemption --policy-assignment '${assignment[2]}' --exemption-category Waiver --scope SCOPE` : 'az policy exemption create --name why403-exemption --policy-assignment ASSIGNMENT_ID --exemption-category Waiver --scope SCOPE'] },
        ]));
        break;
      }
      case 'DenyAssignmentAuthorizationFailed':
        causes.push(claim('explicit-deny', 0.88, `A deny assignment blocks the request: "${message}". Deny assignments (from managed applications, deployment stacks or Blueprints) override every role.`, evidence, [{ title: 'List the deny assignments at the scope', difficulty: 'medium', commands: ['az rest --method get --url "https://management.azure.com/SCOPE/providers/Microsoft.Authorization/denyAssignments?api-version=2022-04-01" --query "value[].{name:properties.denyAssignmentName,actions:properties.permissions[0].actions,excluded:properties.excludePrincipals}"'], verify: 'The deny assignment’s excludePrincipals or its owner (managed app, stack) is the way to get access.', docs: 'https://learn.microsoft.com/en-us/azure/role-based-access-control/deny-assignments' }]));
        break;
      case 'InvalidAuthenticationTokenTenant': {
        const m = /wrong issuer '([^']+)'\. It must match the tenant '([^']+)'/.exec(message);
        const want = m ? /sts\.windows\.net\/([^/]+)\//.exec(m[2])?.[1] : undefined;
        causes.push(claim('wrong-audience', 0.9, `The token was issued by another tenant: "${message.split('. Note,')[0]}"${want ? ` — the subscription lives in tenant ${want}` : ''}.`, evidence, [{ title: `Sign in to (or request the token from) the subscription’s tenant${want ? ` ${want}` : ''}`, difficulty: 'easy', commands: [`az login --tenant ${want ?? 'TENANT_ID'}`, `az account get-access-token --resource https://management.azure.com/ --tenant ${want ?? 'TENANT_ID'} --query tenant -o tsv`], verify: 'The token’s tid claim equals the subscription’s tenant and the request succeeds.' }], m ? { required: [`token from ${m[2]}`], held: [`token from ${m[1]}`] } : undefined));
        break;
      }
      case 'InvalidAuthenticationTokenAudience':
        causes.push(claim('wrong-audience', 0.9, `The token was issued for another resource: "${message}".`, evidence, [{ title: 'Request the token for https://management.azure.com/', difficulty: 'easy', commands: ['az account get-access-token --resource https://management.azure.com/'] }]));
        break;
      case 'ExpiredAuthenticationToken': {
        const m = /expiry UTC time '([^']+)' is earlier than current UTC time '([^']+)'/.exec(message);
        causes.push(claim('credential-expired', 0.92, `The access token has expired: "${message}".`, evidence, [{ title: 'Get a new token (az and the SDKs refresh automatically when they own the token)', difficulty: 'easy', commands: ['az account get-access-token --resource https://management.azure.com/ --query expiresOn -o tsv'], verify: 'expiresOn is in the future and the request succeeds.' }], m ? { required: [`token valid at ${m[2]}`], held: [`token expired ${m[1]}`] } : undefined));
        break;
      }
      case 'InvalidAuthenticationToken':
        if (/audience|resource/i.test(message)) causes.push(claim('wrong-audience', 0.8, `The token is not for Resource Manager: "${message}".`, evidence, [{ title: 'Request the token for https://management.azure.com/', difficulty: 'easy', commands: ['az account get-access-token --resource https://management.azure.com/'] }]));
        else causes.push(claim('credential-invalid', 0.75, `Azure Resource Manager rejected the token: "${message}".`, evidence, [{ title: 'Get a fresh token from az or the SDK instead of reusing or editing one', difficulty: 'easy', commands: ['az account get-access-token --resource https://management.azure.com/'] }]));
        break;
      case 'AuthenticationFailed':
        if (/header is missing/i.test(message)) causes.push(claim('credential-missing', 0.85, `No token reached Resource Manager: "${message}".`, evidence, [{ title: 'Send "Authorization: Bearer <token>"', difficulty: 'easy', commands: ['curl -H "Authorization: Bearer $(az account get-access-token --query accessToken -o tsv)" "https://management.azure.com/subscriptions?api-version=2022-12-01"'] }]));
        else if (/invalid format/i.test(message)) causes.push(claim('credential-malformed', 0.85, `The Authorization header is malformed: "${message}".`, evidence, [{ title: 'Send "Authorization: Bearer <token>" exactly', difficulty: 'easy' }]));
        else causes.push(claim('credential-invalid', 0.6, `Resource Manager could not authenticate the request: "${message}".`, evidence, [REFRESH]));
        break;
      default:
        return { producer };
    }
    return { producer, causes, notes };
  },
});
