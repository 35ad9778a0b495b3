// Azure Resource Manager (management.azure.com) authorises every control-plane
// call with Azure RBAC, Azure Policy and deny assignments, and answers with
// {"error":{"code":…,"message":…}} plus x-ms-failure-cause and the
// x-ms-correlation-request-id / x-ms-routing-request-id pair. AuthorizationFailed
// names the client, the action and the scope — the exact missing grant.
import { defineProducer, ev, type Evidence } from '../define.ts';
import { jsonError } from '../_lib/envelopes.ts';
import texts from './texts.json' with { type: 'json' };

const ARM_CODES =
  /^(AuthorizationFailed|LinkedAuthorizationFailed|RequestDisallowedByPolicy|DenyAssignmentAuthorizationFailed|InvalidAuthenticationToken|InvalidAuthenticationTokenTenant|InvalidAuthenticationTokenAudience|ExpiredAuthenticationToken|AuthenticationFailed|AuthorizationFailedDueToConditions)$/;
const ARM_HOST = /^management\.(azure\.com|chinacloudapi\.cn|usgovcloudapi\.net)$/;
const AUTHORIZATION_FAILED =
  /The client '([^']*)' with object id '([^']*)' does not have authorization to perform action '([^']+)' over scope '([^']*)'/;

/** A built-in role likely to hold the action — a starting point, not a guarantee. */
function suggestRole(action: string): string {
  if (/\/read$/i.test(action)) return 'Reader';
  if (/^Microsoft\.Authorization\//i.test(action)) return 'User Access Administrator';
  return 'Contributor';
}

export default defineProducer({
  meta: {
    id: 'azure-resource-manager',
    product: 'azure-resource-manager',
    layer: 'cloud-iam',
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
    ...texts,
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
    // Most codes are read from ARM's message alone, which the claim quotes, with one fix.
    type Claimed = Parameters<typeof report.claim>;
    const quote = (cause: Claimed[0], id: Claimed[1], weight: number, fix: keyof typeof texts.fixes) =>
      report.claim(cause, id, weight, { data: { message }, evidence, fixes: [fix] });
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
            caller: client ?? 'the caller',
            objectId,
            role: suggestRole(action),
          },
          evidence,
          fixes: ['holdsAtScope', 'assignRole', 'refresh'],
          ...(m ? { gap: { required: [`${action} over ${scope}`], held: [] } } : {}),
        });
        if (/recently granted/.test(message))
          report.note('If the role was just assigned, refresh the token: Azure says so in the message itself.');
        if (code === 'AuthorizationFailedDueToConditions')
          report.claim('conditional-access', 'conditions', 0.4, {
            data: { objectId, scope },
            evidence,
            fixes: ['conditions'],
          });
        return;
      }
      case 'LinkedAuthorizationFailed': {
        const m =
          /permission to perform action '([^']+)' on the linked scope\(s\) '([^']+)'/.exec(message) ??
          /perform action '([^']+)' over scope '([^']+)'/.exec(message);
        const action = m?.[1] ?? 'ACTION';
        const scope = m?.[2] ?? 'LINKED_SCOPE';
        report.claim('insufficient-role', 'linkedScope', 0.8, {
          data: { message, action, linkedScope: scope, role: suggestRole(action) },
          evidence,
          fixes: ['grantLinked', 'refresh'],
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
            showAssignment: assignment
              ? `az policy assignment show --ids '${assignment[2]}'`
              : 'az policy assignment list --disable-scope-strict-match -o table',
            assignmentArg: assignment ? `'${assignment[2]}'` : 'ASSIGNMENT_ID',
          },
          evidence,
          fixes: ['readPolicy', 'exemption'],
        });
        return;
      }
      case 'DenyAssignmentAuthorizationFailed':
        quote('explicit-deny', 'denyAssignment', 0.88, 'denyAssignments');
        return;
      case 'InvalidAuthenticationTokenTenant': {
        const m = /wrong issuer '([^']+)'\. It must match the tenant '([^']+)'/.exec(message);
        const want = m ? /sts\.windows\.net\/([^/]+)\//.exec(m[2])?.[1] : undefined;
        report.claim('wrong-audience', 'wrongTenant', 0.9, {
          data: {
            message: message.split('. Note,')[0],
            tenant: want ? ` — the subscription lives in tenant ${want}` : '',
            tenantName: want ? ` ${want}` : '',
            tenantId: want ?? 'TENANT_ID',
          },
          evidence,
          fixes: ['signInTenant'],
          ...(m ? { gap: { required: [`token from ${m[2]}`], held: [`token from ${m[1]}`] } } : {}),
        });
        return;
      }
      case 'InvalidAuthenticationTokenAudience':
        quote('wrong-audience', 'wrongAudience', 0.9, 'armAudience');
        return;
      case 'ExpiredAuthenticationToken': {
        const m = /expiry UTC time '([^']+)' is earlier than current UTC time '([^']+)'/.exec(message);
        report.claim('credential-expired', 'expired', 0.92, {
          data: { message },
          evidence,
          fixes: ['newToken'],
          ...(m ? { gap: { required: [`token valid at ${m[2]}`], held: [`token expired ${m[1]}`] } } : {}),
        });
        return;
      }
      case 'InvalidAuthenticationToken':
        if (/audience|resource/i.test(message)) quote('wrong-audience', 'notForArm', 0.8, 'armAudience');
        else quote('credential-invalid', 'tokenRejected', 0.75, 'freshToken');
        return;
      case 'AuthenticationFailed':
        if (/header is missing/i.test(message)) quote('credential-missing', 'missing', 0.85, 'sendBearer');
        else if (/invalid format/i.test(message)) quote('credential-malformed', 'malformed', 0.85, 'bearerExactly');
        else quote('credential-invalid', 'notAuthenticated', 0.6, 'refresh');
    }
  },
});
