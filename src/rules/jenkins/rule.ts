// Jenkins: a refused permission comes with X-You-Are-Authenticated-As and
// X-Required-Permission headers (and the same lines in an HTML comment), so
// the near miss is in the response; a POST without a crumb is Stapler's
// "No valid crumb was included in the request".
import { defineRule, ev, type CauseClaim } from '../define.ts';
import type { Context } from '../../engine/context.ts';
import type { Evidence, Fix } from '../../model/report.ts';

// "alice is missing the Job/Build permission". The user name starts where a
// run of non-spaces starts (the lookbehind): without it, a long run such as a
// 64 KiB token was rescanned from each of its characters, quadratic in its
// length. Permission groups and names are a few words, hence the bounds.
const MISSING_PERMISSION = /(?<!\S)(\S+) is missing the ([\w ]{1,100}\/[\w ]{1,100}) permission/;

function signature(ctx: Context): { confidence: number; evidence: Evidence[] } {
  const evidence: Evidence[] = [];
  let confidence = 0;
  const bump = (c: number, e: Evidence) => {
    confidence = Math.max(confidence, c);
    evidence.push(e);
  };
  for (const h of ['x-jenkins', 'x-hudson', 'x-jenkins-session', 'x-you-are-authenticated-as', 'x-required-permission']) {
    const v = ctx.header(h);
    if (v !== undefined) bump(0.97, ev(`header:${h}`, v));
  }
  const t = ctx.body.text;
  if (/No valid crumb was included in the request/.test(t)) bump(0.85, ev('body', 'No valid crumb was included in the request'));
  if (/Permission you need to have \(but didn't\): hudson\./.test(t)) bump(0.9, ev('body', 'Jenkins’ “Permission you need to have (but didn’t)” comment'));
  if (/<th>SERVLET:<\/th><td>Stapler<\/td>/.test(t)) bump(0.85, ev('body', 'error page served by Stapler, Jenkins’ web framework'));
  const missing = MISSING_PERMISSION.exec(t);
  if (missing && /jenkins|hudson/i.test(t)) bump(0.8, ev('body', missing[0]));
  return { confidence, evidence };
}

function root(ctx: Context): string {
  if (!ctx.url) return 'https://jenkins.example.com';
  // Jenkins often lives under a context path (/jenkins); keep it when the URL shows one.
  const ctxPath = /^(\/[^/]+)\/(job|view|computer|manage|me|user)\//.exec(ctx.url.pathname)?.[1] ?? '';
  return `${ctx.url.protocol}//${ctx.url.host}${ctxPath}`;
}

export default defineRule({
  meta: {
    id: 'jenkins',
    kind: 'producer',
    product: 'jenkins',
    layer: 'application',
    description: 'Jenkins denials: anonymous requests to a secured instance, authenticated users missing a permission (X-Required-Permission names it), rejected API tokens, and POSTs without a CSRF crumb.',
    docs: ['https://www.jenkins.io/doc/book/security/csrf-protection/', 'https://www.jenkins.io/doc/book/security/access-control/', 'https://www.jenkins.io/doc/book/using/remote-access-api/'],
    causes: ['credential-missing', 'credential-invalid', 'insufficient-role', 'csrf'],
  },
  applies: (ctx) => signature(ctx).confidence > 0,
  run(ctx) {
    const sig = signature(ctx);
    const producer = { product: 'jenkins' as const, layer: 'application' as const, confidence: sig.confidence, evidence: sig.evidence };
    if (ctx.status !== 401 && ctx.status !== 403) return { producer };
    const t = ctx.body.text;
    const who = ctx.header('x-you-are-authenticated-as') ?? /You are authenticated as: (\S+)/.exec(t)?.[1];
    const required = ctx.header('x-required-permission') ?? /Permission you need to have \(but didn't\): (\S+)/.exec(t)?.[1];
    const missingLine = MISSING_PERMISSION.exec(t);
    const groups = (ctx.header('x-you-are-in-group') ?? '').split(',').map((g) => g.trim()).filter(Boolean);
    const implied = ctx.headers('x-permission-implied-by');
    const whoAmI: Fix = { title: 'Check who Jenkins thinks you are, with the same credentials', difficulty: 'easy', commands: [`curl -s -u "$JENKINS_USER:$JENKINS_API_TOKEN" ${root(ctx)}/whoAmI/api/json`], verify: '"anonymous": false, your user name, and the authorities (groups) you expect.' };
    const causes: CauseClaim[] = [];

    if (/No valid crumb was included in the request/.test(t)) {
      causes.push({
        id: 'csrf',
        weight: 0.92,
        summary: 'Jenkins’ CSRF protection refused a state-changing request that carried no valid crumb. Requests authenticated with an API token need no crumb (Jenkins 2.96+); a password or session cookie does.',
        evidence: [ev('body', 'No valid crumb was included in the request')],
        fixes: [
          { title: 'Authenticate with an API token instead of a password (User → Security → API Token → Add new token)', difficulty: 'easy', commands: [`curl -X POST -u "$JENKINS_USER:$JENKINS_API_TOKEN" ${ctx.url?.href ?? `${root(ctx)}/job/JOB/build`}`], verify: 'The POST answers 2xx without a Jenkins-Crumb header.' },
          { title: 'Or fetch a crumb with the same session and send it back in the Jenkins-Crumb header', difficulty: 'easy', commands: [`curl -s -c cookies.txt -u "$JENKINS_USER:$JENKINS_PASSWORD" ${root(ctx)}/crumbIssuer/api/json`, `curl -s -b cookies.txt -u "$JENKINS_USER:$JENKINS_PASSWORD" -H "Jenkins-Crumb: <crumb>" -X POST ${ctx.url?.href ?? `${root(ctx)}/job/JOB/build`}`], docs: 'https://www.jenkins.io/doc/book/security/csrf-protection/' },
        ],
      });
    }

    const anonymous = who === 'anonymous' || missingLine?.[1] === 'anonymous';
    const perm = required ?? missingLine?.[2];
    if (anonymous) {
      causes.push({
        id: 'credential-missing',
        weight: 0.88,
        summary: `Jenkins treated the request as anonymous, and anonymous lacks ${perm ?? 'the permission this page needs'}: no credentials were sent, or they were not recognised as such.`,
        evidence: [...(who ? [ev('header:x-you-are-authenticated-as', who)] : []), ...(perm ? [ev('header:x-required-permission', perm)] : [])],
        ...(perm ? { gap: { required: [perm, ...implied.map((p) => `or ${p}`)], held: ['anonymous'] } } : {}),
        fixes: [{ title: 'Send a user name and API token with every request (Jenkins does not send a Basic challenge first)', difficulty: 'easy', commands: [`curl -u "$JENKINS_USER:$JENKINS_API_TOKEN" ${ctx.url?.href ?? root(ctx)}`] }, whoAmI],
      });
    } else if (perm && (who || missingLine)) {
      const user = who ?? missingLine?.[1];
      causes.push({
        id: 'insufficient-role',
        weight: 0.88,
        summary: `${user} is logged in but lacks ${perm}${implied.length ? ` (also implied by ${implied.join(', ')})` : ''}.`,
        evidence: [...(who ? [ev('header:x-you-are-authenticated-as', who)] : []), ev('header:x-required-permission', perm), ...(missingLine ? [ev('body', missingLine[0])] : [])],
        gap: { required: [perm], held: [`user ${user}`, ...groups.map((g) => `group ${g}`)] },
        fixes: [{ title: `Grant ${perm} to ${user} or one of its groups (Manage Jenkins → Security → Authorization; for folder/job permissions, the item’s own matrix)`, difficulty: 'medium', docs: 'https://www.jenkins.io/doc/book/security/access-control/permissions/' }, whoAmI],
      });
    } else if (ctx.status === 401 && ctx.header('x-jenkins') !== undefined) {
      const sent = /^basic\s/i.test(ctx.requestHeader('authorization') ?? '');
      causes.push(
        sent
          ? { id: 'credential-invalid', weight: 0.75, summary: 'Jenkins rejected the user name / API token pair (a revoked token, a password where SSO forbids it, or a typo).', evidence: [ev('header:x-jenkins', ctx.header('x-jenkins')!)], fixes: [{ title: 'Create a new API token (User → Security → API Token) and retry', difficulty: 'easy' }, whoAmI] }
          : { id: 'credential-missing', weight: 0.75, summary: 'Jenkins wants credentials and none were sent.', evidence: [ev('header:x-jenkins', ctx.header('x-jenkins')!)], fixes: [whoAmI] },
      );
    }
    return causes.length ? { producer, causes } : { producer };
  },
});
