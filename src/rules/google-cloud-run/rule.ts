// Cloud Run (and Cloud Functions 2nd gen, which runs on it) puts IAM in front of
// every service that requires authentication: without an ID token, with a token
// for another audience, or for a principal without run.routes.invoke, Google's
// front end answers before the container sees the request — an HTML page
// "Error: Forbidden … Your client does not have permission to get URL … from
// this server." (403) or "Unauthorized" (401, a token that does not verify).
import { defineProducer, ev, signals, type Context } from '../define.ts';
import texts from './texts.json' with { type: 'json' };

const RUN_HOST = /(^|\.)([a-z0-9-]+)\.a\.run\.app$|\.run\.app$|^[a-z0-9-]+-[a-z0-9]+\.cloudfunctions\.net$/;
const PAGE =
  /<h1>Error: (Forbidden|Unauthorized|Not Found)<\/h1>\s*<h2>Your client does not have permission|<h1>Error: (Forbidden|Unauthorized)<\/h1>/;

function service(ctx: Context): { name: string; region: string } {
  const host = ctx.url?.hostname ?? '';
  // https://SERVICE-HASH-REGIONCODE.a.run.app or https://SERVICE-PROJECTNUMBER.REGION.run.app
  const a = /^([a-z0-9-]+?)-[a-z0-9]{8,12}-[a-z]{2}\.a\.run\.app$/.exec(host);
  const b = /^([a-z0-9-]+?)-\d+\.([a-z0-9-]+)\.run\.app$/.exec(host);
  return { name: a?.[1] ?? b?.[1] ?? 'SERVICE', region: b?.[2] ?? 'REGION' };
}

/** The service, its region and URL, for the fixes' placeholders; member is who to grant roles/run.invoker. */
function fixData(ctx: Context, member: string) {
  const s = service(ctx);
  const origin = ctx.url ? `${ctx.url.protocol}//${ctx.url.host}` : 'https://SERVICE_URL';
  return { where: `${s.name} --region=${s.region}`, origin, url: ctx.url?.href ?? origin, member };
}

export default defineProducer({
  meta: {
    id: 'google-cloud-run',
    product: 'google-cloud-run',
    layer: 'cloud-iam',
    causes: ['credential-missing', 'insufficient-role', 'wrong-audience', 'credential-invalid', 'ip-restricted'],
    statuses: [401, 403],
    ...texts,
  },
  recognise(ctx) {
    // Google's front end answers 401 and 403 for IAM, 404 with the same page for an unknown service.
    const denial = ctx.status === 401 || ctx.status === 403;
    if (!denial && ctx.status !== 404) return undefined;
    const host = ctx.url?.hostname ?? '';
    const runHost = RUN_HOST.test(host);
    const page = PAGE.test(ctx.body.text);
    const gfe = /^Google Frontend$/i.test(ctx.header('server') ?? '');
    const found = signals();
    // The page is Google's front-end template: without the host or server it also fronts other Google services.
    if (page) found.add(runHost ? 0.95 : gfe ? 0.85 : 0.7, ev('body:h1', ctx.body.htmlH1 ?? 'Error: Forbidden'));
    if (gfe) found.add(0, ev('header:server', 'Google Frontend'));
    if (runHost) found.add(denial ? 0.55 : 0, ev('request:url', `Cloud Run endpoint ${host}`));
    return found.result();
  },
  explain(ctx, { evidence }, report) {
    const auth = ctx.requestHeader('authorization');
    const bearer = auth && /^bearer\s+\S/i.test(auth);
    const pageEv = evidence.slice(0, 1);
    const bearerEv = ev('request:header', 'Authorization: Bearer …');
    if (!bearer) {
      const data = fixData(ctx, 'allUsers   # only if the service is meant to be public');
      const sent = ev('request:header', auth ? `Authorization is not a bearer token` : 'no Authorization header');
      report.claim('credential-missing', 'noToken', 0.85, {
        data,
        evidence: [...pageEv, sent],
        fixes: ['token', 'grant'],
      });
      report.note(
        'Cloud Run answered, not your container: this page is Google’s front end refusing a request without a valid ID token.',
      );
    } else if (ctx.status === 401) {
      const data = fixData(ctx, 'user:EMAIL');
      report.claim('wrong-audience', 'tokenUnverified', 0.6, {
        data,
        evidence: [...pageEv, bearerEv],
        fixes: ['token'],
      });
      report.claim('credential-invalid', 'tokenBad', 0.4, { data, evidence: pageEv, fixes: ['token'] });
    } else {
      const data = fixData(ctx, 'user:EMAIL   # or serviceAccount:SA_EMAIL');
      const gap = { required: ['run.routes.invoke (roles/run.invoker) on the service'], held: [] };
      report.claim('insufficient-role', 'noInvoker', 0.75, {
        data,
        evidence: [...pageEv, bearerEv],
        gap,
        fixes: ['grant', 'token'],
      });
      report.claim('wrong-audience', 'otherAudience', 0.35, { data, evidence: pageEv, fixes: ['token'] });
      report.claim('ip-restricted', 'ingress', 0.15, { data, evidence: pageEv, fixes: ['checkIngress'] });
    }
  },
});
