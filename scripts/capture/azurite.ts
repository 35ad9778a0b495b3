// Captures the azure-storage rule's Azurite fixtures from a real Azurite blob
// service on 127.0.0.1:
//   node scripts/capture/azurite.ts [--out DIR]
// The scenarios are test/servers/azurite.ts's, so the fixtures and the
// end-to-end test rest on the same setup. Each denial is sent once with
// why403's own sendRequest; before it, a request that differs only in the
// thing the label names must succeed (the same SAS reads, the right key
// signs), so the label does not rest on a request that was broken elsewhere.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Exchange } from '../../src/model/exchange.ts';
import { sendRequest } from '../../src/live/send.ts';
import { CAPTURE_USER_AGENT } from '../../test/servers/http.ts';
import {
  AZURITE_KEY,
  AZURITE_SUITE,
  BLOB_PATH,
  blobSas,
  sharedKeyGet,
  startAzurite,
} from '../../test/servers/azurite.ts';
import { debianRelease } from '../../test/servers/nginx.ts';
import type { PlannedRequest } from '../../test/servers/scenarios.ts';
import { fixtureResponse } from './fixture-json.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const DOCS = 'https://learn.microsoft.com/en-us/rest/api/storageservices/authorize-requests-to-azure-storage';

async function send(origin: string, p: PlannedRequest): Promise<Exchange> {
  const h: Record<string, string> = { 'User-Agent': CAPTURE_USER_AGENT, Accept: '*/*', ...p.headers };
  const contentType = Object.entries(h).find(([k]) => k.toLowerCase() === 'content-type')?.[1] ?? '';
  return sendRequest(
    {
      method: p.method,
      url: origin + p.path,
      headers: Object.entries(h).map(([name, value]) => ({ name, value })),
      ...(p.body !== undefined ? { postData: { mimeType: contentType, text: p.body } } : {}),
    },
    { env: {}, followRedirects: false, timeoutMs: 10_000 },
  );
}

/** The SAS signature and the Shared Key signature are redacted; the rest of the request is as sent. */
function redact(url: string, headers: Record<string, string>): { url: string; headers: Record<string, string> } {
  const u = new URL(url);
  if (u.searchParams.has('sig')) u.searchParams.set('sig', 'REDACTED');
  const out = { ...headers };
  for (const k of Object.keys(out))
    if (k.toLowerCase() === 'authorization') out[k] = out[k].replace(/^(SharedKey(?:Lite)? [^:]+:).*/i, '$1REDACTED');
  return { url: u.href, headers: out };
}

/** A request that must succeed for the scenario's label to hold. */
async function proofFor(name: string, origin: string): Promise<string> {
  const check = async (what: string, p: PlannedRequest) => {
    const ex = await send(origin, p);
    if (ex.response.status >= 300)
      throw new Error(`${name}: ${what} should succeed, got ${ex.response.status}; the label would not be trustworthy`);
    return `${what} answered ${ex.response.status}`;
  };
  switch (name) {
    case 'azurite-sas-expired':
      return check('the same GET with an unexpired SAS (sp=r) signed with the same key', {
        method: 'GET',
        path: `${BLOB_PATH}?${blobSas('r', -600, 3600)}`,
      });
    case 'azurite-sas-read-only-put':
      return check('a GET of the blob with the same read-only SAS', {
        method: 'GET',
        path: `${BLOB_PATH}?${blobSas('r', -600, 3600)}`,
      });
    case 'azurite-shared-key-wrong-key':
      return check('the same GET signed with the account key', {
        method: 'GET',
        path: BLOB_PATH,
        headers: sharedKeyGet(BLOB_PATH, AZURITE_KEY),
      });
    case 'azurite-anonymous-private-container':
      return check('the same GET with a read SAS', { method: 'GET', path: `${BLOB_PATH}?${blobSas('r', -600, 3600)}` });
    default:
      return '';
  }
}

/** Azurite tags each debug-log line with the request id it answers with; the log is written a moment after the response. */
async function logFor(read: () => string[], requestId: string | undefined): Promise<string[]> {
  if (!requestId) return [];
  const deadline = Date.now() + 2000;
  let lines: string[] = [];
  while (Date.now() < deadline) {
    lines = read().filter((l) => l.includes(requestId));
    if (lines.some((l) => /ErrorMiddleware/.test(l))) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return lines;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { out: { type: 'string' } } });
  const out = values.out ?? join(ROOT, 'src', 'rules', AZURITE_SUITE.rule, 'fixtures');
  mkdirSync(out, { recursive: true });
  const server = await startAzurite({ port: AZURITE_SUITE.capturePort, dir: '/tmp/why403-capture/azurite' });
  try {
    for (const sc of AZURITE_SUITE.scenarios) {
      const proof = await proofFor(sc.name, server.origin);
      const p = await sc.plan(server);
      const ex = await send(server.origin, p);
      if (ex.response.status !== sc.status)
        throw new Error(`${sc.name}: expected ${sc.status}, got ${ex.response.status}`);
      const sent = Object.fromEntries(ex.request!.headers.map((h) => [h.name, h.value]));
      const { url, headers } = redact(ex.request!.url, sent);
      const source = `captured: ${server.version} (azurite-blob, ${debianRelease()}) on ${server.origin} by scripts/capture/azurite.ts: ${sc.config}${p.note ? `; ${p.note}` : ''}; ${proof}. Signatures redacted. Label per ${DOCS}`;
      const fx = {
        source,
        label: sc.label,
        ...(sc.ambiguous ? { ambiguous: sc.ambiguous } : {}),
        request: {
          method: ex.request!.method,
          url,
          headers,
          ...(p.body !== undefined ? { postData: ex.request!.postData } : {}),
        },
        response: fixtureResponse(ex),
        trace: ex.trace,
        log: await logFor(
          server.errorLog,
          ex.response.headers.find((h) => h.name.toLowerCase() === 'x-ms-request-id')?.value,
        ),
      };
      const file = join(out, `${sc.name}.json`);
      writeFileSync(file, `${JSON.stringify(fx, null, 2)}\n`);
      console.log(`wrote ${file}`);
    }
  } finally {
    await server.stop();
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
