// Captures the verdaccio rule's fixtures from a real Verdaccio on 127.0.0.1:
//   node scripts/capture/verdaccio.ts [--out DIR]
// The scenarios are test/servers/verdaccio.ts's (the publish denial is the
// request the real `npm publish` sent), so the fixtures and the end-to-end
// test rest on the same config.yaml. Each denial is sent once with why403's
// own sendRequest; before it, the same request by a user the config admits
// must pass, so the label rests on the access rule and nothing else.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Exchange } from '../../src/model/exchange.ts';
import { sendRequest } from '../../src/live/send.ts';
import { CAPTURE_USER_AGENT } from '../../test/servers/http.ts';
import { debianRelease } from '../../test/servers/nginx.ts';
import type { PlannedRequest } from '../../test/servers/scenarios.ts';
import {
  INTERNAL,
  PUBLISHER,
  publishDocument,
  SCOPED,
  startVerdaccio,
  VERDACCIO_SUITE,
  verdaccioToken,
} from '../../test/servers/verdaccio.ts';
import { fixtureResponse } from './fixture-json.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const DOCS = 'https://verdaccio.org/docs/packages';

async function send(origin: string, p: PlannedRequest): Promise<Exchange> {
  const given = new Set(Object.keys(p.headers ?? {}).map((k) => k.toLowerCase()));
  const h: Record<string, string> = {
    ...(given.has('user-agent') ? {} : { 'User-Agent': CAPTURE_USER_AGENT }),
    ...(given.has('accept') ? {} : { Accept: '*/*' }),
    ...p.headers,
  };
  const contentType = Object.entries(h).find(([k]) => k.toLowerCase() === 'content-type')?.[1] ?? '';
  return sendRequest(
    {
      method: p.method,
      url: origin + p.path,
      headers: Object.entries(h).map(([name, value]) => ({ name, value })),
      ...(p.body !== undefined ? { postData: { mimeType: contentType, text: p.body } } : {}),
    },
    { env: {}, followRedirects: false, timeoutMs: 15_000 },
  );
}

/** Tokens are the throwaway server's, and redacted all the same; the wrong password sent is fake. */
function redactHeaders(headers: Record<string, string>): Record<string, string> {
  const out = { ...headers };
  for (const k of Object.keys(out))
    if (k.toLowerCase() === 'authorization') out[k] = out[k].replace(/^(\S+) .*/, '$1 REDACTED');
  return out;
}

/** The request that must succeed for the label to hold: the same thing done by the user the config admits. */
async function proofFor(name: string, origin: string): Promise<string> {
  const alice = async () => `Bearer ${await verdaccioToken(origin, PUBLISHER)}`;
  const check = async (what: string, p: PlannedRequest, ok: (s: number) => boolean) => {
    const ex = await send(origin, p);
    if (!ok(ex.response.status))
      throw new Error(`${name}: ${what} answered ${ex.response.status}; the label would not be trustworthy`);
    return `${what} answered ${ex.response.status}`;
  };
  switch (name) {
    case 'verdaccio-npm-publish-not-allowed':
    case 'verdaccio-publish-unauthenticated':
      // A publish by alice would make the package exist; a second version keeps each capture's state the same.
      return check(
        `a PUT of ${SCOPED} by ${PUBLISHER.name} (in publish:)`,
        {
          method: 'PUT',
          path: `/${SCOPED.replace('/', '%2f')}`,
          headers: { 'Content-Type': 'application/json', Authorization: await alice() },
          body: publishDocument(origin, SCOPED, name.includes('npm') ? '0.9.0' : '0.9.1'),
        },
        (s) => s === 201,
      );
    case 'verdaccio-read-unauthenticated':
      return check(
        `the same GET by ${PUBLISHER.name}`,
        { method: 'GET', path: `/${SCOPED.replace('/', '%2f')}`, headers: { Authorization: await alice() } },
        (s) => s === 200 || s === 404,
      );
    case 'verdaccio-read-not-allowed':
      return check(
        `the same GET by ${PUBLISHER.name} (in access:)`,
        { method: 'GET', path: `/${INTERNAL}`, headers: { Authorization: await alice() } },
        (s) => s === 200 || s === 404,
      );
    case 'verdaccio-login-wrong-password':
      // verdaccioToken throws unless the right password gets 201 and a token.
      await verdaccioToken(origin, PUBLISHER);
      return `the same login with ${PUBLISHER.name}'s password (also fake) answered 201 with a token`;
    default:
      return '';
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { out: { type: 'string' } } });
  const out = values.out ?? join(ROOT, 'src', 'rules', VERDACCIO_SUITE.rule, 'fixtures');
  mkdirSync(out, { recursive: true });
  const server = await startVerdaccio({ port: VERDACCIO_SUITE.capturePort, dir: '/tmp/why403-capture/verdaccio' });
  try {
    for (const sc of VERDACCIO_SUITE.scenarios) {
      const proof = await proofFor(sc.name, server.origin);
      const p = await sc.plan(server);
      const ex = await send(server.origin, p);
      if (ex.response.status !== sc.status)
        throw new Error(`${sc.name}: expected ${sc.status}, got ${ex.response.status}: ${ex.response.content.text}`);
      const headers = redactHeaders(Object.fromEntries(ex.request!.headers.map((h) => [h.name, h.value])));
      const body = p.body;
      await new Promise((r) => setTimeout(r, 200));
      const source = `captured: ${server.version} (${debianRelease()}) on ${server.origin} by scripts/capture/verdaccio.ts: ${sc.config}${p.note ? `; ${p.note}` : ''}; ${proof}. Tokens redacted. Access rules per ${DOCS}`;
      const fx = {
        source,
        label: sc.label,
        ...(sc.ambiguous ? { ambiguous: sc.ambiguous } : {}),
        request: {
          method: ex.request!.method,
          url: ex.request!.url,
          headers,
          ...(body !== undefined ? { postData: { mimeType: ex.request!.postData?.mimeType ?? '', text: body } } : {}),
        },
        response: fixtureResponse(ex),
        trace: ex.trace,
        log: server.errorLog().slice(-1),
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
