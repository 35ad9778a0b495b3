// Captures the tomcat rule's fixtures from a real Tomcat 10 on 127.0.0.1:
//   node scripts/capture/tomcat.ts [--out DIR]
// The server is test/servers/tomcat.ts's (Debian's tomcat10 and tomcat10-admin,
// own CATALINA_BASE, fake users), started twice on a fixed port: once as the
// end-to-end suite runs it (/manager and /reports without an address valve:
// the 401s and the role 403 come from the authenticator), once with a
// RemoteAddrValve that excludes 127.0.0.1 on /manager and /reports too (the
// 403 comes from the valve, before any authentication). Each label rests on
// a control request that the first run answers 200.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Exchange } from '../../src/model/exchange.ts';
import { sendRequest } from '../../src/live/send.ts';
import { LOOPBACK } from '../../test/servers/common.ts';
import { CAPTURE_USER_AGENT } from '../../test/servers/http.ts';
import {
  basicAuth as basic,
  startTomcat,
  TOMCAT_ADMIN as ADMIN,
  TOMCAT_ALLOW_ONLY as ALLOW_ONLY,
  TOMCAT_APP as APP,
  TOMCAT_APP_ROLE as APP_ROLE,
  TOMCAT_MANAGER as MANAGER,
  TOMCAT_STAFF as STAFF,
  TOMCAT_VALVE,
  tomcatSuite,
  tomcatVersion,
} from '../../test/servers/tomcat.ts';
import { fixtureRequest, fixtureResponse } from './fixture-json.ts';

const ROOT = join(import.meta.dirname, '..', '..');
/** Fixed, so fixtures name the same port from one capture to the next. */
const PORT = tomcatSuite.capturePort;
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
  /** Whether /manager and /reports sit behind TOMCAT_VALVE in this run. */
  valve?: boolean;
  /** Requests this run must answer with the given status: what makes the labels trustworthy. */
  controls: { path: string; headers: Record<string, string>; expect: number }[];
  controlNote: string;
  scenarios: Scenario[];
}

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
    valve: true,
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

async function send(path: string, headers: Record<string, string> = {}): Promise<Exchange> {
  const url = `http://${LOOPBACK}:${PORT}${path}`;
  const h = { 'User-Agent': CAPTURE_USER_AGENT, Accept: '*/*', ...headers };
  return sendRequest(
    { method: 'GET', url, headers: Object.entries(h).map(([name, value]) => ({ name, value })) },
    { env: {}, followRedirects: false, timeoutMs: 10_000 },
  );
}

async function capture(run: Run, version: string, write: (name: string, text: string) => void): Promise<void> {
  const server = await startTomcat({ port: PORT, dir: '/tmp/why403-capture/tomcat', valveEverywhere: run.valve });
  try {
    for (const c of run.controls) {
      const got = (await send(c.path, c.headers)).response.status;
      if (got !== c.expect)
        throw new Error(`control ${c.path} got ${got}, expected ${c.expect}: the labels would not be trustworthy`);
    }
    for (const s of run.scenarios) {
      const ex = await send(s.path, s.headers);
      if (ex.response.status !== s.expectStatus)
        throw new Error(`${s.file}: expected ${s.expectStatus}, got ${ex.response.status}`);
      const where = run.valve ? `context: \`${TOMCAT_VALVE}\`` : 'contexts without an address valve';
      const control = run.controlNote ? `; control: ${run.controlNote}` : '';
      const source = `captured: ${version} (Debian 12${s.path === MANAGER ? ', tomcat10-admin Manager app' : `, a webapp of our own at /${APP}`}) on ${LOOPBACK}:${PORT} by scripts/capture/tomcat.ts, own CATALINA_BASE, UserDatabaseRealm with fake users, ${where}; ${s.note}${control}; see ${s.label.cause === 'ip-restricted' ? DOCS.valve : s.path === MANAGER ? DOCS.manager : DOCS.realm}`;
      const request = fixtureRequest(ex);
      const response = fixtureResponse(ex);
      const fx = {
        source,
        label: s.label,
        ...(s.ambiguous ? { ambiguous: s.ambiguous } : {}),
        request,
        response,
        trace: ex.trace,
      };
      write(s.file, `${JSON.stringify(fx, null, 2)}\n`);
    }
  } finally {
    await server.stop();
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
