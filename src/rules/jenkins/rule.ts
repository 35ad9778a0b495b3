// Jenkins: a refused permission comes with X-You-Are-Authenticated-As and
// X-Required-Permission headers (and the same lines in an HTML comment), so
// the near miss is in the response; a POST without a crumb is Stapler's
// "No valid crumb was included in the request".
import { defineProducer, ev, signals, type Context } from '../define.ts';
import texts from './texts.json' with { type: 'json' };

// "alice is missing the Job/Build permission". The user name starts where a
// run of non-spaces starts (the lookbehind): without it, a long run such as a
// 64 KiB token was rescanned from each of its characters, quadratic in its
// length. Permission groups and names are a few words, hence the bounds.
const MISSING_PERMISSION = /(?<!\S)(\S+) is missing the ([\w ]{1,100}\/[\w ]{1,100}) permission/;
const NO_CRUMB = /No valid crumb was included in the request/;
const HEADERS = ['x-jenkins', 'x-hudson', 'x-jenkins-session', 'x-you-are-authenticated-as', 'x-required-permission'];

function root(ctx: Context): string {
  if (!ctx.url) return 'https://jenkins.example.com';
  // Jenkins often lives under a context path (/jenkins); keep it when the URL shows one.
  const ctxPath = /^(\/[^/]+)\/(job|view|computer|manage|me|user)\//.exec(ctx.url.pathname)?.[1] ?? '';
  return `${ctx.url.protocol}//${ctx.url.host}${ctxPath}`;
}

export default defineProducer({
  meta: {
    id: 'jenkins',
    product: 'jenkins',
    layer: 'application',
    causes: ['credential-missing', 'credential-invalid', 'insufficient-role', 'csrf'],
    statuses: [401, 403],
    ...texts,
  },
  recognise(ctx) {
    const t = ctx.body.text;
    const found = signals().headers(ctx, 0.97, HEADERS);
    if (NO_CRUMB.test(t)) found.add(0.85, ev('body', 'No valid crumb was included in the request'));
    if (/Permission you need to have \(but didn't\): hudson\./.test(t))
      found.add(0.9, ev('body', 'Jenkins’ “Permission you need to have (but didn’t)” comment'));
    if (/<th>SERVLET:<\/th><td>Stapler<\/td>/.test(t))
      found.add(0.85, ev('body', 'error page served by Stapler, Jenkins’ web framework'));
    const missingLine = MISSING_PERMISSION.exec(t);
    if (missingLine && /jenkins|hudson/i.test(t)) found.add(0.8, ev('body', missingLine[0]));
    return found.result({ missingLine });
  },
  explain(ctx, { missingLine }, report) {
    const t = ctx.body.text;
    const who = ctx.header('x-you-are-authenticated-as') ?? /You are authenticated as: (\S+)/.exec(t)?.[1];
    const required =
      ctx.header('x-required-permission') ?? /Permission you need to have \(but didn't\): (\S+)/.exec(t)?.[1];
    const groups = (ctx.header('x-you-are-in-group') ?? '')
      .split(',')
      .map((g) => g.trim())
      .filter(Boolean);
    const implied = ctx.headers('x-permission-implied-by');
    const base = { root: root(ctx) };
    const whoEv = who ? [ev('header:x-you-are-authenticated-as', who)] : [];

    if (NO_CRUMB.test(t))
      report.claim('csrf', 'csrf', 0.92, {
        data: { ...base, target: ctx.url?.href ?? `${base.root}/job/JOB/build` },
        evidence: [ev('body', 'No valid crumb was included in the request')],
        fixes: ['apiToken', 'crumb'],
      });

    const anonymous = who === 'anonymous' || missingLine?.[1] === 'anonymous';
    const perm = required ?? missingLine?.[2];
    if (anonymous) {
      report.claim('credential-missing', 'anonymous', 0.88, {
        data: { ...base, perm: perm ?? 'the permission this page needs', url: ctx.url?.href ?? base.root },
        evidence: [...whoEv, ...(perm ? [ev('header:x-required-permission', perm)] : [])],
        ...(perm ? { gap: { required: [perm, ...implied.map((p) => `or ${p}`)], held: ['anonymous'] } } : {}),
        fixes: ['sendToken', 'whoAmI'],
      });
    } else if (perm && (who || missingLine)) {
      const user = who ?? missingLine?.[1];
      report.claim('insufficient-role', 'missingPermission', 0.88, {
        data: { ...base, user, perm, implied: implied.length ? ` (also implied by ${implied.join(', ')})` : '' },
        evidence: [
          ...whoEv,
          ev('header:x-required-permission', perm),
          ...(missingLine ? [ev('body', missingLine[0])] : []),
        ],
        gap: { required: [perm], held: [`user ${user}`, ...groups.map((g) => `group ${g}`)] },
        fixes: ['grant', 'whoAmI'],
      });
    } else if (ctx.status === 401 && ctx.header('x-jenkins') !== undefined) {
      const evidence = [ev('header:x-jenkins', ctx.header('x-jenkins')!)];
      if (/^basic\s/i.test(ctx.requestHeader('authorization') ?? '')) {
        report.claim('credential-invalid', 'tokenRejected', 0.75, {
          data: base,
          evidence,
          fixes: ['newToken', 'whoAmI'],
        });
      } else report.claim('credential-missing', 'noCredentials', 0.75, { data: base, evidence, fixes: ['whoAmI'] });
    }
  },
});
