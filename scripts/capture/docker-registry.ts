// Captures the docker-registry rule's fixtures from a real Docker Registry
// (distribution 2.8) on 127.0.0.1:
//   node scripts/capture/docker-registry.ts [--out DIR]
// Two registries, one per way of protecting it (htpasswd, token), on fixed
// ports; every scenario of test/servers/docker-registry.ts is sent once with
// why403's own sendRequest (no proxy from the environment). Before the
// denials, the same registry is shown to let the right credential through, so
// each fixture's label rests on the one thing the scenario changes.
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Exchange } from '../../src/model/exchange.ts';
import { sendRequest } from '../../src/live/send.ts';
import type { RunningServer } from '../../test/servers/common.ts';
import { CAPTURE_USER_AGENT } from '../../test/servers/http.ts';
import type { PlannedRequest, Suite } from '../../test/servers/scenarios.ts';
import {
  mintRegistryToken,
  REGISTRY_PASSWORD,
  REGISTRY_SUITES,
  REGISTRY_USER,
  REPOSITORY,
} from '../../test/servers/docker-registry.ts';
import { fixtureRequest, fixtureResponse, fixtureWriter } from './fixture-json.ts';

const ROOT = join(import.meta.dirname, '..', '..');

async function send(origin: string, p: PlannedRequest): Promise<Exchange> {
  const h = { 'User-Agent': CAPTURE_USER_AGENT, Accept: '*/*', ...p.headers };
  return sendRequest(
    {
      method: p.method,
      url: origin + p.path,
      headers: Object.entries(h).map(([name, value]) => ({ name, value })),
      ...(p.body !== undefined ? { postData: { mimeType: '', text: p.body } } : {}),
    },
    { env: {}, followRedirects: false, timeoutMs: 10_000 },
  );
}

/** The same registry lets the right credential through: the denials below are about the credential, not the route. */
async function proveAllowed(suite: Suite, s: RunningServer): Promise<string> {
  if (suite.id.endsWith('htpasswd')) {
    const ok = await send(s.origin, {
      method: 'GET',
      path: '/v2/_catalog',
      headers: { Authorization: `Basic ${Buffer.from(`${REGISTRY_USER}:${REGISTRY_PASSWORD}`).toString('base64')}` },
    });
    if (ok.response.status !== 200) throw new Error(`the right password got ${ok.response.status}, not 200`);
    return `; the right password (fake) answered 200 from the same registry`;
  }
  const token = mintRegistryToken(s.dir, { actions: ['push', 'pull'] });
  const ok = await send(s.origin, {
    method: 'POST',
    path: `/v2/${REPOSITORY}/blobs/uploads/`,
    headers: { Authorization: `Bearer ${token}` },
    body: '',
  });
  if (ok.response.status !== 202) throw new Error(`a push,pull token got ${ok.response.status}, not 202`);
  return `; a token holding push,pull on ${REPOSITORY} answered 202 from the same registry`;
}

async function captureSuite(suite: Suite, out: string): Promise<void> {
  const s = await suite.start({ port: suite.capturePort, dir: `/tmp/why403-capture/${suite.id}` });
  try {
    const proof = await proveAllowed(suite, s);
    for (const sc of suite.scenarios) {
      const p = await sc.plan(s);
      const before = s.errorLog().length;
      const ex = await send(s.origin, p);
      if (ex.response.status !== sc.status)
        throw new Error(`${sc.name}: expected ${sc.status}, got ${ex.response.status}`);
      await new Promise((r) => setTimeout(r, 200));
      const log = s.errorLog().slice(before);
      const fx = {
        source: `captured: ${s.version} on 127.0.0.1:${suite.capturePort} by scripts/capture/docker-registry.ts (test/servers/docker-registry.ts): ${sc.config}${p.note ? `; credential: ${p.note}` : ''}${proof}`,
        label: sc.label,
        ...(sc.ambiguous ? { ambiguous: sc.ambiguous } : {}),
        request: fixtureRequest(ex),
        response: fixtureResponse(ex),
        // Tokens are time-bound: diagnose at the moment of capture, as the registry judged them.
        now: ex.trace?.receivedAt,
        trace: ex.trace,
        ...(log.length ? { log } : {}),
      };
      fixtureWriter(out)('', `${sc.name}.json`, fx);
    }
  } finally {
    await s.stop();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { out: { type: 'string' } } });
  const out = values.out ?? join(ROOT, 'src', 'rules', 'docker-registry', 'fixtures');
  for (const suite of REGISTRY_SUITES) {
    const missing = suite.missing();
    if (missing) throw new Error(missing);
    await captureSuite(suite, out);
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
