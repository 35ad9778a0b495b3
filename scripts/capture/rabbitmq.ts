// Captures the rabbitmq rule's fixtures from a real RabbitMQ broker's
// management API on 127.0.0.1:
//   node scripts/capture/rabbitmq.ts [--out DIR]
// One throwaway broker (test/servers/rabbitmq.ts: own node name, ports, epmd
// and data dir; the system service is never touched), its management port
// fixed; every scenario sent once with why403's own sendRequest (no proxy from
// the environment). Before the denials, the same broker is shown to let
// alice's right password through to /api/overview, so each denial comes from
// the one thing its scenario changes.
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Exchange } from '../../src/model/exchange.ts';
import { sendRequest } from '../../src/live/send.ts';
import { CAPTURE_USER_AGENT } from '../../test/servers/http.ts';
import type { PlannedRequest } from '../../test/servers/scenarios.ts';
import { RABBITMQ_PASSWORD, rabbitmqSuite } from '../../test/servers/rabbitmq.ts';
import { fixtureRequest, fixtureResponse, fixtureWriter } from './fixture-json.ts';

const ROOT = join(import.meta.dirname, '..', '..');

async function send(origin: string, p: PlannedRequest): Promise<Exchange> {
  const h = { 'User-Agent': CAPTURE_USER_AGENT, Accept: '*/*', ...p.headers };
  return sendRequest(
    { method: p.method, url: origin + p.path, headers: Object.entries(h).map(([name, value]) => ({ name, value })) },
    { env: {}, followRedirects: false, timeoutMs: 10_000 },
  );
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { out: { type: 'string' } } });
  const out = values.out ?? join(ROOT, 'src', 'rules', 'rabbitmq', 'fixtures');
  const suite = rabbitmqSuite;
  const missing = suite.missing();
  if (missing) throw new Error(missing);
  const s = await suite.start({ port: suite.capturePort, dir: '/tmp/why403-capture/rabbitmq' });
  try {
    const ok = await send(s.origin, {
      method: 'GET',
      path: '/api/overview',
      headers: { Authorization: `Basic ${Buffer.from(`alice:${RABBITMQ_PASSWORD}`).toString('base64')}` },
    });
    if (ok.response.status !== 200)
      throw new Error(`alice's right password got ${ok.response.status} on /api/overview, not 200`);
    const proof = '; alice’s right password (fake) answered 200 on /api/overview from the same broker';
    for (const sc of suite.scenarios) {
      const p = await sc.plan(s);
      const ex = await send(s.origin, p);
      if (ex.response.status !== sc.status)
        throw new Error(`${sc.name}: expected ${sc.status}, got ${ex.response.status}`);
      const fx = {
        source: `captured: ${s.version}, management plugin, on 127.0.0.1:${suite.capturePort} by scripts/capture/rabbitmq.ts (test/servers/rabbitmq.ts): ${sc.config}${proof}`,
        label: sc.label,
        ...(sc.ambiguous ? { ambiguous: sc.ambiguous } : {}),
        request: fixtureRequest(ex),
        response: fixtureResponse(ex),
        trace: ex.trace,
      };
      fixtureWriter(out)('', `${sc.name}.json`, fx);
    }
  } finally {
    await s.stop();
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
