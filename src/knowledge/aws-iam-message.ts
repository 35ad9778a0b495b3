// AWS's access-denied sentence, shared by every AWS service that authorises
// through IAM (S3, API Gateway's IAM auth, the JSON and query APIs):
//   User: ARN is not authorized to perform: ACTION [on resource: ARN] [CONTEXT]
// where CONTEXT names the policy type that decided — "because no TYPE allows
// the ACTION action" (implicit) or "with an explicit deny in a TYPE" — per
// https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html
// Older messages (and cross-account ones) carry no context at all.
import type { CauseId } from '../model/vocabulary.ts';
import type { Fix } from '../model/report.ts';

export type PolicyType =
  | 'identity-based policy'
  | 'resource-based policy'
  | 'service control policy'
  | 'resource control policy'
  | 'permissions boundary'
  | 'session policy'
  | 'VPC endpoint policy'
  | 'role trust policy';

export interface AccessDeniedMessage {
  principal: string;
  action: string;
  resource?: string;
  /** "explicit" = a Deny statement matched; "implicit" = nothing allowed; undefined = the message does not say. */
  decision?: 'explicit' | 'implicit';
  policyType?: PolicyType;
  /** The text after the action/resource, as AWS wrote it. */
  context?: string;
}

const SENTENCE =
  /User: (\S+) is not authorized to perform: ([\w-]+:[\w*-]+|null)(?: on resource: "?([^"\s]+?)"?)?(?= because| with|(?<!\.)[\s.]*$|\s*\(|\s*<|\s*"|\s*\n)(?: (because no [^.(\n"<]+?action|because the role trust policy allows the \S+ action|with an explicit deny[^.(\n"<]*))?/;

const TYPES: Array<[RegExp, PolicyType]> = [
  [/identity-based polic/i, 'identity-based policy'],
  [/resource-based polic/i, 'resource-based policy'],
  [/service control polic/i, 'service control policy'],
  [/resource control polic/i, 'resource control policy'],
  [/permissions? boundar/i, 'permissions boundary'],
  [/sessions? polic/i, 'session policy'],
  [/VPC endpoint polic/i, 'VPC endpoint policy'],
  [/trust polic/i, 'role trust policy'],
];

export function parseAccessDenied(text: string | undefined): AccessDeniedMessage | undefined {
  if (!text) return undefined;
  const m = SENTENCE.exec(text.replace(/(?<!\s)\s*\n\s*/g, ' '));
  if (!m) return undefined;
  const context = m[4]?.trim();
  const out: AccessDeniedMessage = { principal: m[1], action: m[2], ...(m[3] ? { resource: m[3] } : {}) };
  if (context) {
    out.context = context;
    out.decision = /explicit deny/i.test(context) ? 'explicit' : 'implicit';
    // "…in a VPC endpoint policy transitively through a service control policy": the SCP is the one to change.
    const transitive = /transitively through (a |an )?(.+)$/i.exec(context)?.[2];
    for (const [re, type] of TYPES)
      if (re.test(transitive ?? context)) {
        out.policyType = type;
        break;
      }
  } else if (/with an explicit deny/i.test(text)) {
    out.decision = 'explicit';
  }
  return out;
}

/** The causes an access-denied message can mean. */
export type AccessDeniedCause = Extract<CauseId, 'insufficient-role' | 'explicit-deny' | 'resource-policy'>;

/** What the denial means in the vocabulary, strongest first. */
export function causesFor(msg: AccessDeniedMessage): Array<{ id: AccessDeniedCause; weight: number }> {
  const { decision, policyType } = msg;
  if (policyType === 'resource-based policy' || policyType === 'role trust policy')
    return [{ id: 'resource-policy', weight: 0.85 }];
  if (policyType === 'identity-based policy')
    return decision === 'explicit'
      ? [{ id: 'explicit-deny', weight: 0.85 }]
      : [{ id: 'insufficient-role', weight: 0.85 }];
  if (policyType) {
    // Guardrails (SCP, RCP, boundary, session policy, endpoint policy) cap what
    // identity policies grant; when they decide, granting more does not help.
    return decision === 'explicit'
      ? [{ id: 'explicit-deny', weight: 0.85 }]
      : [
          { id: 'explicit-deny', weight: 0.7 },
          { id: 'insufficient-role', weight: 0.3 },
        ];
  }
  if (decision === 'explicit')
    return [
      { id: 'explicit-deny', weight: 0.8 },
      { id: 'resource-policy', weight: 0.25 },
    ];
  // No context: same-account identity policies are the usual gap; cross-account
  // requests need the resource's policy too, and AWS omits the context for them.
  return [
    { id: 'insufficient-role', weight: 0.6 },
    { id: 'resource-policy', weight: 0.35 },
    { id: 'explicit-deny', weight: 0.2 },
  ];
}

/** The IAM principal to simulate: an assumed-role session maps to its role. */
export function policySourceArn(principal: string): string {
  const assumed = /^arn:(aws[\w-]*):sts::([^:]+):assumed-role\/([^/]+)\//.exec(principal);
  if (assumed) return `arn:${assumed[1]}:iam::${assumed[2]}:role/${assumed[3]}`;
  return principal.startsWith('arn:') ? principal : 'arn:aws:iam::ACCOUNT_ID:role/ROLE_NAME';
}

function principalName(principal: string): { kind: 'role' | 'user'; name: string } | undefined {
  const arn = policySourceArn(principal);
  const m = /:(role|user)\/(?:.*\/)?([^/]+)$/.exec(arn);
  return m ? { kind: m[1] as 'role' | 'user', name: m[2] } : undefined;
}

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export function simulateCommand(principal: string, action: string, resource?: string): string {
  return `aws iam simulate-principal-policy --policy-source-arn ${policySourceArn(principal)} --action-names ${action}${resource ? ` --resource-arns ${shellQuote(resource)}` : ''} --query 'EvaluationResults[].[EvalActionName,EvalDecision,MatchedStatements[].SourcePolicyId]' --output table`;
}

/** The command that prints a resource's own policy, by service. */
function resourcePolicyCommand(resource: string | undefined): string | undefined {
  if (!resource) return undefined;
  const [, , service, region, , rest = ''] = resource.split(':');
  switch (service) {
    case 's3': {
      const bucket = rest.split('/')[0];
      return `aws s3api get-bucket-policy --bucket ${bucket} --query Policy --output text | jq .`;
    }
    case 'secretsmanager':
      return `aws secretsmanager get-resource-policy --secret-id ${shellQuote(resource)} --query ResourcePolicy --output text | jq .`;
    case 'kms':
      return `aws kms get-key-policy --key-id ${shellQuote(resource)} --policy-name default --output text | jq .`;
    case 'sqs':
      return `aws sqs get-queue-attributes --queue-url "$(aws sqs get-queue-url --queue-name ${rest} --region ${region} --query QueueUrl --output text)" --attribute-names Policy`;
    case 'sns':
      return `aws sns get-topic-attributes --topic-arn ${shellQuote(resource)} --query Attributes.Policy --output text | jq .`;
    case 'lambda':
      return `aws lambda get-policy --function-name ${shellQuote(resource)} --query Policy --output text | jq .`;
    case 'iam':
      if (rest.startsWith('role/'))
        return `aws iam get-role --role-name ${rest.split('/').pop()} --query Role.AssumeRolePolicyDocument`;
      return undefined;
    case 'execute-api':
      return `aws apigateway get-rest-api --rest-api-id ${rest.split('/')[0]} --region ${region} --query policy --output text | sed 's/\\\\//g' | jq .`;
    default:
      return undefined;
  }
}

/** Concrete fixes for a parsed message, naming the policy type that decided. */
export function fixesFor(msg: AccessDeniedMessage): Fix[] {
  const who = principalName(msg.principal);
  const simulate = simulateCommand(msg.principal, msg.action, msg.resource);
  const identity = 'aws sts get-caller-identity';
  const target = `${msg.action}${msg.resource ? ` on ${msg.resource}` : ''}`;
  const verify = `Re-run the simulation: ${msg.action} shows "allowed", then repeat the request.`;
  const listPolicies = who
    ? who.kind === 'role'
      ? [
          `aws iam list-attached-role-policies --role-name ${who.name}`,
          `aws iam list-role-policies --role-name ${who.name}`,
        ]
      : [
          `aws iam list-attached-user-policies --user-name ${who.name}`,
          `aws iam list-user-policies --user-name ${who.name}`,
          `aws iam list-groups-for-user --user-name ${who.name}`,
        ]
    : [];
  const fixes: Fix[] = [];
  switch (msg.policyType) {
    case 'service control policy':
    case 'resource control policy': {
      const filter = msg.policyType === 'service control policy' ? 'SERVICE_CONTROL_POLICY' : 'RESOURCE_CONTROL_POLICY';
      const account = /::(\d{12}):/.exec(msg.principal)?.[1] ?? 'ACCOUNT_ID';
      fixes.push({
        title: `Find the ${msg.policyType} that denies ${msg.action} (run in the organization's management account)`,
        difficulty: 'hard',
        commands: [
          `aws organizations list-policies-for-target --target-id ${account} --filter ${filter}`,
          `aws organizations list-parents --child-id ${account}  # SCPs/RCPs attached to OUs and the root apply too`,
          'aws organizations describe-policy --policy-id p-XXXXXXXX --query Policy.Content --output text | jq .',
        ],
        verify: `No statement in the ${msg.policyType}s on the account, its OUs or the root denies ${msg.action}; granting it in IAM alone will not help.`,
        docs: 'https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps.html',
      });
      break;
    }
    case 'permissions boundary':
      fixes.push({
        title: `Widen (or remove) the permissions boundary so it allows ${msg.action}`,
        difficulty: 'medium',
        commands: who
          ? [
              who.kind === 'role'
                ? `aws iam get-role --role-name ${who.name} --query Role.PermissionsBoundary`
                : `aws iam get-user --user-name ${who.name} --query User.PermissionsBoundary`,
              'aws iam get-policy-version --policy-arn BOUNDARY_POLICY_ARN --version-id v1 --query PolicyVersion.Document',
            ]
          : ['aws iam get-role --role-name ROLE_NAME --query Role.PermissionsBoundary'],
        verify: `The boundary document allows ${target}; the identity policy must allow it as well.`,
        docs: 'https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html',
      });
      break;
    case 'session policy':
      fixes.push({
        title: `Re-create the session without a session policy that excludes ${msg.action}`,
        difficulty: 'medium',
        commands: [
          identity,
          `aws sts assume-role --role-arn ${policySourceArn(msg.principal)} --role-session-name why403  # without --policy / --policy-arns, or with ones that allow ${msg.action}`,
        ],
        verify: 'A session created without the restrictive session policy can perform the action.',
        docs: 'https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies.html#policies_session',
      });
      break;
    case 'VPC endpoint policy':
      fixes.push({
        title: `Allow ${msg.action} in the VPC endpoint policy the request went through`,
        difficulty: 'medium',
        commands: [
          `aws ec2 describe-vpc-endpoints --filters Name=service-name,Values=com.amazonaws.REGION.${msg.action.split(':')[0].toLowerCase()} --query 'VpcEndpoints[].[VpcEndpointId,PolicyDocument]'`,
        ],
        verify:
          'The endpoint policy allows the action for this principal and resource (or the request no longer goes through that endpoint).',
        docs: 'https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-endpoints-access.html',
      });
      break;
    case 'resource-based policy':
    case 'role trust policy': {
      const cmd = resourcePolicyCommand(msg.resource);
      fixes.push({
        title:
          msg.decision === 'explicit'
            ? `Remove or narrow the Deny statement for ${msg.action} in the ${msg.policyType} of ${msg.resource ?? 'the resource'}`
            : `Add an Allow statement for ${msg.principal} and ${msg.action} to the ${msg.policyType} of ${msg.resource ?? 'the resource'}`,
        difficulty: 'medium',
        commands: cmd ? [cmd] : [],
        verify: `The ${msg.policyType} names ${msg.principal} (or its account) with ${msg.action} and no Deny statement matches.`,
        docs: 'https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_identity-vs-resource.html',
      });
      break;
    }
    case 'identity-based policy':
    default:
      if (msg.decision === 'explicit') {
        fixes.push({
          title: `Find the Deny statement for ${msg.action} in the ${msg.policyType ?? 'policies'} attached to ${who?.name ?? msg.principal}`,
          difficulty: 'medium',
          commands: [simulate, ...listPolicies],
          verify:
            'The simulation names the denying statement under MatchedStatements; after narrowing it, the decision is "allowed".',
          docs: 'https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html',
        });
      } else {
        fixes.push({
          title: `Grant ${target} to ${who?.name ?? msg.principal}`,
          difficulty: 'medium',
          commands: [
            simulate,
            ...(who?.kind === 'role'
              ? [
                  `aws iam put-role-policy --role-name ${who.name} --policy-name allow-${msg.action.replace(/[^\w]/g, '-')} --policy-document '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"${msg.action}","Resource":"${msg.resource ?? '*'}"}]}'`,
                ]
              : who?.kind === 'user'
                ? [
                    `aws iam put-user-policy --user-name ${who.name} --policy-name allow-${msg.action.replace(/[^\w]/g, '-')} --policy-document '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"${msg.action}","Resource":"${msg.resource ?? '*'}"}]}'`,
                  ]
                : []),
          ],
          verify,
          docs: 'https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_testing-policies.html',
        });
      }
  }
  fixes.push({
    title: 'Confirm which identity actually signed the request',
    difficulty: 'easy',
    commands: [identity],
    verify: `The Arn printed is ${msg.principal} (or the role behind that session).`,
  });
  return fixes;
}

/** One-line description of where the denial came from, in AWS's words. */
export function describe(msg: AccessDeniedMessage): string {
  const target = `${msg.action}${msg.resource ? ` on ${msg.resource}` : ''}`;
  if (msg.policyType && msg.decision === 'explicit')
    return `an explicit Deny in a ${msg.policyType} blocks ${target} for ${msg.principal}`;
  if (msg.policyType) return `no ${msg.policyType} allows ${target} for ${msg.principal}`;
  if (msg.decision === 'explicit')
    return `an explicit Deny (policy type not named) blocks ${target} for ${msg.principal}`;
  return `${msg.principal} is not allowed ${target}; AWS did not say which policy type decided`;
}
