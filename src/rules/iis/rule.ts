// IIS names the exact reason for every 401/403 in a substatus (403.14, 401.2,
// 403.503…): in its detailed error page ("HTTP Error 403.14 - Forbidden",
// title "IIS 10.0 Detailed Error - 403.14 - Forbidden") and always in the
// W3C log's sc-substatus field. The custom (remote) error page hides it, so
// without the detailed page the log is the place to read it. What the rule
// says and suggests is in texts.json, with what each substatus means
// (`substatuses`, not part of the rule's meta); the table below gives each
// substatus its cause and fixes.
import { defineProducer, ev, signals, type Context, type Evidence } from '../define.ts';
import { namedServer } from '../_lib/server-header.ts';
import iisTexts from './texts.json' with { type: 'json' };

const { substatuses, ...texts } = iisTexts;
type Substatus = keyof typeof substatuses;

const STATUS_CODES =
  'https://learn.microsoft.com/en-us/troubleshoot/developer/webapps/iis/health-diagnostic-performance/http-status-code';

type IisCause =
  | 'credential-invalid'
  | 'credential-missing'
  | 'credential-expired'
  | 'filesystem-permission'
  | 'insufficient-role'
  | 'path-forbidden'
  | 'wrong-endpoint'
  | 'ip-restricted'
  | 'directory-listing'
  | 'rate-limited';

/** A fix of texts.json, by id. */
type IisFix = keyof typeof texts.fixes;

interface Sub {
  cause: IisCause;
  fixes: IisFix[];
}

/** What each substatus is a case of and what to do about it; what it means, in IIS's words, is in texts.json. */
const SUBSTATUS: Record<Substatus, Sub> = {
  '401.1': { cause: 'credential-invalid', fixes: ['authAccount', 'log'] },
  '401.2': { cause: 'credential-missing', fixes: ['authAnonymous', 'log'] },
  '401.3': { cause: 'filesystem-permission', fixes: ['grantRead', 'log'] },
  '401.5': { cause: 'insufficient-role', fixes: ['log', 'failedRequestTracing'] },
  '403.1': { cause: 'path-forbidden', fixes: ['allowExecute', 'log'] },
  '403.2': { cause: 'path-forbidden', fixes: ['allowRead', 'log'] },
  '403.4': { cause: 'wrong-endpoint', fixes: ['useHttps'] },
  '403.5': { cause: 'wrong-endpoint', fixes: ['log'] },
  '403.6': { cause: 'ip-restricted', fixes: ['ipRestrictions', 'log'] },
  '403.7': { cause: 'credential-missing', fixes: ['clientCertificate'] },
  '403.8': { cause: 'ip-restricted', fixes: ['ipRestrictions', 'log'] },
  '403.12': { cause: 'insufficient-role', fixes: ['log'] },
  '403.13': { cause: 'credential-invalid', fixes: ['log'] },
  '403.14': { cause: 'directory-listing', fixes: ['defaultDocument', 'directoryBrowse', 'aspnetRouting', 'log'] },
  '403.16': { cause: 'credential-invalid', fixes: ['trustClientCa'] },
  '403.17': { cause: 'credential-expired', fixes: ['log'] },
  '403.18': { cause: 'path-forbidden', fixes: ['log', 'failedRequestTracing'] },
  '403.19': { cause: 'path-forbidden', fixes: ['log'] },
  '403.501': { cause: 'rate-limited', fixes: ['dynamicIp', 'log'] },
  '403.502': { cause: 'rate-limited', fixes: ['dynamicIp', 'log'] },
  '403.503': { cause: 'ip-restricted', fixes: ['ipRestrictions', 'log'] },
  '403.504': { cause: 'ip-restricted', fixes: ['ipRestrictions', 'log'] },
};

function isKnown(code: string): code is Substatus {
  return Object.hasOwn(SUBSTATUS, code);
}

function substatus(ctx: Context): { code: string; source: Evidence } | undefined {
  const text = ctx.body.text;
  const title = /IIS (?:[\d.]+ )?Detailed Error - (\d{3}\.\d+) - /.exec(ctx.body.htmlTitle ?? text);
  if (title) return { code: title[1], source: ev('body:title', title[0].trim()) };
  const heading = /HTTP Error (\d{3}\.\d+) - \w/.exec(text);
  if (heading) return { code: heading[1], source: ev('body', heading[0].slice(0, -2).trim()) };
  return undefined;
}

export default defineProducer({
  meta: {
    id: 'iis',
    product: 'iis',
    layer: 'web-server',
    relays: true,
    causes: [
      'credential-invalid',
      'credential-missing',
      'credential-malformed',
      'credential-expired',
      'filesystem-permission',
      'insufficient-role',
      'path-forbidden',
      'wrong-endpoint',
      'ip-restricted',
      'directory-listing',
      'rate-limited',
    ],
    // Any substatus page whose status is the response's is explained; one the table lacks gets a note.
    statuses: 'any',
    ...texts,
  },
  recognise(ctx) {
    const server = namedServer(ctx, /Microsoft-IIS\//i);
    const sub = substatus(ctx);
    if (!server && !sub) return undefined;
    const found = signals();
    // The substatus page is IIS's own wording; a Server header alone may front an app's own 403.
    if (server) found.add(sub ? 0.97 : 0.45, server.evidence);
    if (sub) found.add(0.9, sub.source);
    const poweredBy = ctx.header('x-powered-by');
    if (poweredBy && /ASP\.NET/i.test(poweredBy)) found.evidence.push(ev('header:x-powered-by', poweredBy));
    return found.result({ sub });
  },
  explain(ctx, { sub }, report) {
    if (!sub || String(ctx.status) !== sub.code.split('.')[0]) return;
    const { code, source } = sub;
    if (!isKnown(code)) {
      report.note(`IIS substatus ${code}: see ${STATUS_CODES}`);
      return;
    }
    const { cause, fixes } = SUBSTATUS[code];
    report.claim(cause, 'substatus', 0.9, {
      data: { code, meaning: substatuses[code] },
      evidence: [source],
      fixes,
    });
    // IIS's own page for 401.2 also names a proxy that rewrote the authentication headers.
    if (code === '401.2')
      report.claim('credential-malformed', 'schemeOrProxy', 0.35, {
        evidence: [source],
        fixes: ['authScheme', 'log'],
      });
  },
});
