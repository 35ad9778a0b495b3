// Every denial the real servers are made to produce, in one place: the fixture
// capture (scripts/capture/servers.ts) and the end-to-end tests (test/e2e/)
// send exactly these requests. A scenario's label is what the generated
// config makes the request hit, never what a rule concludes; `ambiguous`
// lists the causes the response alone cannot tell apart from it.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { CauseId, Layer, Product } from '../../src/model/vocabulary.ts';
import type { RunningServer, StartOptions } from './common.ts';
import { NGINX_BASIC_USER, NGINX_REALM, startNginx } from './nginx.ts';
import { APACHE_BASIC_USER, APACHE_REALM, startApache } from './apache.ts';
import { djangoCsrfCookie, djangoLogin, PYTHON, startDjango } from './django.ts';
import { EXPRESS_AUDIENCE, EXPRESS_REQUIRED_SCOPE, expressCsrf, mintToken, startExpress } from './express.ts';

export interface PlannedRequest {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
  /** Said in the fixture's source: how the request's credential was obtained. */
  note?: string;
}

export interface Scenario {
  /** Fixture file name without .json. */
  name: string;
  label: { product: Product; layer: Layer; cause: CauseId };
  ambiguous?: CauseId[];
  /** The configuration or code that denies this request: what the label rests on. */
  config: string;
  status: number;
  plan(server: RunningServer): Promise<PlannedRequest>;
}

export interface Suite {
  id: string;
  product: Product;
  /** src/rules/<rule>/fixtures receives this suite's captures. */
  rule: string;
  /** Fixed port used by the capture, so captured fixtures do not change between captures. */
  capturePort: number;
  start(opts?: StartOptions): Promise<RunningServer>;
  /** Why this server cannot run on this machine (a missing package), or undefined. */
  missing(): string | undefined;
  scenarios: Scenario[];
}

function onPath(cmd: string): boolean {
  return (process.env.PATH ?? '').split(':').some((d) => d && existsSync(join(d, cmd)));
}
const needs = (cmd: string, pkg: string) => () =>
  onPath(cmd) || existsSync(join('/usr/sbin', cmd)) ? undefined : `${cmd} is not installed (Debian package ${pkg})`;
const needsDjango = () => {
  try {
    execFileSync(PYTHON, ['-c', 'import django'], { stdio: 'ignore', timeout: 10_000 });
    return undefined;
  } catch {
    return `Django is not importable by ${PYTHON} (Debian package python3-django)`;
  }
};

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const FORM = 'application/x-www-form-urlencoded';
/** nginx and Apache answer these with one page; only the request's shape and the error log tell them apart. */
const WEB_SERVER_403: CauseId[] = ['path-forbidden', 'ip-restricted', 'filesystem-permission'];
const others = (cause: CauseId, extra: CauseId[] = []): CauseId[] =>
  [...WEB_SERVER_403, ...extra].filter((c) => c !== cause);

function webServerScenario(
  product: 'nginx' | 'apache-httpd',
  name: string,
  cause: CauseId,
  status: number,
  config: string,
  method: string,
  path: string,
  headers?: Record<string, string>,
): Scenario {
  const ambiguous = status === 403 ? others(cause) : undefined;
  return {
    name,
    label: { product, layer: 'web-server', cause },
    ...(ambiguous ? { ambiguous } : {}),
    config,
    status,
    plan: async () => {
      const h = { ...(method === 'POST' ? { 'Content-Type': FORM } : {}), ...headers };
      return {
        method,
        path,
        ...(Object.keys(h).length ? { headers: h } : {}),
        ...(method === 'POST' ? { body: 'title=quarterly' } : {}),
      };
    },
  };
}

const nginx: Suite = {
  id: 'nginx',
  product: 'nginx',
  rule: 'nginx',
  capturePort: 18081,
  start: startNginx,
  missing: needs('nginx', 'nginx'),
  scenarios: [
    webServerScenario(
      'nginx',
      'deny-all',
      'path-forbidden',
      403,
      '`location /private/ { deny all; }`',
      'GET',
      '/private/a.txt',
    ),
    webServerScenario(
      'nginx',
      'ip-rule',
      'ip-restricted',
      403,
      '`location /office/ { allow 192.0.2.0/24; deny all; }`, client 127.0.0.1',
      'GET',
      '/office/report.txt',
    ),
    webServerScenario(
      'nginx',
      'directory-no-index',
      'directory-listing',
      403,
      '`location /files/ { autoindex off; }`, /files/ holds a.txt and no index.html',
      'GET',
      '/files/',
    ),
    webServerScenario(
      'nginx',
      'unreadable-file',
      'filesystem-permission',
      403,
      'file /secret.txt is root:root 0600 and the workers run as www-data (`user www-data;`)',
      'GET',
      '/secret.txt',
    ),
    webServerScenario(
      'nginx',
      'hidden-file',
      'path-forbidden',
      403,
      '`location ~ /\\. { deny all; }`, request for /.env',
      'GET',
      '/.env',
    ),
    webServerScenario(
      'nginx',
      'limit-except',
      'method-not-allowed',
      403,
      '`location /upload/ { limit_except GET { deny all; } }`, POST',
      'POST',
      '/upload/data.txt',
    ),
    webServerScenario(
      'nginx',
      'basic-auth-missing',
      'credential-missing',
      401,
      `\`location /admin/ { auth_basic "${NGINX_REALM}"; auth_basic_user_file …; }\`, no Authorization sent`,
      'GET',
      '/admin/index.html',
    ),
    webServerScenario(
      'nginx',
      'basic-auth-wrong-password',
      'credential-invalid',
      401,
      `\`location /admin/ { auth_basic "${NGINX_REALM}"; auth_basic_user_file …; }\`, user ${NGINX_BASIC_USER} with a wrong password (fake)`,
      'GET',
      '/admin/index.html',
      { Authorization: basic(NGINX_BASIC_USER, 'wrong-password') },
    ),
    webServerScenario(
      'nginx',
      'basic-auth-wrong-scheme',
      'credential-malformed',
      401,
      `\`location /admin/ { auth_basic "${NGINX_REALM}"; auth_basic_user_file …; }\`, a Bearer token (fake) sent instead of Basic credentials`,
      'GET',
      '/admin/index.html',
      { Authorization: 'Bearer fake-opaque-token-0123456789' },
    ),
  ],
};

const apacheScenarios = (prefix = ''): Scenario[] => [
  webServerScenario(
    'apache-httpd',
    `${prefix}require-all-denied`,
    'path-forbidden',
    403,
    '`<Directory …/private> Require all denied </Directory>`',
    'GET',
    '/private/a.txt',
  ),
  webServerScenario(
    'apache-httpd',
    `${prefix}require-ip`,
    'ip-restricted',
    403,
    '`<Directory …/office> Require ip 192.0.2.0/24 </Directory>`, client 127.0.0.1',
    'GET',
    '/office/report.txt',
  ),
  webServerScenario(
    'apache-httpd',
    `${prefix}directory-no-index`,
    'directory-listing',
    403,
    '`<Directory …/files> Options -Indexes </Directory>`, /files/ holds a.txt and no index.html, mod_autoindex loaded',
    'GET',
    '/files/',
  ),
  webServerScenario(
    'apache-httpd',
    `${prefix}unreadable-file`,
    'filesystem-permission',
    403,
    'file /secret.txt is root:root 0600 and the children run as www-data (`User www-data`)',
    'GET',
    '/secret.txt',
  ),
  webServerScenario(
    'apache-httpd',
    `${prefix}htaccess-file`,
    'path-forbidden',
    403,
    '`<FilesMatch "^\\.ht"> Require all denied </FilesMatch>` (as in Debian\'s stock apache2.conf), request for /.htaccess',
    'GET',
    '/.htaccess',
  ),
  webServerScenario(
    'apache-httpd',
    `${prefix}limit-except`,
    'method-not-allowed',
    403,
    '`<Directory …/upload> <LimitExcept GET> Require all denied </LimitExcept> </Directory>`, POST',
    'POST',
    '/upload/data.txt',
  ),
  webServerScenario(
    'apache-httpd',
    `${prefix}basic-auth-missing`,
    'credential-missing',
    401,
    `\`AuthType Basic\`, \`AuthName "${APACHE_REALM}"\`, \`Require valid-user\` on /admin, no Authorization sent`,
    'GET',
    '/admin/index.html',
  ),
  webServerScenario(
    'apache-httpd',
    `${prefix}basic-auth-wrong-password`,
    'credential-invalid',
    401,
    `\`AuthType Basic\`, \`AuthName "${APACHE_REALM}"\`, \`Require valid-user\` on /admin, user ${APACHE_BASIC_USER} with a wrong password (fake)`,
    'GET',
    '/admin/index.html',
    { Authorization: basic(APACHE_BASIC_USER, 'wrong-password') },
  ),
  webServerScenario(
    'apache-httpd',
    `${prefix}basic-auth-wrong-scheme`,
    'credential-malformed',
    401,
    `\`AuthType Basic\`, \`AuthName "${APACHE_REALM}"\`, \`Require valid-user\` on /admin, a Bearer token (fake) sent instead of Basic credentials`,
    'GET',
    '/admin/index.html',
    { Authorization: 'Bearer fake-opaque-token-0123456789' },
  ),
];

const apache: Suite = {
  id: 'apache',
  product: 'apache-httpd',
  rule: 'apache-httpd',
  capturePort: 18082,
  start: (o) => startApache({ ...o }),
  missing: needs('apache2', 'apache2'),
  scenarios: apacheScenarios(),
};

/** The same server with `ServerTokens Prod` and `ServerSignature Off`: no version, no page footer. */
const apacheHardened: Suite = {
  id: 'apache-hardened',
  product: 'apache-httpd',
  rule: 'apache-httpd',
  capturePort: 18083,
  start: (o) => startApache({ ...o, hardened: true }),
  missing: needs('apache2', 'apache2'),
  scenarios: apacheScenarios('hardened-')
    .filter((s) => /require-all-denied|directory-no-index|basic-auth-missing/.test(s.name))
    .map((s) => ({ ...s, config: `${s.config}; \`ServerTokens Prod\`, \`ServerSignature Off\`` })),
};

const djangoCsrf = (name: string, config: string, plan: Scenario['plan']): Scenario => ({
  name,
  label: { product: 'django', layer: 'application', cause: 'csrf' },
  config,
  status: 403,
  plan,
});

/** Django's plain 403 page is the same for every PermissionDenied; the session cookie is what differs. */
const DJANGO_PERMISSION: CauseId[] = ['insufficient-role', 'not-owner', 'credential-missing'];

const djangoPermissionScenarios: Scenario[] = [
  {
    name: 'permission-required',
    label: { product: 'django', layer: 'application', cause: 'insufficient-role' },
    ambiguous: ['not-owner'],
    config:
      "`@permission_required('auth.delete_user', raise_exception=True)` on /reports/delete/; logged-in user alice holds no permissions",
    status: 403,
    plan: async (s) => ({
      method: 'GET',
      path: '/reports/delete/',
      headers: { Cookie: await djangoLogin(s.origin) },
      note: 'session cookie from logging in through Django’s LoginView on the throwaway server',
    }),
  },
  {
    name: 'not-owner',
    label: { product: 'django', layer: 'application', cause: 'not-owner' },
    ambiguous: ['insufficient-role'],
    config:
      "`@login_required` view for /reports/<team>/ that raises PermissionDenied('This report belongs to another team.') unless team == request.user.username; alice asks for /reports/bob/",
    status: 403,
    plan: async (s) => ({
      method: 'GET',
      path: '/reports/bob/',
      headers: { Cookie: await djangoLogin(s.origin) },
      note: 'session cookie from logging in through Django’s LoginView on the throwaway server',
    }),
  },
  {
    name: 'permission-required-anonymous',
    label: { product: 'django', layer: 'application', cause: 'credential-missing' },
    ambiguous: DJANGO_PERMISSION.filter((c) => c !== 'credential-missing'),
    config:
      "`@permission_required('auth.delete_user', raise_exception=True)` on /reports/delete/; no session cookie sent (anonymous user)",
    status: 403,
    plan: async () => ({ method: 'GET', path: '/reports/delete/' }),
  },
];

const django: Suite = {
  id: 'django',
  product: 'django',
  rule: 'django',
  capturePort: 18084,
  start: (o) => startDjango({ ...o, debug: false }),
  missing: needsDjango,
  scenarios: [
    djangoCsrf(
      'csrf-cookie-not-set',
      'CsrfViewMiddleware, DEBUG = False; POST /form/ without the csrftoken cookie (reason "CSRF cookie not set.")',
      async () => ({ method: 'POST', path: '/form/', headers: { 'Content-Type': FORM }, body: 'title=quarterly' }),
    ),
    djangoCsrf(
      'csrf-token-missing',
      'CsrfViewMiddleware, DEBUG = False; POST /form/ with the csrftoken cookie but no csrfmiddlewaretoken field (reason "CSRF token missing or incorrect.")',
      async (s) => ({
        method: 'POST',
        path: '/form/',
        headers: { 'Content-Type': FORM, Cookie: `csrftoken=${await djangoCsrfCookie(s.origin)}` },
        body: 'title=quarterly',
        note: 'csrftoken cookie from GET /form/ on the throwaway server',
      }),
    ),
    djangoCsrf(
      'csrf-no-referer-https',
      'CsrfViewMiddleware, DEBUG = False, SECURE_PROXY_SSL_HEADER = (HTTP_X_FORWARDED_PROTO, https); POST /form/ as HTTPS (X-Forwarded-Proto: https, as the TLS proxy in front sends it) with cookie and token but no Referer (reason "Referer checking failed - no Referer.")',
      async (s) => {
        const c = await djangoCsrfCookie(s.origin);
        return {
          method: 'POST',
          path: '/form/',
          headers: { 'Content-Type': FORM, Cookie: `csrftoken=${c}`, 'X-Forwarded-Proto': 'https' },
          body: `title=quarterly&csrfmiddlewaretoken=${c}`,
          note: 'csrftoken cookie from GET /form/ on the throwaway server',
        };
      },
    ),
    ...djangoPermissionScenarios,
  ],
};

const djangoDebug: Suite = {
  id: 'django-debug',
  product: 'django',
  rule: 'django',
  capturePort: 18085,
  start: (o) => startDjango({ ...o, debug: true }),
  missing: needsDjango,
  scenarios: [
    djangoCsrf(
      'debug-csrf-cookie-not-set',
      'CsrfViewMiddleware, DEBUG = True; POST /form/ without the csrftoken cookie',
      async () => ({ method: 'POST', path: '/form/', headers: { 'Content-Type': FORM }, body: 'title=quarterly' }),
    ),
    djangoCsrf(
      'debug-csrf-token-incorrect',
      'CsrfViewMiddleware, DEBUG = True; POST /form/ with the csrftoken cookie and a wrong csrfmiddlewaretoken',
      async (s) => ({
        method: 'POST',
        path: '/form/',
        headers: { 'Content-Type': FORM, Cookie: `csrftoken=${await djangoCsrfCookie(s.origin)}` },
        body: `title=quarterly&csrfmiddlewaretoken=${'x'.repeat(64)}`,
        note: 'csrftoken cookie from GET /form/ on the throwaway server',
      }),
    ),
  ],
};

const TOKEN_NOTE =
  'a real JWT minted at capture time by the app’s loopback-only /test/token endpoint with a throwaway RS256 key generated at app start (test/servers/express-app.ts); it is nobody’s secret and the key is gone';
const API = '/api/reports';
const bearerScenario = (
  name: string,
  cause: CauseId,
  status: number,
  config: string,
  token: Parameters<typeof mintToken>[1] | 'none' | string,
): Scenario => ({
  name,
  label: { product: 'express', layer: 'application', cause },
  config: `express-oauth2-jwt-bearer \`auth({ issuerBaseURL: <the app itself>, audience: '${EXPRESS_AUDIENCE}' })\` and \`requiredScopes('${EXPRESS_REQUIRED_SCOPE}')\` on GET ${API}, Express's default error handler; ${config}`,
  status,
  plan: async (s) => {
    if (token === 'none') return { method: 'GET', path: API };
    if (typeof token === 'string') return { method: 'GET', path: API, headers: { Authorization: token } };
    const minted = await mintToken(s.origin, token);
    return { method: 'GET', path: API, headers: { Authorization: `Bearer ${minted.token}` }, note: TOKEN_NOTE };
  },
});

const expressCsrfScenario = (name: string, config: string, withCookie: boolean): Scenario => ({
  name,
  label: { product: 'express', layer: 'application', cause: 'csrf' },
  config: `csurf \`csurf({ cookie: true })\` with cookie-parser on POST /form, Express's default error handler; ${config}`,
  status: 403,
  plan: async (s): Promise<PlannedRequest> => {
    if (!withCookie)
      return { method: 'POST', path: '/form', headers: { 'Content-Type': FORM }, body: 'title=quarterly' };
    const c = await expressCsrf(s.origin);
    return {
      method: 'POST',
      path: '/form',
      headers: { 'Content-Type': FORM, Cookie: c.cookie },
      body: 'title=quarterly&_csrf=not-the-token',
      note: 'the _csrf secret cookie from GET /form on the throwaway app',
    };
  },
});

const express: Suite = {
  id: 'express',
  product: 'express',
  rule: 'express',
  capturePort: 18086,
  start: (o) => startExpress({ ...o, nodeEnv: 'development' }),
  missing: () => undefined,
  scenarios: [
    expressCsrfScenario(
      'csrf-no-cookie',
      'NODE_ENV unset (development); POST without the _csrf cookie or a token',
      false,
    ),
    expressCsrfScenario(
      'csrf-bad-token',
      'NODE_ENV unset (development); POST with the _csrf cookie and a wrong _csrf field',
      true,
    ),
    bearerScenario('jwt-missing', 'credential-missing', 401, 'no Authorization header', 'none'),
    bearerScenario(
      'jwt-expired',
      'credential-expired',
      401,
      'a token for the right audience and scope whose exp is one hour past',
      { scope: EXPRESS_REQUIRED_SCOPE, expiresIn: -3600 },
    ),
    bearerScenario('jwt-not-yet-valid', 'credential-not-yet-valid', 401, 'a token whose nbf is one hour ahead', {
      scope: EXPRESS_REQUIRED_SCOPE,
      notBefore: 3600,
    }),
    bearerScenario(
      'jwt-wrong-audience',
      'wrong-audience',
      401,
      'a token issued for the audience https://billing.example.test/api',
      { scope: EXPRESS_REQUIRED_SCOPE, aud: 'https://billing.example.test/api' },
    ),
    bearerScenario(
      'jwt-bad-signature',
      'credential-invalid',
      401,
      'a token signed by a key the JWKS does not publish (same kid)',
      { scope: EXPRESS_REQUIRED_SCOPE, key: 'stranger' },
    ),
    bearerScenario('jwt-malformed', 'credential-malformed', 401, 'Authorization: Bearer not-a-jwt', 'Bearer not-a-jwt'),
    bearerScenario(
      'jwt-insufficient-scope',
      'insufficient-scope',
      403,
      'a valid token with scope "write:reports" only',
      { scope: 'write:reports' },
    ),
  ],
};

const expressProduction: Suite = {
  id: 'express-production',
  product: 'express',
  rule: 'express',
  capturePort: 18087,
  start: (o) => startExpress({ ...o, nodeEnv: 'production' }),
  missing: () => undefined,
  scenarios: [
    expressCsrfScenario(
      'production-csrf-bad-token',
      'NODE_ENV=production (the error page says only "Forbidden"); POST with the _csrf cookie and a wrong _csrf field',
      true,
    ),
    expressCsrfScenario(
      'production-csrf-no-cookie',
      'NODE_ENV=production (the error page says only "Forbidden"); POST without the _csrf cookie or a token',
      false,
    ),
    {
      ...bearerScenario(
        'production-jwt-expired',
        'credential-expired',
        401,
        'NODE_ENV=production; a token whose exp is one hour past',
        { scope: EXPRESS_REQUIRED_SCOPE, expiresIn: -3600 },
      ),
    },
  ],
};

export const SUITES: Suite[] = [nginx, apache, apacheHardened, django, djangoDebug, express, expressProduction];
