// IIS names the exact reason for every 401/403 in a substatus (403.14, 401.2,
// 403.503…): in its detailed error page ("HTTP Error 403.14 - Forbidden",
// title "IIS 10.0 Detailed Error - 403.14 - Forbidden") and always in the
// W3C log's sc-substatus field. The custom (remote) error page hides it, so
// without the detailed page the log is the place to read it. What the rule
// suggests is in texts.json; what each substatus means is in the table below.
import { defineProducer, ev, signals, type Context, type Evidence } from '../define.ts';
import { namedServer } from '../_lib/server-header.ts';
import texts from './texts.json' with { type: 'json' };

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
  meaning: string;
  fixes: IisFix[];
}

const SUBSTATUS: Record<string, Sub> = {
  '401.1': {
    cause: 'credential-invalid',
    meaning:
      'Logon failed: the credentials were sent but Windows rejected them (wrong password, unknown or locked account, Kerberos/NTLM failure).',
    fixes: ['authAccount', 'log'],
  },
  '401.2': {
    cause: 'credential-missing',
    meaning:
      'Logon failed due to server configuration: the client offered no credentials for any authentication method enabled on the site (typically anonymous access disabled and the browser did not answer the challenge).',
    fixes: ['authAnonymous', 'log'],
  },
  '401.3': {
    cause: 'filesystem-permission',
    meaning:
      'Unauthorized due to an ACL on the resource: the authenticated user (or IUSR / the app-pool identity for anonymous access) has no NTFS read permission on the file.',
    fixes: ['grantRead', 'log'],
  },
  '401.5': {
    cause: 'insufficient-role',
    meaning: 'Authorization failed by an ISAPI/CGI application.',
    fixes: ['log', 'failedRequestTracing'],
  },
  '403.1': {
    cause: 'path-forbidden',
    meaning: 'Execute access forbidden: the handler mapping’s access policy does not allow Script/Execute here.',
    fixes: ['allowExecute', 'log'],
  },
  '403.2': {
    cause: 'path-forbidden',
    meaning: 'Read access forbidden by the handler mappings’ access policy.',
    fixes: ['allowRead', 'log'],
  },
  '403.4': {
    cause: 'wrong-endpoint',
    meaning: 'SSL required: the site demands HTTPS and the request came over plain HTTP.',
    fixes: ['useHttps'],
  },
  '403.5': {
    cause: 'wrong-endpoint',
    meaning: 'SSL 128 required: the connection’s cipher is weaker than the site allows.',
    fixes: ['log'],
  },
  '403.6': {
    cause: 'ip-restricted',
    meaning: 'IP address rejected by the IP Address and Domain Restrictions rules.',
    fixes: [],
  },
  '403.7': {
    cause: 'credential-missing',
    meaning:
      'Client certificate required: the site’s SSL Settings require a client certificate and none was presented.',
    fixes: ['clientCertificate'],
  },
  '403.8': { cause: 'ip-restricted', meaning: 'Site access denied by a domain-name restriction rule.', fixes: [] },
  '403.12': {
    cause: 'insufficient-role',
    meaning: 'Mapper denied access: the client certificate maps to an account not allowed here.',
    fixes: ['log'],
  },
  '403.13': { cause: 'credential-invalid', meaning: 'The client certificate is revoked.', fixes: ['log'] },
  '403.14': {
    cause: 'directory-listing',
    meaning:
      'Directory listing denied: the URL names a directory, no default document exists there, and directory browsing is off.',
    fixes: [],
  },
  '403.16': {
    cause: 'credential-invalid',
    meaning:
      'The client certificate is untrusted or invalid (its issuing CA is not in the server’s Trusted Root store).',
    fixes: ['trustClientCa'],
  },
  '403.17': {
    cause: 'credential-expired',
    meaning: 'The client certificate has expired or is not yet valid.',
    fixes: ['log'],
  },
  '403.18': {
    cause: 'path-forbidden',
    meaning: 'The URL cannot be executed in the application pool configured for it.',
    fixes: ['log', 'failedRequestTracing'],
  },
  '403.19': {
    cause: 'path-forbidden',
    meaning: 'CGI applications cannot run in this application pool.',
    fixes: ['log'],
  },
  '403.501': {
    cause: 'rate-limited',
    meaning: 'Dynamic IP Restrictions: too many concurrent requests from this address.',
    fixes: [],
  },
  '403.502': {
    cause: 'rate-limited',
    meaning: 'Dynamic IP Restrictions: too many requests from this address within the configured period.',
    fixes: [],
  },
  '403.503': {
    cause: 'ip-restricted',
    meaning: 'The IP address is on the site’s deny list (IP Address and Domain Restrictions).',
    fixes: [],
  },
  '403.504': { cause: 'ip-restricted', meaning: 'The host name is rejected by a domain restriction rule.', fixes: [] },
};

function fixesFor(code: string, sub: Sub): IisFix[] {
  if (code === '403.14') return ['defaultDocument', 'directoryBrowse', 'aspnetRouting', 'log'];
  if (code === '403.6' || code === '403.8' || code === '403.503' || code === '403.504')
    return ['ipRestrictions', 'log'];
  if (code === '403.501' || code === '403.502') return ['dynamicIp', 'log'];
  return sub.fixes.length ? sub.fixes : ['log', 'failedRequestTracing'];
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
    const known = SUBSTATUS[code];
    if (!known) {
      report.note(`IIS substatus ${code}: see ${STATUS_CODES}`);
      return;
    }
    report.claim(known.cause, 'substatus', 0.9, {
      data: { code, meaning: known.meaning },
      evidence: [source],
      fixes: fixesFor(code, known),
    });
    // IIS's own page for 401.2 also names a proxy that rewrote the authentication headers.
    if (code === '401.2')
      report.claim('credential-malformed', 'schemeOrProxy', 0.35, {
        evidence: [source],
        fixes: ['authScheme', 'log'],
      });
  },
});
