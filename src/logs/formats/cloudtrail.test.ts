// CloudTrail on the records of the AWS documentation (URLs beside them),
// each made one line as the reader makes a {"Records":[…]} file, and on the
// access-denied messages of the IAM documentation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import cloudtrail, { deniedReason } from './cloudtrail.ts';
import { LOG_FORMATS } from '../formats.generated.ts';

/** A documented record, as one line. */
const line = (record: string) => JSON.stringify(JSON.parse(record));

// https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-log-file-examples.html#error-code-and-error-message
const UPDATE_TRAIL = line(`{
    "eventVersion": "1.04",
    "userIdentity": {
        "type": "IAMUser",
        "principalId": "EX_PRINCIPAL_ID",
        "arn": "arn:aws:iam::123456789012:user/Alice",
        "accountId": "123456789012",
        "accessKeyId": "EXAMPLE_KEY_ID",
        "userName": "Alice"
    },
    "eventTime": "2016-07-14T19:15:45Z",
    "eventSource": "cloudtrail.amazonaws.com",
    "eventName": "UpdateTrail",
    "awsRegion": "us-east-2",
    "sourceIPAddress": "205.251.233.182",
    "userAgent": "aws-cli/1.10.32 Python/2.7.9 Windows/7 botocore/1.4.22",
    "errorCode": "TrailNotFoundException",
    "errorMessage": "Unknown trail: myTrail2 for the user: 123456789012",
    "requestParameters": {"name": "myTrail2"},
    "responseElements": null,
    "requestID": "5d40662a-49f7-11e6-97e4-d9cb6ff7d6a3",
    "eventID": "b7d4398e-b2f0-4faa-9c76-e2d316a8d67f",
    "eventType": "AwsApiCall",
    "recipientAccountId": "123456789012"
}`);

// https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-log-file-examples.html#cloudtrail-log-file-examples-ec2
const START_INSTANCES = line(`{
    "eventVersion": "1.0",
    "userIdentity": {
        "type": "IAMUser",
        "principalId": "EX_PRINCIPAL_ID",
        "arn": "arn:aws:iam::123456789012:user/Alice",
        "accessKeyId": "EXAMPLE_KEY_ID",
        "accountId": "123456789012",
        "userName": "Alice"
    },
    "eventTime": "2014-03-06T21:22:54Z",
    "eventSource": "ec2.amazonaws.com",
    "eventName": "StartInstances",
    "awsRegion": "us-east-2",
    "sourceIPAddress": "205.251.233.176",
    "userAgent": "ec2-api-tools 1.6.12.2",
    "requestParameters": {"instancesSet": {"items": [{"instanceId": "i-ebeaf9e2"}]}},
    "responseElements": {"instancesSet": {"items": [{
        "instanceId": "i-ebeaf9e2",
        "currentState": {
            "code": 0,
            "name": "pending"
        },
        "previousState": {
            "code": 80,
            "name": "stopped"
        }
    }]}}
}`);

// https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-aws-console-sign-in-events.html
// ("an IAM user's unsuccessful sign-in attempt")
const CONSOLE_LOGIN_FAILED = line(`{
    "eventVersion": "1.05",
    "userIdentity": {
        "type": "IAMUser",
        "principalId": "AIDACKCEVSQ6C2EXAMPLE",
        "accountId": "111122223333",
        "accessKeyId": "",
        "userName": "anaya"
    },
    "eventTime": "2018-07-24T18:32:11Z",
    "eventSource": "signin.amazonaws.com",
    "eventName": "ConsoleLogin",
    "awsRegion": "us-east-1",
    "sourceIPAddress": "192.0.2.0",
    "userAgent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_11_6) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/67.0.3396.99 Safari/537.36",
    "errorMessage": "Failed authentication",
    "requestParameters": null,
    "responseElements": {
        "ConsoleLogin": "Failure"
    },
    "additionalEventData": {
        "LoginTo": "https://console.aws.amazon.com/console/home?state=hashArgs%23&isauthcode=true",
        "MobileVersion": "No",
        "MFAUsed": "Yes"
    },
    "eventID": "d38ce1b3-4575-4cb8-a632-611b8243bfc3",
    "eventType": "AwsConsoleSignIn",
    "recipientAccountId": "111122223333"
}`);

test('cloudtrail: an allowed call is a 200: method the action, path the service, principal the ARN', () => {
  assert.deepEqual(cloudtrail.parse(START_INSTANCES), {
    kind: 'access',
    time: new Date('2014-03-06T21:22:54Z'),
    client: '205.251.233.176',
    principal: 'arn:aws:iam::123456789012:user/Alice',
    method: 'StartInstances',
    path: 'ec2.amazonaws.com',
    status: 200,
  });
});

test('cloudtrail: a call that failed for another reason is a failed request, not a denial', () => {
  const r = cloudtrail.parse(UPDATE_TRAIL);
  assert.ok(r?.kind === 'access');
  assert.equal(r.status, 400);
  assert.equal(r.reason, undefined);
  assert.equal(r.method, 'UpdateTrail');
});

test('cloudtrail: a failed console sign-in is a 401 (credential-invalid); the user name stands in for a missing ARN', () => {
  const r = cloudtrail.parse(CONSOLE_LOGIN_FAILED);
  assert.ok(r?.kind === 'access');
  assert.equal(r.status, 401);
  assert.equal(r.principal, 'anaya');
  assert.deepEqual(r.reason?.causes, ['credential-invalid']);
  assert.equal(r.reason?.words, 'Failed authentication');
});

test('cloudtrail: each documented access-denied message names its policy type', () => {
  // https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html#access-denied-error-examples
  const cases: [string, string, string[]][] = [
    [
      'User: arn:aws:iam::777788889999:user/JohnDoe is not authorized to perform: codecommit:ListRepositories with an explicit deny in a service control policy',
      'explicit-deny-scp',
      ['explicit-deny'],
    ],
    [
      'User: arn:aws:iam::123456789012:user/JohnDoe is not authorized to perform: codecommit:ListRepositories because no VPC endpoint policy allows the codecommit:ListRepositories action',
      'implicit-deny-limiting-policy',
      ['explicit-deny', 'insufficient-role'],
    ],
    [
      'User: arn:aws:iam::123456789012:user/JohnDoe is not authorized to perform: codedeploy:ListDeployments on resource: arn:aws:codedeploy:us-east-1:123456789012:deploymentgroup:* because no permissions boundary allows the codedeploy:ListDeployments action',
      'implicit-deny-limiting-policy',
      ['explicit-deny', 'insufficient-role'],
    ],
    [
      'User: arn:aws:iam::777788889999:user/JohnDoe is not authorized to perform: sagemaker:ListModels with an explicit deny in a permissions boundary',
      'explicit-deny',
      ['explicit-deny'],
    ],
    [
      'User: arn:aws:iam::123456789012:user/JohnDoe is not authorized to perform: codecommit:ListRepositories because no session policy allows the codecommit:ListRepositories action',
      'implicit-deny-limiting-policy',
      ['explicit-deny', 'insufficient-role'],
    ],
    [
      'User: arn:aws:iam::123456789012:user/JohnDoe is not authorized to perform: codedeploy:ListDeployments on resource: arn:aws:codedeploy:us-east-1:123456789012:deploymentgroup:* with an explicit deny in a sessions policy',
      'explicit-deny',
      ['explicit-deny'],
    ],
    [
      'User: arn:aws:iam::123456789012:user/JohnDoe is not authorized to perform: secretsmanager:GetSecretValue because no resource-based policy allows the secretsmanager:GetSecretValue action',
      'implicit-deny-resource-policy',
      ['resource-policy'],
    ],
    [
      'User: arn:aws:iam::123456789012:user/JohnDoe is not authorized to perform: secretsmanager:GetSecretValue on resource: arn:aws:secretsmanager:us-east-1:123456789012:secret:* with an explicit deny in a resource-based policy',
      'explicit-deny-resource-policy',
      ['explicit-deny', 'resource-policy'],
    ],
    [
      'User: arn:aws:iam::777788889999:user/JohnDoe is not authorized to perform: sts:AssumeRole with an explicit deny in the role trust policy',
      'explicit-deny-resource-policy',
      ['explicit-deny', 'resource-policy'],
    ],
    [
      'User: arn:aws:iam::123456789012:user/JohnDoe is not authorized to perform: codecommit:ListRepositories because no identity-based policy allows the codecommit:ListRepositories action',
      'implicit-deny-identity-policy',
      ['insufficient-role'],
    ],
    [
      'User: arn:aws:iam::123456789012:user/JohnDoe is not authorized to perform: codedeploy:ListDeployments on resource: arn:aws:codedeploy:us-east-1:123456789012:deploymentgroup:* with an explicit deny in an identity-based policy',
      'explicit-deny',
      ['explicit-deny'],
    ],
    [
      'User: arn:aws:sts::111122223333:assumed-role/role-name/role-session-name is not authorized to perform: SNS:Publish on resource: arn:aws:sns:us-east-1:444455556666:role-name-2 with an explicit deny in a VPC endpoint policy transitively through a service control policy',
      'explicit-deny-scp',
      ['explicit-deny'],
    ],
  ];
  for (const [message, code, causes] of cases) {
    const r = deniedReason('AccessDenied', message);
    assert.equal(r.code, code, message);
    assert.deepEqual(r.causes, causes, message);
    assert.equal(r.product, 'aws-iam');
    // The words are the documented phrase, never the ARNs of the message.
    assert.doesNotMatch(r.words, /arn:aws/);
  }
  // A message that names no policy type can mean any of them.
  assert.deepEqual(deniedReason('AccessDenied', 'Access Denied').causes, [
    'insufficient-role',
    'explicit-deny',
    'resource-policy',
  ]);
});

test('cloudtrail: lines of other formats are not read, and no other format reads a record', () => {
  const others = [
    '127.0.0.1 - - [05/Dec/2026:14:47:55 +0000] "GET /private/a.txt HTTP/1.1" 403 153 "-" "node"',
    '2026/12/05 14:47:55 [error] 2150#2150: *2 access forbidden by rule, client: 127.0.0.1, server: localhost, request: "GET /private/a.txt HTTP/1.1", host: "127.0.0.1:33305"',
    '[Sat Dec 05 14:47:55.623701 2026] [authz_core:error] [pid 2156:tid 2159] [client 127.0.0.1:46644] AH01630: client denied by server configuration: /tmp/www/private/a.txt',
    // The whole delivered file on one line is the reader's to split.
    `{"Records":[${START_INSTANCES}]}`,
    'not a log line',
    '{}',
  ];
  for (const l of others) assert.equal(cloudtrail.parse(l), undefined, l);
  for (const format of LOG_FORMATS)
    for (const l of [UPDATE_TRAIL, START_INSTANCES, CONSOLE_LOGIN_FAILED])
      assert.equal(Boolean(format.parse(l)), format.id === 'cloudtrail', `${format.id} on a CloudTrail record`);
});
