// Captures the tomcat rule's fixtures from a real Tomcat 10 on 127.0.0.1:
//   node scripts/capture/tomcat.ts [--out DIR]
// Tomcat runs from Debian's packages (tomcat10, tomcat10-admin for the Manager
// app) with its own CATALINA_BASE in a temp dir: a minimal server.xml (one
// HTTP connector on 127.0.0.1, shutdown port -1), Debian's web.xml, a
// tomcat-users.xml with fake users, and the Manager context declared in
// conf/Catalina/localhost/manager.xml. Two runs: one where the Manager's
// address valve allows loopback (the 401s and the role 403 come from the
// authenticator), one where a RemoteAddrValve excludes 127.0.0.1 (the 403
// comes from the valve, before any authentication). Each label rests on a
// control request that the same run answers 200.
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Exchange } from '../../src/model/exchange.ts';
import { sendRequest } from '../../src/live/send.ts';
import { LOOPBACK, makeTempDir, removeDir, spawnServer, stopChild, waitForPort } from '../../test/servers/common.ts';
import { CAPTURE_USER_AGENT } from '../../test/servers/http.ts';

const ROOT = join(import.meta.dirname, '..', '..');
/** Fixed, so fixtures name the same port from one capture to the next. */
const PORT = 18191;
const TOMCAT_HOME = '/usr/share/tomcat10';
const MANAGER_DOCBASE = '/usr/share/tomcat10-admin/manager';
/** Fake users, for this capture only. */
const ADMIN = { user: 'admin', password: 'admin-password', roles: 'manager-gui,report-admin' };
const STAFF = { user: 'staff', password: 'staff-password', roles: 'staff' };
/** An address range that excludes loopback: the valve's allow never matches 127.0.0.1. */
const ALLOW_ONLY = String.raw`192\.0\.2\.\d+`;
const DOCS = {
  manager: 'https://tomcat.apache.org/tomcat-10.1-doc/manager-howto.html#Configuring_Manager_Application_Access',
  valve: 'https://tomcat.apache.org/tomcat-10.1-doc/config/valve.html#Remote_Address_Valve',
  realm: 'https://tomcat.apache.org/tomcat-10.1-doc/realm-howto.html',
};

interface Scenario {
  file: string;
  path: string;
  headers?: Record<string, string>;
  label: { product: 'tomcat'; layer: 'web-server'; cause: string };
  ambiguous?: string[];
  note: string;
  expectStatus: number;
}

interface Run {
  /** The <Valve> line put in the Manager's context, if any. */
  valve?: string;
  /** Requests this run must answer with the given status: what makes the labels trustworthy. */
  controls: { path: string; headers: Record<string, string>; expect: number }[];
  controlNote: string;
  scenarios: Scenario[];
}

const basic = (u: { user: string; password: string }, password = u.password) => `Basic ${Buffer.from(`${u.user}:${password}`).toString('base64')}`;
const MANAGER = '/manager/html';
/** A tiny webapp of our own: a static page for everyone, /admin/ for role report-admin only. */
const APP = 'reports';
const APP_ROLE = 'report-admin';

const RUNS: Run[] = [
  {
    controls: [
      { path: MANAGER, headers: { Authorization: basic(ADMIN) }, expect: 200 },
      { path: `/${APP}/admin/index.html`, headers: { Authorization: basic(ADMIN) }, expect: 200 },
      { path: `/${APP}/index.html`, headers: {}, expect: 200 },
    ],
    controlNote: `user ${ADMIN.user} (roles manager-gui,${APP_ROLE}, fake password) got 200 for ${MANAGER} and /${APP}/admin/index.html from the same run`,
    scenarios: [
      {
        file: 'manager-no-credentials.json',
        path: MANAGER,
        label: { product: 'tomcat', layer: 'web-server', cause: 'credential-missing' },
        note: 'no Authorization header sent to the Manager (BASIC login-config, realm "Tomcat Manager Application")',
        expectStatus: 401,
      },
      {
        file: 'manager-wrong-password.json',
        path: MANAGER,
        headers: { Authorization: basic(ADMIN, 'wrong-password') },
        label: { product: 'tomcat', layer: 'web-server', cause: 'credential-invalid' },
        note: `user ${ADMIN.user} (exists, role manager-gui) with a wrong password (fake)`,
        expectStatus: 401,
      },
      {
        file: 'manager-missing-role.json',
        path: MANAGER,
        headers: { Authorization: basic(STAFF) },
        label: { product: 'tomcat', layer: 'web-server', cause: 'insufficient-role' },
        // The Manager answers its address valve with this same page (see manager-remote-addr-valve.json).
        ambiguous: ['ip-restricted'],
        note: `user ${STAFF.user} authenticates (right password, fake) but holds only role "${STAFF.roles}", not manager-gui`,
        expectStatus: 403,
      },
      {
        file: 'webapp-missing-role.json',
        path: `/${APP}/admin/index.html`,
        headers: { Authorization: basic(STAFF) },
        label: { product: 'tomcat', layer: 'web-server', cause: 'insufficient-role' },
        note: `a webapp whose web.xml security-constraint gives /admin/* to role ${APP_ROLE} only; user ${STAFF.user} authenticates (fake password) but holds only role "${STAFF.roles}"`,
        expectStatus: 403,
      },
    ],
  },
  {
    valve: `<Valve className="org.apache.catalina.valves.RemoteAddrValve" allow="${ALLOW_ONLY}"/>`,
    controls: [],
    controlNote: '',
    scenarios: [
      {
        file: 'manager-remote-addr-valve.json',
        path: MANAGER,
        headers: { Authorization: basic(ADMIN) },
        label: { product: 'tomcat', layer: 'web-server', cause: 'ip-restricted' },
        // The Manager's one 403 page, the same as for a user without manager-gui.
        ambiguous: ['insufficient-role'],
        note: `RemoteAddrValve allow="${ALLOW_ONLY}" in the Manager's context; the client ${LOOPBACK} is outside it; the credentials sent (user ${ADMIN.user}, manager-gui, fake) got 200 when the valve allowed loopback`,
        expectStatus: 403,
      },
      {
        file: 'webapp-remote-addr-valve.json',
        path: `/${APP}/index.html`,
        label: { product: 'tomcat', layer: 'web-server', cause: 'ip-restricted' },
        note: `RemoteAddrValve allow="${ALLOW_ONLY}" in the webapp's context; the client ${LOOPBACK} is outside it; the page is public (no security-constraint) and answered 200 when the valve allowed loopback`,
        expectStatus: 403,
      },
    ],
  },
];

function serverXml(): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<Server port="-1" shutdown="SHUTDOWN">
  <Listener className="org.apache.catalina.core.JreMemoryLeakPreventionListener" />
  <GlobalNamingResources>
    <Resource name="UserDatabase" auth="Container" type="org.apache.catalina.UserDatabase"
              factory="org.apache.catalina.users.MemoryUserDatabaseFactory" pathname="conf/tomcat-users.xml" />
  </GlobalNamingResources>
  <Service name="Catalina">
    <Connector address="${LOOPBACK}" port="${PORT}" protocol="HTTP/1.1" connectionTimeout="5000" />
    <Engine name="Catalina" defaultHost="localhost">
      <Realm className="org.apache.catalina.realm.LockOutRealm">
        <Realm className="org.apache.catalina.realm.UserDatabaseRealm" resourceName="UserDatabase"/>
      </Realm>
      <Host name="localhost" appBase="webapps" unpackWARs="false" autoDeploy="false" />
    </Engine>
  </Service>
</Server>
`;
}

function usersXml(): string {
  const user = (u: typeof ADMIN) => `  <user username="${u.user}" password="${u.password}" roles="${u.roles}"/>`;
  return `<?xml version="1.0" encoding="UTF-8"?>
<tomcat-users xmlns="http://tomcat.apache.org/xml" version="1.0">
  <role rolename="manager-gui"/>
  <role rolename="${APP_ROLE}"/>
  <role rolename="${STAFF.roles}"/>
${user(ADMIN)}
${user(STAFF)}
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
    <auth-constraint><role-name>${APP_ROLE}</role-name></auth-constraint>
  </security-constraint>
  <login-config><auth-method>BASIC</auth-method><realm-name>Reports</realm-name></login-config>
  <security-role><role-name>${APP_ROLE}</role-name></security-role>
</web-app>
`;

function makeBase(dir: string, valve?: string): void {
  const conf = join(dir, 'conf');
  mkdirSync(join(conf, 'Catalina', 'localhost'), { recursive: true });
  for (const d of ['logs', 'webapps', 'work', 'temp']) mkdirSync(join(dir, d));
  for (const f of ['web.xml', 'catalina.properties', 'logging.properties', 'context.xml']) copyFileSync(join('/etc/tomcat10', f), join(conf, f));
  writeFileSync(join(conf, 'server.xml'), serverXml());
  writeFileSync(join(conf, 'tomcat-users.xml'), usersXml());
  writeFileSync(join(conf, 'Catalina', 'localhost', 'manager.xml'), contextXml(`path="/manager" docBase="${MANAGER_DOCBASE}" antiResourceLocking="false" privileged="true"`, valve));
  const app = join(dir, 'webapps', APP);
  mkdirSync(join(app, 'WEB-INF'), { recursive: true });
  mkdirSync(join(app, 'admin'));
  writeFileSync(join(app, 'WEB-INF', 'web.xml'), APP_WEB_XML);
  writeFileSync(join(app, 'index.html'), '<p>public reports</p>\n');
  writeFileSync(join(app, 'admin', 'index.html'), '<p>report admin</p>\n');
  writeFileSync(join(conf, 'Catalina', 'localhost', `${APP}.xml`), contextXml(`path="/${APP}" docBase="${app}"`, valve));
}

function tomcatVersion(): string {
  const out = execFileSync(join(TOMCAT_HOME, 'bin', 'version.sh'), { encoding: 'utf8', env: { ...process.env, CATALINA_HOME: TOMCAT_HOME } });
  return /Server version:\s*(.+)/.exec(out)?.[1]?.trim() ?? 'Apache Tomcat 10';
}

async function send(path: string, headers: Record<string, string> = {}): Promise<Exchange> {
  const url = `http://${LOOPBACK}:${PORT}${path}`;
  const h = { 'User-Agent': CAPTURE_USER_AGENT, Accept: '*/*', ...headers };
  return sendRequest({ method: 'GET', url, headers: Object.entries(h).map(([name, value]) => ({ name, value })) }, { env: {}, followRedirects: false, timeoutMs: 10_000 });
}

async function capture(run: Run, version: string, write: (name: string, text: string) => void): Promise<void> {
  const dir = makeTempDir('tomcat', '/tmp/why403-capture/tomcat');
  makeBase(dir, run.valve);
  const env = { ...process.env, CATALINA_HOME: TOMCAT_HOME, CATALINA_BASE: dir, CATALINA_TMPDIR: join(dir, 'temp'), JAVA_OPTS: '-Xmx256m -Djava.awt.headless=true' };
  const { child, output } = spawnServer(join(TOMCAT_HOME, 'bin', 'catalina.sh'), ['run'], { env });
  try {
    await waitForPort(PORT, child, 60_000, () => `\n${output()}`);
    for (const c of run.controls) {
      const got = (await send(c.path, c.headers)).response.status;
      if (got !== c.expect) throw new Error(`control ${c.path} got ${got}, expected ${c.expect}: the labels would not be trustworthy`);
    }
    for (const s of run.scenarios) {
      const ex = await send(s.path, s.headers);
      if (ex.response.status !== s.expectStatus) throw new Error(`${s.file}: expected ${s.expectStatus}, got ${ex.response.status}`);
      const where = run.valve ? `context: \`${run.valve}\`` : 'contexts without an address valve';
      const control = run.controlNote ? `; control: ${run.controlNote}` : '';
      const source = `captured: ${version} (Debian 12${s.path === MANAGER ? ', tomcat10-admin Manager app' : `, a webapp of our own at /${APP}`}) on ${LOOPBACK}:${PORT} by scripts/capture/tomcat.ts, own CATALINA_BASE, UserDatabaseRealm with fake users, ${where}; ${s.note}${control}; see ${s.label.cause === 'ip-restricted' ? DOCS.valve : s.path === MANAGER ? DOCS.manager : DOCS.realm}`;
      const request = { method: ex.request!.method, url: ex.request!.url, headers: Object.fromEntries(ex.request!.headers.map((h) => [h.name, h.value])) };
      const response = { status: ex.response.status, statusText: ex.response.statusText, httpVersion: ex.response.httpVersion, headers: ex.response.headers, body: ex.response.content.text ?? '' };
      const fx = { source, label: s.label, ...(s.ambiguous ? { ambiguous: s.ambiguous } : {}), request, response, trace: ex.trace };
      write(s.file, `${JSON.stringify(fx, null, 2)}\n`);
    }
  } finally {
    await stopChild(child, 10_000);
    removeDir(dir);
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { out: { type: 'string' } } });
  const out = join(values.out ?? join(ROOT, 'src', 'rules', 'tomcat'), 'fixtures');
  const version = tomcatVersion();
  const write = (name: string, text: string) => {
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, name), text);
    console.log(`wrote ${join(out, name)}`);
  };
  for (const run of RUNS) await capture(run, version, write);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
