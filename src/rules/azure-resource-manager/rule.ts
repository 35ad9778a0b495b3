// Azure Resource Manager (management.azure.com) authorises every control-plane
// call with Azure RBAC, Azure Policy and deny assignments, and answers with
// {"error":{"code":…,"message":…}} plus x-ms-failure-cause and the
// x-ms-correlation-request-id / x-ms-routing-request-id pair. AuthorizationFailed
// names the client, the action and the scope — the exact missing grant.
import { defineProducer, ev, type Evidence, type Fix } from '../define.ts';
import { jsonError } from '../_lib/envelopes.ts';

const ARM_CODES =
  /^(AuthorizationFailed|LinkedAuthorizationFailed|RequestDisallowedByPolicy|DenyAssignmentAuthorizationFailed|InvalidAuthenticationToken|InvalidAuthenticationTokenTenant|InvalidAuthenticationTokenAudience|ExpiredAuthenticationToken|AuthenticationFailed|AuthorizationFailedDueToConditions)$/;
const ARM_HOST = /^management\.(azure\.com|chinacloudapi\.cn|usgovcloudapi\.net)$/;
const AUTHORIZATION_FAILED =
  /The client '([^']*)' with object id '([^']*)' does not have authorization to perform action '([^']+)' over scope '([^']*)'/;
const ARM_TOKEN = 'az account get-access-token --resource https://management.azure.com/';

/** A built-in role likely to hold the action — a starting point, not a guarantee. */
function suggestRole(action: string): string {
  if (/\/read$/i.test(action)) return 'Reader';
  if (/^Microsoft\.Authorization\//i.test(action)) return 'User Access Administrator';
  return 'Contributor';
}

const REFRESH: Fix = {
  title: 'Get a fresh token after a role change (tokens cache group and role claims)',
  difficulty: 'easy',
  commands: [
    `${ARM_TOKEN} --query expiresOn -o tsv`,
    'az logout && az login  # if the cached token predates the assignment',
  ],
  verify: 'The retried call succeeds; role assignments can take up to ~10 minutes to apply.',
};

const ARM_AUDIENCE_FIX: Fix = { title: 'Request the token for https://management.azure.com/', difficulty: 'easy', commands: [ARM_TOKEN] };

function assignmentFixes(client: string | undefined, objectId: string, action: string, scope: string): Fix[] {
  const role = suggestRole(action);
  return [
    {
      title: `See what ${client ?? 'the caller'} holds at that scope`,
      difficulty: 'easy',
      commands: [
        `az role assignment list --assignee ${objectId} --scope '${scope}' --include-inherited --include-groups -o table`,
      ],
      verify: `No listed role includes ${action}: that is the gap.`,
    },
    {
      title: `Assign a role that includes ${action} (for example "${role}"), at the narrowest scope that works`,
      difficulty: 'medium',
      commands: [
        `az role assignment create --assignee ${objectId} --role "${role}" --scope '${scope}'`,
        `az role definition list --name "${role}" --query "[].permissions[].actions"`,
      ],
      verify: `az role assignment list --assignee ${objectId} --scope '${scope}' --include-inherited shows the new role; the portal’s "Check access" agrees.`,
      docs: 'https://learn.microsoft.com/en-us/azure/role-based-access-control/role-assignments-cli',
    },
    REFRESH,
  ];
}

function conditionFix(objectId: string, scope: string): Fix {
  return {
    title: 'Read the conditions on the assignment',
    difficulty: 'medium',
    commands: [
      `az role assignment list --assignee ${objectId} --scope '${scope}' --query "[].{role:roleDefinitionName,condition:condition}"`,
    ],
  };
}

function linkedScopeFixes(action: string, scope: string): Fix[] {
  return [
    {
      title: `Grant ${action} on the linked scope too`,
      difficulty: 'medium',
      commands: [
        `az role assignment list --assignee OBJECT_ID --scope '${scope}' --include-inherited -o table`,
        `az role assignment create --assignee OBJECT_ID --role "${suggestRole(action)}" --scope '${scope}'`,
      ],
    },
    REFRESH,
  ];
}

function policyFixes(assignmentId: string | undefined): Fix[] {
  return [
    {
      title: 'Read the policy assignment and definition that denied the request',
      difficulty: 'easy',
      commands: [
        assignmentId
          ? `az policy assignment show --ids '${assignmentId}'`
          : 'az policy assignment list --disable-scope-strict-match -o table',
        `az policy state list --filter "complianceState eq 'NonCompliant'" --top 10 -o table`,
      ],
      verify: 'The definition’s if-condition matches your request (location, SKU, tags …).',
      docs: 'https://learn.microsoft.com/en-us/azure/azure-resource-manager/troubleshooting/error-policy-requestdisallowedbypolicy',
    },
    {
      title: 'Change the request to comply, or ask the policy owner for an exemption',
      difficulty: 'hard',
      commands: [
        `az policy exemption create --name why403-exemption --policy-assignment ${assignmentId ? `'${assignmentId}'` : 'ASSIGNMENT_ID'} --exemption-category Waiver --scope SCOPE`,
      ],
    },
  ];
}

const DENY_ASSIGNMENTS_URL =
  'https://management.azure.com/SCOPE/providers/Microsoft.Authorization/denyAssignments?api-version=2022-04-01';
const DENY_ASSIGNMENT_FIX: Fix = {
  title: 'List the deny assignments at the scope',
  difficulty: 'medium',
  commands: [
    `az rest --method get --url "${DENY_ASSIGNMENTS_URL}" --query "value[].{name:properties.denyAssignmentName,actions:properties.permissions[0].actions,excluded:properties.excludePrincipals}"`,
  ],
  verify: 'The deny assignment’s excludePrincipals or its owner (managed app, stack) is the way to get access.',
  docs: 'https://learn.microsoft.com/en-us/azure/role-based-access-control/deny-assignments',
};

function tenantFix(tenant: string | undefined): Fix {
  const t = tenant ?? 'TENANT_ID';
  return {
    title: `Sign in to (or request the token from) the subscription’s tenant${tenant ? ` ${tenant}` : ''}`,
    difficulty: 'easy',
    commands: [`az login --tenant ${t}`, `${ARM_TOKEN} --tenant ${t} --query tenant -o tsv`],
    verify: 'The token’s tid claim equals the subscription’s tenant and the request succeeds.',
  };
}

const NEW_TOKEN_FIX: Fix = { title: 'Get a new token (az and the SDKs refresh automatically when they own the token)', difficulty: 'easy', commands: [`${ARM_TOKEN} --query expiresOn -o tsv`], verify: 'expiresOn is in the future and the request succeeds.' };
const FRESH_TOKEN_FIX: Fix = { title: 'Get a fresh token from az or the SDK instead of reusing or editing one', difficulty: 'easy', commands: [ARM_TOKEN] };
const SEND_BEARER_FIX: Fix = {
  title: 'Send "Authorization: Bearer <token>"',
  difficulty: 'easy',
  commands: [
    'curl -H "Authorization: Bearer $(az account get-access-token --query accessToken -o tsv)" "https://management.azure.com/subscriptions?api-version=2022-12-01"',
  ],
};

export default defineProducer({
  meta: {
    id: 'azure-resource-manager',
    product: 'azure-resource-manager',
    layer: 'cloud-iam',
    description:
      'Azure Resource Manager refusals: RBAC AuthorizationFailed (action over scope), linked-scope failures, Azure Policy denials, deny assignments, and token errors (expired, wrong tenant, wrong audience).',
    docs: [
      'https://learn.microsoft.com/en-us/azure/role-based-access-control/troubleshooting',
      'https://learn.microsoft.com/en-us/azure/azure-resource-manager/troubleshooting/error-policy-requestdisallowedbypolicy',
      'https://learn.microsoft.com/en-us/azure/role-based-access-control/deny-assignments',
      'https://learn.microsoft.com/en-us/rest/api/azure/#create-the-request',
    ],
    causes: [
      'insufficient-role',
      'explicit-deny',
      'credential-expired',
      'credential-invalid',
      'credential-missing',
      'credential-malformed',
      'wrong-audience',
      'conditional-access',
    ],
    statuses: [401, 403],
    messages: {
      authorizationFailed:
        'Azure Resource Manager refused: "{{message}}" — {{who}} has no role assignment granting {{action}} at {{scope}} or above.',
      conditions: 'A role assignment exists but its ABAC condition did not match this request.',
      linkedScope:
        'Azure Resource Manager refused: "{{message}}" — the call touches a second (linked) resource, and the caller lacks {{action}} there.',
      policy: 'Azure Policy denied the request: "{{message}}"{{assignment}}. No role grants past a Deny policy.',
      denyAssignment:
        'A deny assignment blocks the request: "{{message}}". Deny assignments (from managed applications, deployment stacks or Blueprints) override every role.',
      wrongTenant: 'The token was issued by another tenant: "{{message}}"{{tenant}}.',
      wrongAudience: 'The token was issued for another resource: "{{message}}".',
      expired: 'The access token has expired: "{{message}}".',
      notForArm: 'The token is not for Resource Manager: "{{message}}".',
      tokenRejected: 'Azure Resource Manager rejected the token: "{{message}}".',
      missing: 'No token reached Resource Manager: "{{message}}".',
      malformed: 'The Authorization header is malformed: "{{message}}".',
      notAuthenticated: 'Resource Manager could not authenticate the request: "{{message}}".',
    },
  },
  recognise(ctx) {
    const evidence: Evidence[] = [];
    const cause = ctx.header('x-ms-failure-cause');
    const corr = ctx.header('x-ms-correlation-request-id');
    const routing = ctx.header('x-ms-routing-request-id');
    const host = ctx.url?.hostname ?? '';
    const armHost = ARM_HOST.test(host);
    const { code, message } = jsonError(ctx, ['error.code'], ['error.message']) ?? {};
    if (cause) evidence.push(ev('header:x-ms-failure-cause', cause));
    if (corr) evidence.push(ev('header:x-ms-correlation-request-id', corr));
    if (routing) evidence.push(ev('header:x-ms-routing-request-id', routing));
    if (armHost) evidence.push(ev('request:url', `Resource Manager endpoint ${host}`));
    const known = Boolean(code && ARM_CODES.test(code));
    if (known) evidence.push(ev('body:error.code', code!));
    // The AuthorizationFailed sentence is ARM's own; Graph and data planes word theirs differently.
    const m = message ?? '';
    const armSentence =
      /does not have authorization to perform action '[^']+' over scope '[^']*'/.test(m) ||
      /associated with this subscription/.test(m) ||
      /was disallowed by policy/.test(m);
    let confidence = 0;
    if (known && (cause || routing || armHost)) confidence = 0.97;
    else if (known && armSentence) confidence = 0.9;
    else if (known && corr) confidence = 0.85;
    else if (armHost) confidence = 0.55;
    return { confidence, evidence, code, message: m };
  },
  explain(_ctx, { code, message }, report) {
    if (!code) return;
    const evidence = [ev('body:error.code', code), ev('body:error.message', message)];
    switch (code) {
      case 'AuthorizationFailed':
      case 'AuthorizationFailedDueToConditions': {
        const m = AUTHORIZATION_FAILED.exec(message);
        const client = m?.[1];
        const objectId = m?.[2] || 'OBJECT_ID';
        const action = m?.[3] ?? 'ACTION';
        const scope = m?.[4] || 'SCOPE';
        report.claim('insufficient-role', 'authorizationFailed', 0.88, {
          data: {
            message: message.split(' If access was recently granted')[0],
            who: client ? `${client} (${objectId})` : 'the caller',
            action,
            scope,
          },
          evidence,
          fixes: assignmentFixes(client, objectId, action, scope),
          ...(m ? { gap: { required: [`${action} over ${scope}`], held: [] } } : {}),
        });
        if (/recently granted/.test(message))
          report.note('If the role was just assigned, refresh the token: Azure says so in the message itself.');
        if (code === 'AuthorizationFailedDueToConditions')
          report.claim('conditional-access', 'conditions', 0.4, { evidence, fixes: [conditionFix(objectId, scope)] });
        return;
      }
      case 'LinkedAuthorizationFailed': {
        const m =
          /permission to perform action '([^']+)' on the linked scope\(s\) '([^']+)'/.exec(message) ??
          /perform action '([^']+)' over scope '([^']+)'/.exec(message);
        const action = m?.[1] ?? 'ACTION';
        const scope = m?.[2] ?? 'LINKED_SCOPE';
        report.claim('insufficient-role', 'linkedScope', 0.8, {
          data: { message, action },
          evidence,
          fixes: linkedScopeFixes(action, scope),
          ...(m ? { gap: { required: [`${action} over ${scope}`], held: [] } } : {}),
        });
        return;
      }
      case 'RequestDisallowedByPolicy': {
        const assignment = /"policyAssignment":\{"name":"([^"]+)","id":"([^"]+)"/.exec(message);
        report.claim('explicit-deny', 'policy', 0.88, {
          data: {
            message: message.split(' Policy identifiers')[0],
            assignment: assignment ? ` — assignment "${assignment[1]}"` : '',
          },
          evidence,
          fixes: policyFixes(assignment?.[2]),
        });
        return;
      }
      case 'DenyAssignmentAuthorizationFailed':
        report.claim('explicit-deny', 'denyAssignment', 0.88, {
          data: { message },
          evidence,
          fixes: [DENY_ASSIGNMENT_FIX],
        });
        return;
      case 'InvalidAuthenticationTokenTenant': {
        const m = /wrong issuer '([^']+)'\. It must match the tenant '([^']+)'/.exec(message);
        const want = m ? /sts\.windows\.net\/([^/]+)\//.exec(m[2])?.[1] : undefined;
        report.claim('wrong-audience', 'wrongTenant', 0.9, {
          data: {
            message: message.split('. Note,')[0],
            tenant: want ? ` — the subscription lives in tenant ${want}` : '',
          },
          evidence,
          fixes: [tenantFix(want)],
          ...(m ? { gap: { required: [`token from ${m[2]}`], held: [`token from ${m[1]}`] } } : {}),
        });
        return;
      }
      case 'InvalidAuthenticationTokenAudience':
        report.claim('wrong-audience', 'wrongAudience', 0.9, {
          data: { message },
          evidence,
          fixes: [ARM_AUDIENCE_FIX],
        });
        return;
      case 'ExpiredAuthenticationToken': {
        const m = /expiry UTC time '([^']+)' is earlier than current UTC time '([^']+)'/.exec(message);
        report.claim('credential-expired', 'expired', 0.92, {
          data: { message },
          evidence,
          fixes: [NEW_TOKEN_FIX],
          ...(m ? { gap: { required: [`token valid at ${m[2]}`], held: [`token expired ${m[1]}`] } } : {}),
        });
        return;
      }
      case 'InvalidAuthenticationToken':
        if (/audience|resource/i.test(message))
          report.claim('wrong-audience', 'notForArm', 0.8, { data: { message }, evidence, fixes: [ARM_AUDIENCE_FIX] });
        else
          report.claim('credential-invalid', 'tokenRejected', 0.75, {
            data: { message },
            evidence,
            fixes: [FRESH_TOKEN_FIX],
          });
        return;
      case 'AuthenticationFailed':
        if (/header is missing/i.test(message))
          report.claim('credential-missing', 'missing', 0.85, {
            data: { message },
            evidence,
            fixes: [SEND_BEARER_FIX],
          });
        else if (/invalid format/i.test(message))
          report.claim('credential-malformed', 'malformed', 0.85, {
            data: { message },
            evidence,
            fixes: [{ title: 'Send "Authorization: Bearer <token>" exactly', difficulty: 'easy' }],
          });
        else
          report.claim('credential-invalid', 'notAuthenticated', 0.6, {
            data: { message },
            evidence,
            fixes: [REFRESH],
          });
    }
  },
});
