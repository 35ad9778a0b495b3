// Rails' own 401s: ActionController::HttpAuthentication answers a failed
// http_basic_authenticate_with / authenticate_or_request_with_http_basic with
// the body "HTTP Basic: Access denied." and a Basic challenge (realm
// "Application" unless set), and the token variant with "HTTP Token: Access
// denied." and a Token challenge. Rails' CSRF failure
// (InvalidAuthenticityToken) is a 422, not a 401/403, so it is not a denial
// to this engine.
import { defineProducer, ev, signals, type Context, type Evidence, type Fix } from '../define.ts';

const DOCS = 'https://api.rubyonrails.org/classes/ActionController/HttpAuthentication/Basic.html';
const TOKEN_DOCS = 'https://api.rubyonrails.org/classes/ActionController/HttpAuthentication/Token.html';

function railsPage(ctx: Context): 'basic' | 'token' | 'digest' | undefined {
  const m = /^HTTP (Basic|Token|Digest): Access denied\.\n?$/.exec(ctx.body.text);
  return m ? (m[1].toLowerCase() as 'basic' | 'token' | 'digest') : undefined;
}

function railsHeaders(ctx: Context): Evidence[] {
  const out: Evidence[] = [];
  const rid = ctx.header('x-request-id');
  if (rid && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(rid) && ctx.header('x-runtime'))
    out.push(
      ev(
        'header:x-request-id',
        `${rid} with X-Runtime ${ctx.header('x-runtime')} (ActionDispatch::RequestId + Rack::Runtime)`,
      ),
    );
  return out;
}

const FIND_CREDENTIALS: Fix = {
  title:
    'Find the credentials the controller checks (http_basic_authenticate_with name:/password:, or the block given to authenticate_or_request_with_http_*)',
  difficulty: 'medium',
  commands: [
    'grep -rn -E "http_basic_authenticate_with|authenticate_or_request_with_http_(basic|token)|authenticate_with_http_(basic|token)" app/controllers',
    'bin/rails credentials:show',
  ],
  verify: 'The credentials you send are the ones that block compares against.',
};

function sendFix(page: 'basic' | 'token' | 'digest', realm: string, url: string): Fix {
  if (page === 'token')
    return {
      title: 'Send the API token as Authorization: Token token="…" (Bearer also works)',
      difficulty: 'easy',
      commands: [`curl -H 'Authorization: Token token="$API_TOKEN"' ${url}`],
      verify:
        'The same request answers 2xx; in the app, `bin/rails runner` can check the token lookup used by authenticate_with_http_token.',
      docs: TOKEN_DOCS,
    };
  return {
    title: `Send the user name and password with Basic auth${realm}`,
    difficulty: 'easy',
    commands: [`curl -u USER:PASSWORD ${url}`],
    verify: `curl -u USER:PASSWORD -o /dev/null -w '%{http_code}' ${url} prints 200.`,
    docs: DOCS,
  };
}

export default defineProducer({
  meta: {
    id: 'rails',
    product: 'rails',
    layer: 'application',
    description:
      'Rails’ HTTP Basic / Token authentication failures ("HTTP Basic: Access denied.", "HTTP Token: Access denied.") with their WWW-Authenticate challenge.',
    docs: [
      DOCS,
      TOKEN_DOCS,
      'https://guides.rubyonrails.org/action_controller_overview.html#http-basic-authentication',
      'https://guides.rubyonrails.org/action_controller_overview.html#http-token-authentication',
    ],
    causes: ['credential-missing', 'credential-invalid', 'credential-malformed'],
    statuses: [401],
    messages: {
      missing:
        'The controller requires HTTP {{scheme}} authentication{{realm}} and the request carried no Authorization header.',
      notBasic: 'Rails expects Basic credentials here but the request sent the {{sent}} scheme.',
      tokenUnparsed:
        'Rails expects Authorization: Token token="…" (or Bearer) and could not parse what was sent ({{sent}} …).',
      tokenForm: 'The Token header could not be parsed (expected token="…"), so Rails saw no token.',
      rejected:
        'An {{sent}} credential was sent and the controller’s check rejected it: wrong user name / password or unknown token.',
      tokenFormToo: 'Rails also answers this way when the Token header is not in the token="…" form it parses.',
      unknownSent: 'HTTP {{scheme}} authentication failed; the input does not show whether a credential was sent.',
      orWrong: 'Or the credential sent was wrong.',
    },
  },
  recognise(ctx) {
    // Rails sends these bodies only with its 401.
    const page = ctx.status === 401 ? railsPage(ctx) : undefined;
    if (!page) return undefined;
    const scheme = page === 'basic' ? 'Basic' : page === 'token' ? 'Token' : 'Digest';
    const challenge = ctx.challenges.find(
      (c) => c.scheme.toLowerCase() === page || (page === 'token' && /^(bearer|dpop)$/i.test(c.scheme)),
    );
    const found = signals().add(
      0.88,
      ev('body', `"HTTP ${scheme}: Access denied." (ActionController::HttpAuthentication::${scheme})`),
    );
    if (challenge)
      found.add(
        0.93,
        ev(
          'header:www-authenticate',
          `${challenge.scheme}${challenge.params.realm ? ` realm="${challenge.params.realm}"` : ''}`,
        ),
      );
    for (const e of railsHeaders(ctx)) found.add(0.88, e);
    return found.result({ page, scheme, realm: challenge?.params.realm ? ` (realm "${challenge.params.realm}")` : '' });
  },
  explain(ctx, { page, scheme, realm, evidence }, report) {
    const url = ctx.url?.href ?? 'URL';
    const auth = ctx.requestHeader('authorization');
    const sent = auth?.split(/\s/)[0];
    const send = sendFix(page, realm, url);
    const sentEv = ev('request-header:authorization', `${sent} …`);
    if (!auth && ctx.exchange.request) {
      report.claim('credential-missing', 'missing', 0.85, {
        data: { scheme, realm },
        evidence: [...evidence, ev('request-header:authorization', 'absent')],
        fixes: [send],
      });
    } else if (auth && sent && page === 'basic' && !/^basic$/i.test(sent)) {
      report.claim('credential-malformed', 'notBasic', 0.8, {
        data: { sent },
        evidence: [...evidence, sentEv],
        fixes: [send],
      });
    } else if (auth && page === 'token' && !/^(token|bearer|dpop)\s+\S/i.test(auth)) {
      report.claim('credential-malformed', 'tokenUnparsed', 0.8, {
        data: { sent },
        evidence: [...evidence, sentEv],
        fixes: [send],
      });
    } else if (auth) {
      if (page === 'token' && /^token\s+token[^=]/i.test(auth)) {
        report.claim('credential-malformed', 'tokenForm', 0.75, {
          evidence: [...evidence, sentEv],
          fixes: [FIND_CREDENTIALS, send],
        });
        return;
      }
      report.claim('credential-invalid', 'rejected', 0.8, {
        data: { sent },
        evidence: [...evidence, sentEv],
        fixes: [FIND_CREDENTIALS, send],
      });
      if (page === 'token') report.claim('credential-malformed', 'tokenFormToo', 0.3, { evidence, fixes: [send] });
    } else {
      report.claim('credential-missing', 'unknownSent', 0.5, {
        data: { scheme },
        evidence,
        fixes: [send, FIND_CREDENTIALS],
      });
      report.claim('credential-invalid', 'orWrong', 0.4, { evidence, fixes: [FIND_CREDENTIALS] });
    }
  },
});
