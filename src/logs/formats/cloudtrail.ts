// AWS CloudTrail: one event record per line (the reader splits a delivered
// {"Records":[…]} file into its records),
//   {"eventVersion":"1.04","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::123456789012:user/Alice",…},"eventTime":"2016-07-14T19:15:45Z","eventSource":"cloudtrail.amazonaws.com","eventName":"UpdateTrail",…,"errorCode":"TrailNotFoundException","errorMessage":"Unknown trail: myTrail2 for the user: 123456789012",…}
// A record is an API call, not an HTTP answer: one without an errorCode was
// allowed (200 here), an AccessDenied or UnauthorizedOperation was refused
// (403), and its message says which kind of policy refused it — "with an
// explicit deny in a service control policy", "because no identity-based
// policy allows the … action". A failed console sign-in is a 401.
// method is the API action (eventName), path the service (eventSource).
// https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html
// https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html
// https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-aws-console-sign-in-events.html
import type { CauseId } from '../../model/vocabulary.ts';
import type { AccessRecord, LogFormat, LogReason } from '../../model/logs.ts';
import { jsonObjectOf } from './_json.ts';
import type { Fix } from '../../model/report.ts';

interface TrailEvent {
  eventTime?: unknown;
  eventSource?: unknown;
  eventName?: unknown;
  sourceIPAddress?: unknown;
  userIdentity?: { arn?: unknown; userName?: unknown; type?: unknown };
  errorCode?: unknown;
  errorMessage?: unknown;
  responseElements?: unknown;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);

/** errorCodes that mean the call was refused for want of permission. */
const DENIED = /AccessDenied|^(?:Client\.)?UnauthorizedOperation$/;

/** The action as IAM names it: s3.amazonaws.com + ListObjects → s3:ListObjects. */
const actionOf = (source: string, name: string) => `${source.replace(/\.amazonaws\.com$/, '')}:${name}`;

const simulate: Fix = {
  title: 'Find the statement that refuses ACTION to {{user}} (IAM policy simulator)',
  difficulty: 'medium',
  commands: ['aws iam simulate-principal-policy --policy-source-arn {{user}} --action-names ACTION'],
  verify: 'The simulator answers "allowed" for the action.',
  docs: 'https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html',
};

interface PolicyKind {
  re: RegExp;
  code: string;
  causes: CauseId[];
  words: string;
  fix?: Fix;
}

// The documented wording, explicit denies first: "with an explicit deny in a <type> policy",
// "because no <type> policy allows the <action> action". Newer messages name the policy's ARN after its type.
const KINDS: PolicyKind[] = [
  {
    // "… in a VPC endpoint policy transitively through a service control policy": the SCP is the one to read.
    re: /with an explicit deny in a service control policy|transitively through a service control policy/i,
    code: 'explicit-deny-scp',
    causes: ['explicit-deny'],
    words: 'with an explicit deny in a service control policy',
    fix: {
      title: 'Find the service control policy of the organization that denies ACTION',
      difficulty: 'hard',
      commands: ['aws organizations list-policies-for-target --target-id ACCOUNT_ID --filter SERVICE_CONTROL_POLICY'],
      verify: 'No SCP on the account or its OUs denies the action.',
      docs: 'https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html',
    },
  },
  {
    re: /with an explicit deny in (?:a|the) (?:resource-based|role trust) policy/i,
    code: 'explicit-deny-resource-policy',
    causes: ['explicit-deny', 'resource-policy'],
    words: 'with an explicit deny in a resource-based policy',
  },
  {
    re: /with an explicit deny in (?:an |a |the )?(?:identity-based policy|permissions boundary|sessions? policy|VPC endpoint policy)/i,
    code: 'explicit-deny',
    causes: ['explicit-deny'],
    words:
      'with an explicit deny in an identity-based policy (or a permissions boundary, session or VPC endpoint policy)',
  },
  {
    re: /because no (?:resource-based|role trust) policy|because the role trust policy/i,
    code: 'implicit-deny-resource-policy',
    causes: ['resource-policy'],
    words: 'because no resource-based policy allows the … action',
  },
  {
    re: /because no identity-based policy/i,
    code: 'implicit-deny-identity-policy',
    causes: ['insufficient-role'],
    words: 'because no identity-based policy allows the … action',
  },
  {
    // A permissions boundary, a session policy or a VPC endpoint policy caps what the identity's allows grant.
    re: /because no (?:permissions boundary|session policy|VPC endpoint policy|service control policy)/i,
    code: 'implicit-deny-limiting-policy',
    causes: ['explicit-deny', 'insufficient-role'],
    words: 'because no permissions boundary (or session, VPC endpoint or service control policy) allows the … action',
  },
];

/** Why a refused call was refused, from its errorCode and errorMessage. */
export function deniedReason(errorCode: string, message: string | undefined): LogReason {
  const kind = message ? KINDS.find((k) => k.re.test(message)) : undefined;
  if (kind)
    return { causes: kind.causes, product: 'aws-iam', code: kind.code, words: kind.words, fix: kind.fix ?? simulate };
  // A message that names no policy ("Access Denied", S3's) can be any of them.
  return {
    causes: ['insufficient-role', 'explicit-deny', 'resource-policy'],
    product: 'aws-iam',
    code: errorCode,
    words: message && message.length <= 120 ? message : errorCode,
    fix: simulate,
  };
}

function eventOf(line: string): TrailEvent | undefined {
  const ev = jsonObjectOf(line, ['"eventSource"', '"eventName"']) as TrailEvent | undefined;
  return ev && str(ev.eventSource) && str(ev.eventName) && str(ev.eventTime) ? ev : undefined;
}

function recordOf(e: TrailEvent): AccessRecord {
  const source = e.eventSource as string;
  const name = e.eventName as string;
  const errorCode = str(e.errorCode);
  const message = str(e.errorMessage);
  const time = new Date(e.eventTime as string);
  const principal = str(e.userIdentity?.arn) ?? str(e.userIdentity?.userName);
  // sourceIPAddress is a service's name ("s3.amazonaws.com") when a service made the call.
  const client = str(e.sourceIPAddress);
  let status = 200;
  let reason: LogReason | undefined;
  const loginFailed =
    name === 'ConsoleLogin' &&
    typeof e.responseElements === 'object' &&
    (e.responseElements as Record<string, unknown> | null)?.ConsoleLogin === 'Failure';
  if (errorCode && DENIED.test(errorCode)) {
    status = 403;
    const r = deniedReason(errorCode, message);
    const action = actionOf(source, name);
    reason = r.fix
      ? {
          ...r,
          fix: {
            ...r.fix,
            title: r.fix.title.replace('ACTION', action),
            ...(r.fix.commands ? { commands: r.fix.commands.map((c) => c.replace('ACTION', action)) } : {}),
          },
        }
      : r;
  } else if (loginFailed) {
    status = 401;
    reason = {
      causes: ['credential-invalid'],
      product: 'aws-iam',
      code: 'ConsoleLogin-Failure',
      words: message ?? 'ConsoleLogin: Failure',
      fix: {
        title: 'Check the user name, password and MFA code the user signs in with',
        difficulty: 'easy',
        commands: ['aws iam get-login-profile --user-name USER'],
        verify: 'The next ConsoleLogin event answers Success.',
        docs: 'https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-aws-console-sign-in-events.html',
      },
    };
  } else if (errorCode) {
    // A call that failed for another reason (a missing resource, a throttle): a failed request, not a refusal.
    status = 400;
  }
  return {
    kind: 'access',
    ...(Number.isNaN(time.getTime()) ? {} : { time }),
    ...(client ? { client } : {}),
    ...(principal ? { principal } : {}),
    method: name,
    path: source,
    status,
    ...(reason ? { reason } : {}),
  };
}

export default {
  id: 'cloudtrail',
  product: 'AWS CloudTrail',
  kind: 'access',
  description: 'AWS CloudTrail event records, one per line',
  docs: [
    'https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html',
    'https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html',
  ],
  parse(line) {
    const e = eventOf(line);
    return e && recordOf(e);
  },
} satisfies LogFormat;
