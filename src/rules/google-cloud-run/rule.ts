// Cloud Run (and Cloud Functions 2nd gen, which runs on it) puts IAM in front of
// every service that requires authentication: without an ID token, with a token
// for another audience, or for a principal without run.routes.invoke, Google's
// front end answers before the container sees the request — an HTML page
// "Error: Forbidden … Your client does not have permission to get URL … from
// this server." (403) or "Unauthorized" (401, a token that does not verify).
import { defineRule, ev, type CauseClaim } from '../define.ts';
import type { Context } from '../../engine/context.ts';
import type { Evidence, Fix } from '../../model/report.ts';

const RUN_HOST = /(^|\.)([a-z0-9-]+)\.a\.run\.app$|\.run\.app$|^[a-z0-9-]+-[a-z0-9]+\.cloudfunctions\.net$/;

function service(ctx: Context): { name: string; region: string } {
  const host = ctx.url?.hostname ?? '';
  // https://SERVICE-HASH-REGIONCODE.a.run.app or https://SERVICE-PROJECTNUMBER.REGION.run.app
  const a = /^([a-z0-9-]+?)-[a-z0-9]{8,12}-[a-z]{2}\.a\.run\.app$/.exec(host);
  const b = /^([a-z0-9-]+?)-\d+\.([a-z0-9-]+)\.run\.app$/.exec(host);
  return { name: a?.[1] ?? b?.[1] ?? 'SERVICE', region: b?.[2] ?? 'REGION' };
}

function signature(ctx: Context) {
  const evidence: Evidence[] = [];
  let confidence = 0;
  const host = ctx.url?.hostname ?? '';
  const runHost = RUN_HOST.test(host);
  const page = /<h1>Error: (Forbidden|Unauthorized|Not Found)<\/h1>\s*<h2>Your client does not have permission/.test(ctx.body.text) || /<h1>Error: (Forbidden|Unauthorized)<\/h1>/.test(ctx.body.text);
  const gfe = /^Google Frontend$/i.test(ctx.header('server') ?? '');
  if (page) evidence.push(ev('body:h1', ctx.body.htmlH1 ?? 'Error: Forbidden'));
  if (gfe) evidence.push(ev('header:server', 'Google Frontend'));
  if (runHost) evidence.push(ev('request:url', `Cloud Run endpoint ${host}`));
  if (page && runHost) confidence = 0.95;
  else if (page && gfe) confidence = 0.85;
  // The page is Google's front-end template: without the host or server it also fronts other Google services.
  else if (page) confidence = 0.7;
  else if (runHost && (ctx.status === 401 || ctx.status === 403)) confidence = 0.55;
  return { confidence, evidence };
}

function fixes(ctx: Context, member: string): { grant: Fix; token: Fix; check: Fix } {
  const s = service(ctx);
  const origin = ctx.url ? `${ctx.url.protocol}//${ctx.url.host}` : 'https://SERVICE_URL';
  return {
    token: { title: `Send an ID token whose audience is the service URL (${origin})`, difficulty: 'easy', commands: [`curl -H "Authorization: Bearer $(gcloud auth print-identity-token --audiences=${origin})" ${ctx.url?.href ?? origin}   # service accounts: --impersonate-service-account=SA_EMAIL`], verify: 'The same request with the token answers the service’s own response, not Google’s error page.', docs: 'https://cloud.google.com/run/docs/authenticating/service-to-service' },
    grant: { title: `Grant roles/run.invoker on the service to ${member}`, difficulty: 'easy', commands: [`gcloud run services add-iam-policy-binding ${s.name} --region=${s.region} --member=${member} --role=roles/run.invoker`], verify: `gcloud run services get-iam-policy ${s.name} --region=${s.region} lists ${member} under roles/run.invoker.`, docs: 'https://cloud.google.com/run/docs/securing/managing-access' },
    check: { title: 'Check ingress: an internal-only service refuses requests from the internet whatever the token', difficulty: 'easy', commands: [`gcloud run services describe ${s.name} --region=${s.region} --format="value(metadata.annotations['run.googleapis.com/ingress'])"`], verify: '"all" lets the request reach IAM; "internal" or "internal-and-cloud-load-balancing" needs the VPC or the load balancer.' },
  };
}

export default defineRule({
  meta: {
    id: 'google-cloud-run',
    kind: 'producer',
    product: 'google-cloud-run',
    layer: 'cloud-iam',
    description: 'Cloud Run / Cloud Functions (2nd gen) IAM in front of a service requiring authentication: Google’s "Error: Forbidden" page for a missing ID token or a principal without roles/run.invoker, 401 for a token that does not verify or is for another audience.',
    docs: [
      'https://cloud.google.com/run/docs/troubleshooting',
      'https://cloud.google.com/run/docs/authenticating/service-to-service',
      'https://cloud.google.com/run/docs/securing/managing-access',
      'https://cloud.google.com/run/docs/securing/ingress',
    ],
    causes: ['credential-missing', 'insufficient-role', 'wrong-audience', 'credential-invalid', 'ip-restricted'],
  },
  applies: (ctx) => ctx.status === 401 || ctx.status === 403 || ctx.status === 404,
  run(ctx) {
    const sig = signature(ctx);
    if (sig.confidence === 0) return undefined;
    const producer = { product: 'google-cloud-run' as const, layer: 'cloud-iam' as const, confidence: sig.confidence, evidence: sig.evidence };
    if (ctx.status === 404) return { producer };
    const auth = ctx.requestHeader('authorization');
    const bearer = auth && /^bearer\s+\S/i.test(auth);
    const pageEv = sig.evidence.slice(0, 1);
    const causes: CauseClaim[] = [];
    const notes: string[] = [];
    if (!bearer) {
      const f = fixes(ctx, 'allUsers   # only if the service is meant to be public');
      causes.push({ id: 'credential-missing', weight: 0.85, summary: 'The service requires authentication and the request carried no ID token, so Cloud Run’s IAM refused it before the container ran. Send an ID token for the service URL — or, if the service is meant to be public, allow unauthenticated invocations.', evidence: [...pageEv, ev('request:header', auth ? `Authorization is not a bearer token` : 'no Authorization header')], fixes: [f.token, f.grant] });
      notes.push('Cloud Run answered, not your container: this page is Google’s front end refusing a request without a valid ID token.');
    } else if (ctx.status === 401) {
      const f = fixes(ctx, 'user:EMAIL');
      causes.push({ id: 'wrong-audience', weight: 0.6, summary: 'Cloud Run could not verify the bearer token for this service: it must be a Google-signed ID token (not an access token) whose audience is the service URL.', evidence: [...pageEv, ev('request:header', 'Authorization: Bearer …')], fixes: [f.token] });
      causes.push({ id: 'credential-invalid', weight: 0.4, summary: 'An expired or malformed ID token is refused the same way.', evidence: pageEv, fixes: [f.token] });
    } else {
      const f = fixes(ctx, 'user:EMAIL   # or serviceAccount:SA_EMAIL');
      causes.push({ id: 'insufficient-role', weight: 0.75, summary: 'A token was sent, but its principal lacks run.routes.invoke (roles/run.invoker) on this service.', evidence: [...pageEv, ev('request:header', 'Authorization: Bearer …')], gap: { required: ['run.routes.invoke (roles/run.invoker) on the service'], held: [] }, fixes: [f.grant, f.token] });
      causes.push({ id: 'wrong-audience', weight: 0.35, summary: 'A token minted for another audience (or an OAuth access token instead of an ID token) is refused with the same page.', evidence: pageEv, fixes: [f.token] });
      causes.push({ id: 'ip-restricted', weight: 0.15, summary: 'Ingress restricted to internal traffic also refuses requests from outside the VPC.', evidence: pageEv, fixes: [f.check] });
    }
    return { producer, causes, notes };
  },
});
