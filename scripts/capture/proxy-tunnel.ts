// Captures what `why403 check` records when a forward proxy refuses the
// CONNECT tunnel for an https URL: real Squid on 127.0.0.1 whose policy
// denies the destination port, driven by why403's own sender.
//   node scripts/capture/proxy-tunnel.ts
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startSquid, squidDenyConfig } from '../../test/servers/squid.ts';
import { freePort } from '../../test/servers/common.ts';
import { sendRequest } from '../../src/live/send.ts';

const out = join(import.meta.dirname, '../../src/rules/proxy-tunnel/fixtures');
const denied = await freePort();
const squid = await startSquid({ denyPorts: [denied] });
try {
  const cases = [
    { file: 'squid-connect-denied.json', headers: [{ name: 'Accept', value: 'application/json' }] },
    {
      file: 'squid-connect-denied-with-token.json',
      headers: [{ name: 'Authorization', value: 'Bearer not-a-real-token-0123456789' }],
    },
  ];
  for (const c of cases) {
    const url = `https://127.0.0.1:${denied}/v1/reports`;
    const ex = await sendRequest(
      { method: 'GET', url, headers: c.headers },
      { env: { HTTPS_PROXY: squid.origin }, timeoutMs: 5000 },
    );
    const fixture = {
      source: `captured: ${squid.version} on 127.0.0.1 as a forward proxy with \`${squidDenyConfig([denied]).replace(/\n/g, '; ')}\`; why403's sender (undici ProxyAgent) asked it to CONNECT to 127.0.0.1:${denied} for ${url} (scripts/capture/proxy-tunnel.ts). The proxy's reply carries no headers the client can read, so nothing in the exchange names Squid.`,
      label: { product: 'squid', layer: 'forward-proxy', cause: 'proxy-interference' },
      productHidden: true,
      request: ex.request,
      response: ex.response,
      trace: ex.trace,
      notes: ex.notes,
    };
    writeFileSync(join(out, c.file), JSON.stringify(fixture, null, 2) + '\n');
    console.log(c.file, ex.response.status, ex.trace?.proxy);
  }
} finally {
  await squid.stop();
}
