// A real Tomcat 10 from Debian's packages (tomcat10, tomcat10-admin for the
// Manager app), run with `catalina.sh run` from /usr/share/tomcat10 and its
// own CATALINA_BASE in a temp dir: a minimal server.xml (one HTTP connector
// on 127.0.0.1, shutdown port -1), Debian's web.xml, a tomcat-users.xml with
// fake users, and the contexts declared in conf/Catalina/localhost/:
//   /manager, /reports          no address valve: the 401s and the role 403s
//                               come from the authenticator
//   /lan/manager, /lan/reports  the same apps behind a RemoteAddrValve that
//                               excludes 127.0.0.1: the 403 comes from the
//                               valve, before any authentication
// One JVM serves both, so the suite pays Tomcat's start once. The Host's
// AccessLogValve writes the `combined` pattern, unbuffered, to
// TOMCAT_ACCESS_LOG under the server dir.
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import {
  freePort,
  LOOPBACK,
  makeTempDir,
  removeDir,
  spawnServer,
  stopChild,
  waitForPort,
  type RunningServer,
  type StartOptions,
} from './common.ts';
import { send } from './http.ts';
import type { Scenario, Suite } from './scenarios.ts';

export const TOMCAT_HOME = '/usr/share/tomcat10';
export const MANAGER_DOCBASE = '/usr/share/tomcat10-admin/manager';
/** Fake users, for the throwaway server only. */
export const TOMCAT_ADMIN = { user: 'admin', password: 'admin-password', roles: 'manager-gui,report-admin' };
export const TOMCAT_STAFF = { user: 'staff', password: 'staff-password', roles: 'staff' };
/** An address range that excludes loopback: the valve's allow never matches 127.0.0.1. */
export const TOMCAT_ALLOW_ONLY = String.raw`192\.0\.2\.\d+`;
export const TOMCAT_VALVE = `<Valve className="org.apache.catalina.valves.RemoteAddrValve" allow="${TOMCAT_ALLOW_ONLY}"/>`;
export const TOMCAT_MANAGER = '/manager/html';
/** A tiny webapp of our own: a static page for everyone, /admin/ for role report-admin only. */
export const TOMCAT_APP = 'reports';
export const TOMCAT_APP_ROLE = 'report-admin';
/** Where the valve-guarded copies of the Manager and the webapp live. */
export const TOMCAT_LAN = '/lan';

export interface TomcatOptions extends StartOptions {
  /** Put the RemoteAddrValve on /manager and /reports too (the fixture capture's second run). */
  valveEverywhere?: boolean;
}

export const basicAuth = (u: { user: string; password: string }, password = u.password) =>
  `Basic ${Buffer.from(`${u.user}:${password}`).toString('base64')}`;

/** The access log the Host's AccessLogValve writes, relative to the server dir. */
export const TOMCAT_ACCESS_LOG = join('logs', 'access.log');

// https://tomcat.apache.org/tomcat-10.1-doc/config/valve.html#Access_Log_Valve
const ACCESS_LOG_VALVE =
  '<Valve className="org.apache.catalina.valves.AccessLogValve" directory="logs" prefix="access" suffix=".log" rotatable="false" buffered="false" pattern="combined" />';

function serverXml(port: number): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<Server port="-1" shutdown="SHUTDOWN">
  <Listener className="org.apache.catalina.core.JreMemoryLeakPreventionListener" />
  <GlobalNamingResources>
    <Resource name="UserDatabase" auth="Container" type="org.apache.catalina.UserDatabase"
              factory="org.apache.catalina.users.MemoryUserDatabaseFactory" pathname="conf/tomcat-users.xml" />
  </GlobalNamingResources>
  <Service name="Catalina">
    <Connector address="${LOOPBACK}" port="${port}" protocol="HTTP/1.1" connectionTimeout="5000" />
    <Engine name="Catalina" defaultHost="localhost">
      <Realm className="org.apache.catalina.realm.LockOutRealm">
        <Realm className="org.apache.catalina.realm.UserDatabaseRealm" resourceName="UserDatabase"/>
      </Realm>
      <Host name="localhost" appBase="webapps" unpackWARs="false" autoDeploy="false">
        ${ACCESS_LOG_VALVE}
      </Host>
    </Engine>
  </Service>
</Server>
`;
}

function usersXml(): string {
  const user = (u: typeof TOMCAT_ADMIN) => `  <user username="${u.user}" password="${u.password}" roles="${u.roles}"/>`;
  return `<?xml version="1.0" encoding="UTF-8"?>
<tomcat-users xmlns="http://tomcat.apache.org/xml" version="1.0">
  <role rolename="manager-gui"/>
  <role rolename="${TOMCAT_APP_ROLE}"/>
  <role rolename="${TOMCAT_STAFF.roles}"/>
${user(TOMCAT_ADMIN)}
${user(TOMCAT_STAFF)}
</tomcat-users>
`;
}

function contextXml(attrs: string, valve?: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<Context ${attrs}>
${valve ? `  ${valve}\n` : ''}</Context>
`;
}

const APP_WEB_XML = `<?xml version="1.0" encoding="UTF-8"?>
<web-app xmlns="https://jakarta.ee/xml/ns/jakartaee" version="6.0">
  <security-constraint>
    <web-resource-collection><web-resource-name>admin</web-resource-name><url-pattern>/admin/*</url-pattern></web-resource-collection>
    <auth-constraint><role-name>${TOMCAT_APP_ROLE}</role-name></auth-constraint>
  </security-constraint>
  <login-config><auth-method>BASIC</auth-method><realm-name>Reports</realm-name></login-config>
  <security-role><role-name>${TOMCAT_APP_ROLE}</role-name></security-role>
</web-app>
`;

function makeBase(dir: string, port: number, valveEverywhere: boolean): void {
  const conf = join(dir, 'conf');
  const contexts = join(conf, 'Catalina', 'localhost');
  mkdirSync(contexts, { recursive: true });
  for (const d of ['logs', 'webapps', 'work', 'temp']) mkdirSync(join(dir, d));
  for (const f of ['web.xml', 'catalina.properties', 'logging.properties', 'context.xml'])
    copyFileSync(join('/etc/tomcat10', f), join(conf, f));
  writeFileSync(join(conf, 'server.xml'), serverXml(port));
  writeFileSync(join(conf, 'tomcat-users.xml'), usersXml());
  // Outside appBase, so the Host does not deploy it a second time on its own.
  const app = join(dir, 'apps', TOMCAT_APP);
  mkdirSync(join(app, 'WEB-INF'), { recursive: true });
  mkdirSync(join(app, 'admin'));
  writeFileSync(join(app, 'WEB-INF', 'web.xml'), APP_WEB_XML);
  writeFileSync(join(app, 'index.html'), '<p>public reports</p>\n');
  writeFileSync(join(app, 'admin', 'index.html'), '<p>report admin</p>\n');
  const manager = (path: string, valve?: string) =>
    contextXml(`path="${path}" docBase="${MANAGER_DOCBASE}" antiResourceLocking="false" privileged="true"`, valve);
  const reports = (path: string, valve?: string) => contextXml(`path="${path}" docBase="${app}"`, valve);
  const main = valveEverywhere ? TOMCAT_VALVE : undefined;
  writeFileSync(join(contexts, 'manager.xml'), manager('/manager', main));
  writeFileSync(join(contexts, `${TOMCAT_APP}.xml`), reports(`/${TOMCAT_APP}`, main));
  // "lan#manager.xml" is how Tomcat names the descriptor of the context path /lan/manager.
  const lan = TOMCAT_LAN.slice(1);
  writeFileSync(join(contexts, `${lan}#manager.xml`), manager(`${TOMCAT_LAN}/manager`, TOMCAT_VALVE));
  writeFileSync(join(contexts, `${lan}#${TOMCAT_APP}.xml`), reports(`${TOMCAT_LAN}/${TOMCAT_APP}`, TOMCAT_VALVE));
}

/** Why Tomcat cannot run here, or undefined. */
export function tomcatMissing(): string | undefined {
  if (!existsSync(join(TOMCAT_HOME, 'bin', 'catalina.sh')))
    return 'Tomcat 10 is not installed (Debian package tomcat10, with openjdk-17-jre-headless)';
  if (!existsSync(join(MANAGER_DOCBASE, 'WEB-INF', 'web.xml')))
    return 'the Tomcat Manager app is not installed (Debian package tomcat10-admin)';
  return undefined;
}

export async function startTomcat(opts: TomcatOptions = {}): Promise<RunningServer> {
  const port = opts.port || (await freePort());
  const dir = makeTempDir('tomcat', opts.dir);
  makeBase(dir, port, opts.valveEverywhere ?? false);
  // C1 only and a small heap: Tomcat serves a handful of requests, start time matters more than peak speed.
  const env = {
    ...process.env,
    CATALINA_HOME: TOMCAT_HOME,
    CATALINA_BASE: dir,
    CATALINA_TMPDIR: join(dir, 'temp'),
    JAVA_OPTS: '-Xmx256m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Djava.awt.headless=true',
  };
  const { child, output } = spawnServer(join(TOMCAT_HOME, 'bin', 'catalina.sh'), ['run'], { env, cwd: dir });
  try {
    await waitForPort(port, child, 60_000, () => `\n${output()}`);
  } catch (e) {
    await stopChild(child, 10_000);
    removeDir(dir);
    throw e;
  }
  const version = /Server version name:\s*(.+)/.exec(output())?.[1]?.trim() ?? tomcatVersion();
  return {
    origin: `http://${LOOPBACK}:${port}`,
    port,
    dir,
    pid: child.pid!,
    version,
    errorLog: () =>
      output()
        .split('\n')
        .filter((l) => /\b(SEVERE|WARNING)\b/.test(l)),
    async stop() {
      await stopChild(child, 10_000);
      removeDir(dir);
    },
  };
}

export function tomcatVersion(): string {
  const out = execFileSync(join(TOMCAT_HOME, 'bin', 'version.sh'), {
    encoding: 'utf8',
    env: { ...process.env, CATALINA_HOME: TOMCAT_HOME },
  });
  return /Server version:\s*(.+)/.exec(out)?.[1]?.trim() ?? 'Apache Tomcat 10';
}

/** Requests the same server must answer 200: what shows the denials below are the valve's and the constraint's, not a broken setup. */
export const TOMCAT_CONTROLS: { path: string; headers: Record<string, string> }[] = [
  { path: TOMCAT_MANAGER, headers: { Authorization: basicAuth(TOMCAT_ADMIN) } },
  { path: `/${TOMCAT_APP}/admin/index.html`, headers: { Authorization: basicAuth(TOMCAT_ADMIN) } },
  { path: `/${TOMCAT_APP}/index.html`, headers: {} },
];

/** Throws unless every control answers 200. */
export async function checkTomcatControls(origin: string): Promise<void> {
  for (const c of TOMCAT_CONTROLS) {
    const got = (await send('GET', origin + c.path, c.headers)).response.status;
    if (got !== 200) throw new Error(`control ${c.path} got ${got}, expected 200: the labels would not be trustworthy`);
  }
}

const MANAGER_CONSTRAINT =
  'the Manager’s own web.xml: security-constraint on /html/* for role manager-gui, BASIC login-config realm "Tomcat Manager Application"';
const scenario = (
  name: string,
  cause: Scenario['label']['cause'],
  status: number,
  config: string,
  path: string,
  headers?: Record<string, string>,
  ambiguous?: Scenario['ambiguous'],
): Scenario => ({
  name,
  label: { product: 'tomcat', layer: 'web-server', cause },
  ...(ambiguous ? { ambiguous } : {}),
  config,
  status,
  plan: async () => ({ method: 'GET', path, ...(headers ? { headers } : {}) }),
});

export const tomcatSuite: Suite = {
  id: 'tomcat',
  product: 'tomcat',
  rule: 'tomcat',
  capturePort: 18191,
  start: (o) => startTomcat({ ...o }),
  missing: tomcatMissing,
  scenarios: [
    scenario(
      'manager-no-credentials',
      'credential-missing',
      401,
      `${MANAGER_CONSTRAINT}; no Authorization header sent`,
      TOMCAT_MANAGER,
    ),
    scenario(
      'manager-wrong-password',
      'credential-invalid',
      401,
      `${MANAGER_CONSTRAINT}; user ${TOMCAT_ADMIN.user} (exists in tomcat-users.xml with manager-gui) with a wrong password (fake)`,
      TOMCAT_MANAGER,
      { Authorization: basicAuth(TOMCAT_ADMIN, 'wrong-password') },
    ),
    // The Manager answers its address valve with this same page, so the valve stays a look-alike.
    scenario(
      'manager-missing-role',
      'insufficient-role',
      403,
      `${MANAGER_CONSTRAINT}; user ${TOMCAT_STAFF.user} authenticates (right password, fake) but tomcat-users.xml gives it only role "${TOMCAT_STAFF.roles}"`,
      TOMCAT_MANAGER,
      { Authorization: basicAuth(TOMCAT_STAFF) },
      ['ip-restricted'],
    ),
    scenario(
      'webapp-missing-role',
      'insufficient-role',
      403,
      `webapp /${TOMCAT_APP} whose web.xml security-constraint gives /admin/* to role ${TOMCAT_APP_ROLE} only; user ${TOMCAT_STAFF.user} authenticates (fake password) but holds only role "${TOMCAT_STAFF.roles}"`,
      `/${TOMCAT_APP}/admin/index.html`,
      { Authorization: basicAuth(TOMCAT_STAFF) },
    ),
    scenario(
      'manager-remote-addr-valve',
      'ip-restricted',
      403,
      `the Manager at ${TOMCAT_LAN}/manager with \`${TOMCAT_VALVE}\` in its context; the client ${LOOPBACK} is outside it; the credentials sent (user ${TOMCAT_ADMIN.user}, manager-gui, fake) get 200 at /manager`,
      `${TOMCAT_LAN}${TOMCAT_MANAGER}`,
      { Authorization: basicAuth(TOMCAT_ADMIN) },
      ['insufficient-role'],
    ),
    scenario(
      'webapp-remote-addr-valve',
      'ip-restricted',
      403,
      `webapp at ${TOMCAT_LAN}/${TOMCAT_APP} with \`${TOMCAT_VALVE}\` in its context; the client ${LOOPBACK} is outside it; the page is public (no security-constraint) and answers 200 at /${TOMCAT_APP}`,
      `${TOMCAT_LAN}/${TOMCAT_APP}/index.html`,
    ),
  ],
};
