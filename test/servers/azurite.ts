// A real Azurite blob service (the Azure Storage emulator) on 127.0.0.1 with
// one private container holding one blob. Each scenario's label rests on what
// the request carries against that setup: a SAS past its expiry, a read-only
// SAS used to write, a Shared Key signed with a key that is not the account's,
// or nothing at all against a container without anonymous access.
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import {
  BlobSASPermissions,
  BlobServiceClient,
  generateBlobSASQueryParameters,
  StorageSharedKeyCredential,
} from '@azure/storage-blob';
import {
  freePort,
  LOOPBACK,
  makeTempDir,
  readLines,
  removeDir,
  spawnServer,
  stopChild,
  waitForPort,
  type RunningServer,
  type StartOptions,
} from './common.ts';
import type { Scenario, Suite } from './scenarios.ts';

/** Azurite's built-in development account; its key is published in Azurite's README, so it guards nothing. */
export const AZURITE_ACCOUNT = 'devstoreaccount1';
export const AZURITE_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';
/** A well-formed key that is not the account's (fake). */
export const WRONG_KEY = Buffer.from('why403-not-the-account-key-0123456789abcdefghijklmnop').toString('base64');
export const CONTAINER = 'private';
export const BLOB = 'report.txt';
export const BLOB_PATH = `/${AZURITE_ACCOUNT}/${CONTAINER}/${BLOB}`;
/** The REST API version the requests claim; Azurite runs with --skipApiVersionCheck so a newer SDK's version is accepted. */
export const API_VERSION = '2025-01-05';

const require = createRequire(import.meta.url);
const AZURITE_DIR = dirname(require.resolve('azurite/package.json'));

export function azuriteVersion(): string {
  const v = JSON.parse(readFileSync(join(AZURITE_DIR, 'package.json'), 'utf8')).version as string;
  return `Azurite ${v}`;
}

export function azuriteMissing(): string | undefined {
  try {
    require.resolve('azurite/package.json');
    require.resolve('@azure/storage-blob');
    return undefined;
  } catch {
    return 'the npm devDependencies azurite and @azure/storage-blob are not installed (npm ci)';
  }
}

/** A service SAS for the blob, signed with `key`, valid from `startOffsetS` to `endOffsetS` seconds from now. */
export function blobSas(permissions: string, startOffsetS: number, endOffsetS: number, key = AZURITE_KEY): string {
  const now = Date.now();
  return generateBlobSASQueryParameters(
    {
      containerName: CONTAINER,
      blobName: BLOB,
      permissions: BlobSASPermissions.parse(permissions),
      startsOn: new Date(now + startOffsetS * 1000),
      expiresOn: new Date(now + endOffsetS * 1000),
      version: API_VERSION,
    },
    new StorageSharedKeyCredential(AZURITE_ACCOUNT, key),
  ).toString();
}

/**
 * Shared Key for a bodiless GET, per
 * https://learn.microsoft.com/en-us/rest/api/storageservices/authorize-with-shared-key:
 * twelve standard header slots (all empty here), the x-ms- headers, then
 * /account/path — and Azurite's path-style path starts with the account
 * again, so the account appears twice.
 */
export function sharedKeyGet(path: string, key: string): Record<string, string> {
  const headers = { 'x-ms-date': new Date().toUTCString(), 'x-ms-version': API_VERSION };
  const canonicalHeaders = Object.entries(headers)
    .map(([k, v]) => `${k}:${v}\n`)
    .join('');
  const stringToSign = `GET\n${'\n'.repeat(11)}${canonicalHeaders}/${AZURITE_ACCOUNT}${path}`;
  const signature = createHmac('sha256', Buffer.from(key, 'base64')).update(stringToSign, 'utf8').digest('base64');
  return { ...headers, Authorization: `SharedKey ${AZURITE_ACCOUNT}:${signature}` };
}

export async function startAzurite(opts: StartOptions = {}): Promise<RunningServer> {
  const dir = makeTempDir('azurite', opts.dir);
  const port = opts.port || (await freePort());
  const debugLog = join(dir, 'debug.log');
  const main = join(AZURITE_DIR, 'dist', 'src', 'blob', 'main.js');
  // --disableTelemetry: nothing leaves the machine. --skipApiVersionCheck: the SDK is newer than the emulator.
  const { child, output } = spawnServer(process.execPath, [
    main,
    '--blobHost',
    LOOPBACK,
    '--blobPort',
    String(port),
    '--location',
    dir,
    '--debug',
    debugLog,
    '--skipApiVersionCheck',
    '--disableTelemetry',
    '--silent',
  ]);
  try {
    await waitForPort(port, child, 20_000, () => `\n${output()}`);
    const origin = `http://${LOOPBACK}:${port}`;
    const service = new BlobServiceClient(
      `${origin}/${AZURITE_ACCOUNT}`,
      new StorageSharedKeyCredential(AZURITE_ACCOUNT, AZURITE_KEY),
    );
    // No `access` option: the container is private, as `az storage container create` makes it by default.
    const container = service.getContainerClient(CONTAINER);
    await container.create();
    const text = 'quarterly report\n';
    await container.getBlockBlobClient(BLOB).upload(text, Buffer.byteLength(text));
  } catch (e) {
    await stopChild(child);
    removeDir(dir);
    throw e;
  }
  const initial = readLines(debugLog).length;
  return {
    origin: `http://${LOOPBACK}:${port}`,
    port,
    dir,
    pid: child.pid!,
    version: azuriteVersion(),
    // Azurite's debug log says which check refused a request ("Validate start and expiry failed.").
    errorLog: () =>
      readLines(debugLog)
        .slice(initial)
        // Lines that print a computed signature are left out: the log is kept in fixtures.
        .filter(
          (l) =>
            /Authenticator:validate\(\).*(fail|not match|Skip public access)|ErrorMiddleware: ErrorName=/i.test(l) &&
            !/String to sign|Calculated|sig:|SharedKey \S+:/i.test(l),
        ),
    async stop() {
      await stopChild(child);
      removeDir(dir);
    },
  };
}

const label = (cause: Scenario['label']['cause']): Scenario['label'] => ({
  product: 'azure-storage',
  layer: 'storage',
  cause,
});
const SETUP = `container "${CONTAINER}" created with Shared Key and no public access level (private), blob ${BLOB} uploaded`;

export const AZURITE_SCENARIOS: Scenario[] = [
  {
    name: 'azurite-sas-expired',
    label: label('credential-expired'),
    config: `${SETUP}; GET with a service SAS (sp=r) signed with the account key whose window ended an hour ago (st = now - 2 h, se = now - 1 h)`,
    status: 403,
    plan: async () => ({
      method: 'GET',
      path: `${BLOB_PATH}?${blobSas('r', -7200, -3600)}`,
      note: 'SAS signed with Azurite’s published development key by @azure/storage-blob generateBlobSASQueryParameters',
    }),
  },
  {
    name: 'azurite-sas-read-only-put',
    label: label('insufficient-scope'),
    config: `${SETUP}; PUT Blob with a valid service SAS (sp=r, st = now - 10 min, se = now + 1 h) that grants read only`,
    status: 403,
    plan: async () => ({
      method: 'PUT',
      path: `${BLOB_PATH}?${blobSas('r', -600, 3600)}`,
      headers: { 'x-ms-blob-type': 'BlockBlob', 'Content-Type': 'text/plain' },
      body: 'overwritten\n',
      note: 'SAS signed with Azurite’s published development key by @azure/storage-blob generateBlobSASQueryParameters',
    }),
  },
  {
    name: 'azurite-shared-key-wrong-key',
    label: label('credential-invalid'),
    config: `${SETUP}; GET with Authorization: SharedKey ${AZURITE_ACCOUNT}:<signature> computed with a key that is not the account's (the same request signed with the account key answers 200)`,
    status: 403,
    plan: async () => ({
      method: 'GET',
      path: BLOB_PATH,
      headers: sharedKeyGet(BLOB_PATH, WRONG_KEY),
      note: 'Shared Key signature computed per the Azure REST docs with a fake key',
    }),
  },
  {
    name: 'azurite-anonymous-private-container',
    label: label('credential-missing'),
    config: `${SETUP}; GET of the blob with no Authorization header and no SAS (anonymous) — the container allows no anonymous access`,
    status: 403,
    plan: async () => ({ method: 'GET', path: BLOB_PATH }),
  },
];

export const AZURITE_SUITE: Suite = {
  id: 'azurite',
  product: 'azure-storage',
  rule: 'azure-storage',
  capturePort: 18440,
  start: startAzurite,
  missing: azuriteMissing,
  scenarios: AZURITE_SCENARIOS,
};
