// Rails' own 401s: ActionController::HttpAuthentication answers a failed
// http_basic_authenticate_with / authenticate_or_request_with_http_basic with
// the body "HTTP Basic: Access denied." and a Basic challenge (realm
// "Application" unless set), and the token variant with "HTTP Token: Access
// denied." and a Token challenge. Rails' CSRF failure
// (InvalidAuthenticityToken) is a 422, not a 401/403, so it is not a denial
// to this engine.
import { defineRule, ev, type CauseClaim } from '../define.ts';
import type { Context } from '../../engine/context.ts';
import type { Evidence, Fix } from '../../model/report.ts';

const DOCS = 'https://api.rubyonrails.org/classes/ActionController/HttpAuthentication/Basic.html';
const TOKEN_DOCS = 'https://api.rubyonrails.org/classes/ActionController/HttpAuthentication/Token.html';

function railsPage(ctx: Context): 'basic' | 'token' | 'digest' | undefined {
  const m = /^HTTP (Basic|Token|Digest): Access denied\.\n?$/.exec(ctx.body.text);
  return m ? (m[1].toLowerCase() as 'basic' | 'token' | 'digest') : undefined;
}

function railsHeaders(ctx: Context): Evidence[] {
  const out: Evidence[] = [];
  const rid = ctx.header('x-request-id');
  if (rid && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(rid) && ctx.header('x-runtime')) out.push(ev('header:x-request-id', `${rid} with X-Runtime ${ctx.header('x-runtime')} (ActionDispatch::RequestId + Rack::Runtime)`));
  return out;
}

export default defineRule({
  meta: {
    id: 'rails',
    kind: 'producer',
    product: 'rails',
    layer: 'application',
    description: 'Rails’ HTTP Basic / Token authentication failures ("HTTP Basic: Access denied.", "HTTP Token: Access denied.") with their WWW-Authenticate challenge.',
    docs: [DOCS, TOKEN_DOCS, 'https://guides.rubyonrails.org/action_controller_overview.html#http-basic-authentication', 'https://guides.rubyonrails.org/action_controller_overview.html#http-token-authentication'],
    causes: ['credential-missing', 'credential-invalid', 'credential-malformed'],
  },
  applies: (ctx) => ctx.status === 401,
  run(ctx) {
    const page = railsPage(ctx);
    if (!page) return undefined;
    const scheme = page === 'basic' ? 'Basic' : page === 'token' ? 'Token' : 'Digest';
    const challenge = ctx.challenges.find((c) => c.scheme.toLowerCase() === page || (page === 'token' && /^(bearer|dpop)$/i.test(c.scheme)));
    const body = ev('body', `"HTTP ${scheme}: Access denied." (ActionController::HttpAuthentication::${scheme})`);
    const evidence: Evidence[] = [body, ...(challenge ? [ev('header:www-authenticate', `${challenge.scheme}${challenge.params.realm ? ` realm="${challenge.params.realm}"` : ''}`)] : []), ...railsHeaders(ctx)];
    const producer = { product: 'rails' as const, layer: 'application' as const, confidence: challenge ? 0.93 : 0.88, evidence };
    const url = ctx.url?.href ?? 'URL';
    const auth = ctx.requestHeader('authorization');
    const sentScheme = auth?.split(/\s/)[0];
    const realm = challenge?.params.realm ? ` (realm "${challenge.params.realm}")` : '';
    const send: Fix =
      page === 'token'
        ? { title: 'Send the API token as Authorization: Token token="…" (Bearer also works)', difficulty: 'easy', commands: [`curl -H 'Authorization: Token token="$API_TOKEN"' ${url}`], verify: 'The same request answers 2xx; in the app, `bin/rails runner` can check the token lookup used by authenticate_with_http_token.', docs: TOKEN_DOCS }
        : { title: `Send the user name and password with Basic auth${realm}`, difficulty: 'easy', commands: [`curl -u USER:PASSWORD ${url}`], verify: `curl -u USER:PASSWORD -o /dev/null -w '%{http_code}' ${url} prints 200.`, docs: DOCS };
    const findCreds: Fix = {
      title: 'Find the credentials the controller checks (http_basic_authenticate_with name:/password:, or the block given to authenticate_or_request_with_http_*)',
      difficulty: 'medium',
      commands: ['grep -rn -E "http_basic_authenticate_with|authenticate_or_request_with_http_(basic|token)|authenticate_with_http_(basic|token)" app/controllers', 'bin/rails credentials:show'],
      verify: 'The credentials you send are the ones that block compares against.',
    };
    const causes: CauseClaim[] = [];
    if (!auth && ctx.exchange.request) {
      causes.push({ id: 'credential-missing', weight: 0.85, summary: `The controller requires HTTP ${scheme} authentication${realm} and the request carried no Authorization header.`, evidence: [...evidence, ev('request-header:authorization', 'absent')], fixes: [send] });
    } else if (auth && sentScheme && page === 'basic' && !/^basic$/i.test(sentScheme)) {
      causes.push({ id: 'credential-malformed', weight: 0.8, summary: `Rails expects Basic credentials here but the request sent the ${sentScheme} scheme.`, evidence: [...evidence, ev('request-header:authorization', `${sentScheme} …`)], fixes: [send] });
    } else if (auth && page === 'token' && !/^(token|bearer|dpop)\s+\S/i.test(auth)) {
      causes.push({ id: 'credential-malformed', weight: 0.8, summary: `Rails expects Authorization: Token token="…" (or Bearer) and could not parse what was sent (${sentScheme} …).`, evidence: [...evidence, ev('request-header:authorization', `${sentScheme} …`)], fixes: [send] });
    } else if (auth) {
      const malformedToken = page === 'token' && /^token\s+token[^=]/i.test(auth);
      causes.push({
        id: malformedToken ? 'credential-malformed' : 'credential-invalid',
        weight: malformedToken ? 0.75 : 0.8,
        summary: malformedToken
          ? 'The Token header could not be parsed (expected token="…"), so Rails saw no token.'
          : `An ${sentScheme} credential was sent and the controller’s check rejected it: wrong user name / password or unknown token.`,
        evidence: [...evidence, ev('request-header:authorization', `${sentScheme} …`)],
        fixes: [findCreds, send],
      });
      if (!malformedToken && page === 'token') causes.push({ id: 'credential-malformed', weight: 0.3, summary: 'Rails also answers this way when the Token header is not in the token="…" form it parses.', evidence, fixes: [send] });
    } else {
      causes.push({ id: 'credential-missing', weight: 0.5, summary: `HTTP ${scheme} authentication failed; the input does not show whether a credential was sent.`, evidence, fixes: [send, findCreds] });
      causes.push({ id: 'credential-invalid', weight: 0.4, summary: 'Or the credential sent was wrong.', evidence, fixes: [findCreds] });
    }
    return { producer, causes };
  },
});
