// IIS names the exact reason for every 401/403 in a substatus (403.14, 401.2,
// 403.503…): in its detailed error page ("HTTP Error 403.14 - Forbidden",
// title "IIS 10.0 Detailed Error - 403.14 - Forbidden") and always in the
// W3C log's sc-substatus field. The custom (remote) error page hides it, so
// without the detailed page the log is the place to read it.
import { defineProducer, ev, signals, type Context, type Evidence, type Fix } from '../define.ts';
import { namedServer } from '../_lib/server-header.ts';

const STATUS_CODES =
  'https://learn.microsoft.com/en-us/troubleshoot/developer/webapps/iis/health-diagnostic-performance/http-status-code';

const LOG_FIX: Fix = {
  title: 'Read the substatus IIS logged for this request (sc-status sc-substatus sc-win32-status)',
  difficulty: 'easy',
  commands: [
    'Get-Content "$env:SystemDrive\\inetpub\\logs\\LogFiles\\W3SVC*\\u_ex$(Get-Date -Format yyMMdd).log" -Tail 50 | Select-String " 40[13] "',
  ],
  verify: 'The line for your request shows the same status and substatus after the fix is gone (e.g. 200 0 0).',
  docs: STATUS_CODES,
};

const FRT_FIX: Fix = {
  title: 'Trace the request with Failed Request Tracing to see which module set the status',
  difficulty: 'medium',
  commands: [
    '%windir%\\system32\\inetsrv\\appcmd.exe configure trace "SITE_NAME" /enablesite',
    '%windir%\\system32\\inetsrv\\appcmd.exe configure trace "SITE_NAME/" /enable /statuscodes:401-403',
  ],
  verify:
    'The trace in %SystemDrive%\\inetpub\\logs\\FailedReqLogFiles names the module (e.g. DirectoryListingModule, IpRestrictionModule) and the substatus.',
  docs: 'https://learn.microsoft.com/en-us/iis/troubleshoot/using-failed-request-tracing/troubleshooting-failed-requests-using-tracing-in-iis',
};

const APPCMD = '%windir%\\system32\\inetsrv\\appcmd.exe';

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

interface Sub {
  cause: IisCause;
  meaning: string;
  fixes: Fix[];
}

const authFix = (what: string): Fix => ({
  title: `Check the site’s authentication methods (${what})`,
  difficulty: 'easy',
  commands: [
    `${APPCMD} list config "SITE_NAME" /section:system.webServer/security/authentication/anonymousAuthentication`,
    `${APPCMD} list config "SITE_NAME" /section:system.webServer/security/authentication/windowsAuthentication`,
  ],
  verify: 'IIS Manager → site → Authentication shows the method the client uses as Enabled.',
  docs: 'https://learn.microsoft.com/en-us/iis/configuration/system.webserver/security/authentication/',
});

const SUBSTATUS: Record<string, Sub> = {
  '401.1': {
    cause: 'credential-invalid',
    meaning:
      'Logon failed: the credentials were sent but Windows rejected them (wrong password, unknown or locked account, Kerberos/NTLM failure).',
    fixes: [authFix('the account must exist and may log on'), LOG_FIX],
  },
  '401.2': {
    cause: 'credential-missing',
    meaning:
      'Logon failed due to server configuration: the client offered no credentials for any authentication method enabled on the site (typically anonymous access disabled and the browser did not answer the challenge).',
    fixes: [authFix('enable anonymous access, or the method the client supports'), LOG_FIX],
  },
  '401.3': {
    cause: 'filesystem-permission',
    meaning:
      'Unauthorized due to an ACL on the resource: the authenticated user (or IUSR / the app-pool identity for anonymous access) has no NTFS read permission on the file.',
    fixes: [
      {
        title: 'Grant read to the identity IIS uses on the file',
        difficulty: 'easy',
        commands: [
          'icacls "C:\\inetpub\\wwwroot\\PATH" /grant "IIS_IUSRS:(OI)(CI)RX"',
          'icacls "C:\\inetpub\\wwwroot\\PATH"',
        ],
        verify: 'The request answers 200 and the log shows 200 0 0.',
      },
      LOG_FIX,
    ],
  },
  '401.5': {
    cause: 'insufficient-role',
    meaning: 'Authorization failed by an ISAPI/CGI application.',
    fixes: [LOG_FIX, FRT_FIX],
  },
  '403.1': {
    cause: 'path-forbidden',
    meaning: 'Execute access forbidden: the handler mapping’s access policy does not allow Script/Execute here.',
    fixes: [
      {
        title: 'Allow Script/Execute in Handler Mappings → Edit Feature Permissions',
        difficulty: 'medium',
        commands: [`${APPCMD} set config "SITE_NAME" /section:handlers /accessPolicy:Read,Script`],
      },
      LOG_FIX,
    ],
  },
  '403.2': {
    cause: 'path-forbidden',
    meaning: 'Read access forbidden by the handler mappings’ access policy.',
    fixes: [
      {
        title: 'Allow Read in Handler Mappings → Edit Feature Permissions',
        difficulty: 'medium',
        commands: [`${APPCMD} set config "SITE_NAME" /section:handlers /accessPolicy:Read,Script`],
      },
      LOG_FIX,
    ],
  },
  '403.4': {
    cause: 'wrong-endpoint',
    meaning: 'SSL required: the site demands HTTPS and the request came over plain HTTP.',
    fixes: [
      {
        title: 'Use the https:// URL (or relax SSL Settings → Require SSL)',
        difficulty: 'easy',
        commands: [`${APPCMD} list config "SITE_NAME" /section:system.webServer/security/access`],
        verify: 'The https:// request answers 200.',
        docs: 'https://learn.microsoft.com/en-us/iis/configuration/system.webserver/security/access',
      },
    ],
  },
  '403.5': {
    cause: 'wrong-endpoint',
    meaning: 'SSL 128 required: the connection’s cipher is weaker than the site allows.',
    fixes: [LOG_FIX],
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
    fixes: [
      {
        title: 'Present a client certificate (or set SSL Settings → Client certificates to Ignore/Accept)',
        difficulty: 'medium',
        commands: [
          'curl --cert client.pem --key client.key https://HOST/PATH',
          `${APPCMD} list config "SITE_NAME" /section:system.webServer/security/access`,
        ],
        verify: 'The log shows 200 0 0 for the request with the certificate.',
      },
    ],
  },
  '403.8': { cause: 'ip-restricted', meaning: 'Site access denied by a domain-name restriction rule.', fixes: [] },
  '403.12': {
    cause: 'insufficient-role',
    meaning: 'Mapper denied access: the client certificate maps to an account not allowed here.',
    fixes: [LOG_FIX],
  },
  '403.13': { cause: 'credential-invalid', meaning: 'The client certificate is revoked.', fixes: [LOG_FIX] },
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
    fixes: [
      {
        title:
          'Install the client certificate’s issuing CA in the server’s Trusted Root Certification Authorities store',
        difficulty: 'medium',
        commands: [
          'certlm.msc   # Trusted Root Certification Authorities → Import',
          'certutil -verify -urlfetch client.cer',
        ],
        verify: 'certutil -verify reports the chain as valid on the server; the log shows 200 0 0.',
      },
    ],
  },
  '403.17': {
    cause: 'credential-expired',
    meaning: 'The client certificate has expired or is not yet valid.',
    fixes: [LOG_FIX],
  },
  '403.18': {
    cause: 'path-forbidden',
    meaning: 'The URL cannot be executed in the application pool configured for it.',
    fixes: [LOG_FIX, FRT_FIX],
  },
  '403.19': {
    cause: 'path-forbidden',
    meaning: 'CGI applications cannot run in this application pool.',
    fixes: [LOG_FIX],
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

const ipFix: Fix = {
  title:
    'List the site’s IP Address and Domain Restrictions and add your address (IIS Manager → site → IP Address and Domain Restrictions)',
  difficulty: 'medium',
  commands: [
    `${APPCMD} list config "SITE_NAME" /section:system.webServer/security/ipSecurity`,
    `${APPCMD} set config "SITE_NAME" /section:system.webServer/security/ipSecurity /+"[ipAddress='YOUR_IP',allowed='True']" /commit:apphost`,
  ],
  verify: 'The request answers 200; the IIS log shows your c-ip with 200 0 0 instead of 403 6 / 403 503.',
  docs: 'https://learn.microsoft.com/en-us/iis/configuration/system.webserver/security/ipsecurity/',
};

const dynamicIpFix: Fix = {
  title: 'Review Dynamic IP Restrictions limits (denyByConcurrentRequests / denyByRequestRate)',
  difficulty: 'medium',
  commands: [`${APPCMD} list config "SITE_NAME" /section:system.webServer/security/dynamicIpSecurity`],
  verify: 'After the window passes or the limit is raised, the log shows 200 0 0 for your address.',
  docs: 'https://learn.microsoft.com/en-us/iis/configuration/system.webserver/security/dynamicipsecurity/',
};

const directoryFixes: Fix[] = [
  {
    title: 'Add a default document for the directory (or request a file inside it)',
    difficulty: 'easy',
    commands: [
      `${APPCMD} set config "SITE_NAME" /section:defaultDocument /enabled:true /+files.[value='index.html']`,
      `${APPCMD} list config "SITE_NAME" /section:defaultDocument`,
    ],
    verify: 'The directory URL answers 200; the IIS log shows 200 0 0 instead of 403 14.',
    docs: 'https://learn.microsoft.com/en-us/troubleshoot/developer/webapps/iis/health-diagnostic-performance/http-403-14-forbidden-webpage',
  },
  {
    title: 'Only if listings are wanted: enable directory browsing',
    difficulty: 'easy',
    commands: [`${APPCMD} set config "SITE_NAME" /section:system.webServer/directoryBrowse /enabled:true`],
    docs: 'https://learn.microsoft.com/en-us/iis/configuration/system.webserver/directorybrowse',
  },
  {
    title:
      'For an ASP.NET / ASP.NET Core app: a 403.14 on the root means routing did not run — check the deployment folder, web.config and the handler (AspNetCoreModuleV2 / ExtensionlessUrlHandler)',
    difficulty: 'medium',
    commands: [`${APPCMD} list config "SITE_NAME" /section:handlers`, 'dir C:\\inetpub\\wwwroot\\SITE\\web.config'],
    docs: 'https://learn.microsoft.com/en-us/aspnet/core/test/troubleshoot-azure-iis#40314-forbidden',
  },
];

function fixesFor(code: string, sub: Sub): Fix[] {
  if (code === '403.14') return [...directoryFixes, LOG_FIX];
  if (code === '403.6' || code === '403.8' || code === '403.503' || code === '403.504') return [ipFix, LOG_FIX];
  if (code === '403.501' || code === '403.502') return [dynamicIpFix, LOG_FIX];
  return sub.fixes.length ? sub.fixes : [LOG_FIX, FRT_FIX];
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
    description:
      'Microsoft IIS 401/403 detailed error pages with their substatus (401.1, 401.2, 403.14, 403.6/403.503, 403.4, 403.7/403.16…), and IIS headers.',
    docs: [
      STATUS_CODES,
      'https://learn.microsoft.com/en-us/troubleshoot/developer/webapps/iis/health-diagnostic-performance/http-403-14-forbidden-webpage',
      'https://learn.microsoft.com/en-us/iis/configuration/system.webserver/security/ipsecurity/',
      'https://learn.microsoft.com/en-us/iis/troubleshoot/using-failed-request-tracing/troubleshooting-failed-requests-using-tracing-in-iis',
    ],
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
    messages: {
      substatus: 'IIS {{code}}: {{meaning}}',
      schemeOrProxy:
        'IIS 401.2 also results when a proxy between client and server altered the Authorization header, or the client sent a scheme the site does not enable (e.g. Basic to a Windows-only site).',
    },
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
        fixes: [authFix('the scheme the client sends must be enabled'), LOG_FIX],
      });
  },
});
