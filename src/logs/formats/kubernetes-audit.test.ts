// The Kubernetes audit log on events a kube-apiserver wrote. The Kubernetes
// documentation shows the Event's fields but no whole line; the lines here are
// (1) the example line of Red Hat's OpenShift documentation (its API server is
// kube-apiserver) and (2) lines a kube-apiserver v1.29.3 (minikube) wrote,
// published whole in TryHackMe's Advent of Cyber 2024 day 22 (Kubernetes DFIR).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import kubernetesAudit from './kubernetes-audit.ts';
import { LOG_FORMATS } from '../formats.generated.ts';

// https://docs.redhat.com/en/documentation/openshift_container_platform/4.5/html/security/audit-log-view ("Example output for the Kubernetes API server")
const ALLOW = String.raw`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"ad209ce1-fec7-4130-8192-c4cc63f1d8cd","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/openshift-kube-controller-manager/configmaps/cert-recovery-controller-lock?timeout=35s","verb":"update","user":{"username":"system:serviceaccount:openshift-kube-controller-manager:localhost-recovery-client","uid":"dd4997e3-d565-4e37-80f8-7fc122ccd785","groups":["system:serviceaccounts","system:serviceaccounts:openshift-kube-controller-manager","system:authenticated"]},"sourceIPs":["::1"],"userAgent":"cluster-kube-controller-manager-operator/v0.0.0 (linux/amd64) kubernetes/$Format","objectRef":{"resource":"configmaps","namespace":"openshift-kube-controller-manager","name":"cert-recovery-controller-lock","uid":"5c57190b-6993-425d-8101-8337e48c7548","apiVersion":"v1","resourceVersion":"574307"},"responseStatus":{"metadata":{},"code":200},"requestReceivedTimestamp":"2020-04-02T08:27:20.200962Z","stageTimestamp":"2020-04-02T08:27:20.206710Z","annotations":{"authorization.k8s.io/decision":"allow","authorization.k8s.io/reason":"RBAC: allowed by ClusterRoleBinding \"system:openshift:operator:kube-controller-manager-recovery\" of ClusterRole \"cluster-admin\" to ServiceAccount \"localhost-recovery-client/openshift-kube-controller-manager\""}}`;
// https://tryhackme.com/room/adventofcyber2024 (day 22): a list RBAC refused; RBAC leaves the reason annotation empty.
const FORBID = String.raw`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"24444640-7e57-4ac9-b7e8-c3bf5a2942d9","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/wareville/events?fieldSelector=involvedObject.name%3Dmorality-checker%2CinvolvedObject.namespace%3Dwareville%2CinvolvedObject.uid%3Da20761b8-1a36-4318-a048-96d61644b436\u0026limit=500","verb":"list","user":{"username":"mayor-malware","groups":["example","system:authenticated"]},"sourceIPs":["192.168.49.1"],"userAgent":"kubectl/v1.29.3 (linux/amd64) kubernetes/6813625","objectRef":{"resource":"events","namespace":"wareville","apiVersion":"v1"},"responseStatus":{"metadata":{},"status":"Failure","message":"events is forbidden: User \"mayor-malware\" cannot list resource \"events\" in API group \"\" in the namespace \"wareville\"","reason":"Forbidden","details":{"kind":"events"},"code":403},"requestReceivedTimestamp":"2024-10-29T12:21:33.194329Z","stageTimestamp":"2024-10-29T12:21:33.194846Z","annotations":{"authorization.k8s.io/decision":"forbid","authorization.k8s.io/reason":""}}`;
// The same write-up: one exec request, audited at ResponseStarted and again at ResponseComplete.
const EXEC_STARTED = String.raw`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"927fcde7-74e5-4a57-af53-dceacefaf47c","stage":"ResponseStarted","requestURI":"/api/v1/namespaces/wareville/pods/morality-checker/exec?command=%2Fbin%2Fsh\u0026container=kubectl-container\u0026stdin=true\u0026stdout=true\u0026tty=true","verb":"create","user":{"username":"mayor-malware","groups":["example","system:authenticated"]},"sourceIPs":["192.168.49.1"],"userAgent":"kubectl/v1.29.3 (linux/amd64) kubernetes/6813625","objectRef":{"resource":"pods","namespace":"wareville","name":"morality-checker","apiVersion":"v1","subresource":"exec"},"responseStatus":{"metadata":{},"code":101},"requestReceivedTimestamp":"2024-10-29T12:21:44.189258Z","stageTimestamp":"2024-10-29T12:21:44.214173Z","annotations":{"authorization.k8s.io/decision":"allow","authorization.k8s.io/reason":"RBAC: allowed by RoleBinding \"mayor-user-binding/wareville\" of Role \"mayor-user\" to User \"mayor-malware\""}}`;
const EXEC_COMPLETE = String.raw`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"927fcde7-74e5-4a57-af53-dceacefaf47c","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/wareville/pods/morality-checker/exec?command=%2Fbin%2Fsh\u0026container=kubectl-container\u0026stdin=true\u0026stdout=true\u0026tty=true","verb":"create","user":{"username":"mayor-malware","groups":["example","system:authenticated"]},"sourceIPs":["192.168.49.1"],"userAgent":"kubectl/v1.29.3 (linux/amd64) kubernetes/6813625","objectRef":{"resource":"pods","namespace":"wareville","name":"morality-checker","apiVersion":"v1","subresource":"exec"},"responseStatus":{"metadata":{},"code":101},"requestReceivedTimestamp":"2024-10-29T12:21:44.189258Z","stageTimestamp":"2024-10-29T12:22:19.873022Z","annotations":{"apiserver.latency.k8s.io/etcd":"1.150272ms","apiserver.latency.k8s.io/total":"35.683763759s","authorization.k8s.io/decision":"allow","authorization.k8s.io/reason":"RBAC: allowed by RoleBinding \"mayor-user-binding/wareville\" of Role \"mayor-user\" to User \"mayor-malware\""}}`;

test('kubernetes-audit: an allowed request, without its query', () => {
  assert.deepEqual(kubernetesAudit.parse(ALLOW), {
    kind: 'access',
    time: new Date('2020-04-02T08:27:20.206Z'),
    client: '::1',
    principal: 'system:serviceaccount:openshift-kube-controller-manager:localhost-recovery-client',
    method: 'update',
    path: '/api/v1/namespaces/openshift-kube-controller-manager/configmaps/cert-recovery-controller-lock',
    status: 200,
  });
});

test('kubernetes-audit: a 403 with decision forbid is insufficient-role, in the server’s words, with kubectl auth can-i', () => {
  const r = kubernetesAudit.parse(FORBID);
  assert.ok(r?.kind === 'access');
  assert.equal(r.status, 403);
  assert.equal(r.principal, 'mayor-malware');
  assert.equal(r.client, '192.168.49.1');
  assert.equal(r.method, 'list');
  assert.equal(r.path, '/api/v1/namespaces/wareville/events');
  assert.deepEqual(r.reason?.causes, ['insufficient-role']);
  assert.equal(r.reason?.product, 'kubernetes');
  assert.equal(r.reason?.code, 'authorization-forbid');
  assert.equal(
    r.reason?.words,
    'events is forbidden: User "mayor-malware" cannot list resource "events" in API group "" in the namespace "wareville"',
  );
  assert.deepEqual(r.reason?.fix?.commands?.[0], 'kubectl auth can-i list events -n wareville --as {{user}}');
});

test('kubernetes-audit: a request audited at two stages counts once; the earlier stage is a line of the format, not a record', () => {
  assert.equal(kubernetesAudit.parse(EXEC_STARTED), undefined);
  assert.equal(kubernetesAudit.isComment(EXEC_STARTED), true);
  const r = kubernetesAudit.parse(EXEC_COMPLETE);
  assert.ok(r?.kind === 'access');
  assert.equal(r.status, 101);
  assert.equal(r.path, '/api/v1/namespaces/wareville/pods/morality-checker/exec');
  assert.equal(kubernetesAudit.isComment(EXEC_COMPLETE), false);
  assert.equal(kubernetesAudit.isComment(FORBID), false);
});

test('kubernetes-audit: lines of other formats are not read', () => {
  const others = [
    // formats.test.ts's lines: nginx 1.22 and Apache httpd 2.4.71 on 127.0.0.1.
    '127.0.0.1 - - [05/Dec/2026:14:47:55 +0000] "GET /private/a.txt HTTP/1.1" 403 153 "-" "node"',
    '2026/12/05 14:47:55 [error] 2150#2150: *2 access forbidden by rule, client: 127.0.0.1, server: localhost, request: "GET /private/a.txt HTTP/1.1", host: "127.0.0.1:33305"',
    '[Sat Dec 05 14:47:55.623701 2026] [authz_core:error] [pid 2156:tid 2159] [client 127.0.0.1:46644] AH01630: client denied by server configuration: /tmp/www/private/a.txt',
    // https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-log-file-examples.html (one record)
    '{"eventVersion":"1.04","userIdentity":{"type":"IAMUser","principalId":"EX_PRINCIPAL_ID","arn":"arn:aws:iam::123456789012:user/Alice","accountId":"123456789012","accessKeyId":"EXAMPLE_KEY_ID","userName":"Alice"},"eventTime":"2016-07-14T19:15:45Z","eventSource":"cloudtrail.amazonaws.com","eventName":"UpdateTrail","awsRegion":"us-east-2","sourceIPAddress":"205.251.233.182","userAgent":"aws-cli/1.10.32 Python/2.7.9 Windows/7 botocore/1.4.22","errorCode":"TrailNotFoundException","errorMessage":"Unknown trail: myTrail2 for the user: 123456789012","requestParameters":{"name":"myTrail2"},"responseElements":null,"requestID":"5d40662a-49f7-11e6-97e4-d9cb6ff7d6a3","eventID":"b7d4398e-b2f0-4faa-9c76-e2d316a8d67f","eventType":"AwsApiCall","recipientAccountId":"123456789012"}',
    'not a log line',
    '{}',
  ];
  for (const line of others) {
    assert.equal(kubernetesAudit.parse(line), undefined, line);
    assert.equal(kubernetesAudit.isComment(line), false, line);
  }
  // No other format reads an audit event.
  for (const format of LOG_FORMATS)
    for (const line of [ALLOW, FORBID, EXEC_COMPLETE])
      assert.equal(Boolean(format.parse(line)), format.id === 'kubernetes-audit', `${format.id} on an audit event`);
});
