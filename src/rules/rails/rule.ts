// Rails' own 401s: ActionController::HttpAuthentication answers a failed
// http_basic_authenticate_with / authenticate_or_request_with_http_basic with
// the body "HTTP Basic: Access denied." and a Basic challenge (realm
// "Application" unless set), and the token variant with "HTTP Token: Access
// denied." and a Token challenge. Rails' CSRF failure
// (InvalidAuthenticityToken) is a 422, not a 401/403, so it is not a denial
// to this engine.
import { defineProducer, ev, signals, type Context, type Evidence } from '../define.ts';
import texts from './texts.json' with { type: 'json' };

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

export default defineProducer({
  meta: {
    id: 'rails',
    product: 'rails',
    layer: 'application',
    causes: ['credential-missing', 'credential-invalid', 'credential-malformed'],
    statuses: [401],
    ...texts,
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
    // Digest is answered like Basic: send a user name and password.
    const send = page === 'token' ? 'sendToken' : 'sendBasic';
    const data = { scheme, realm, url, sent };
    const sentEv = ev('request-header:authorization', `${sent} …`);
    if (!auth && ctx.exchange.request) {
      report.claim('credential-missing', 'missing', 0.85, {
        data,
        evidence: [...evidence, ev('request-header:authorization', 'absent')],
        fixes: [send],
      });
    } else if (auth && sent && page === 'basic' && !/^basic$/i.test(sent)) {
      report.claim('credential-malformed', 'notBasic', 0.8, {
        data,
        evidence: [...evidence, sentEv],
        fixes: [send],
      });
    } else if (auth && page === 'token' && !/^(token|bearer|dpop)\s+\S/i.test(auth)) {
      report.claim('credential-malformed', 'tokenUnparsed', 0.8, {
        data,
        evidence: [...evidence, sentEv],
        fixes: [send],
      });
    } else if (auth) {
      if (page === 'token' && /^token\s+token[^=]/i.test(auth)) {
        report.claim('credential-malformed', 'tokenForm', 0.75, {
          data,
          evidence: [...evidence, sentEv],
          fixes: ['findCredentials', send],
        });
        return;
      }
      report.claim('credential-invalid', 'rejected', 0.8, {
        data,
        evidence: [...evidence, sentEv],
        fixes: ['findCredentials', send],
      });
      if (page === 'token')
        report.claim('credential-malformed', 'tokenFormToo', 0.3, { data, evidence, fixes: [send] });
    } else {
      report.claim('credential-missing', 'unknownSent', 0.5, {
        data,
        evidence,
        fixes: [send, 'findCredentials'],
      });
      report.claim('credential-invalid', 'orWrong', 0.4, { evidence, fixes: ['findCredentials'] });
    }
  },
});
