// Azurite (the Azure Storage emulator) end to end: an expired SAS, a read-only
// SAS used to write, a Shared Key signed with a wrong key and an anonymous
// read of a private container, each diagnosed from the live emulator. The
// extra tests prove the labels: the same requests with the right credential
// are allowed.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { AZURITE_KEY, AZURITE_SUITE, BLOB_PATH, blobSas, sharedKeyGet } from '../servers/azurite.ts';
import { send } from '../servers/http.ts';
import { parseReport, runCli } from './helpers.ts';
import { e2eSuite } from './suite.ts';

e2eSuite(AZURITE_SUITE, {
  extra: (server) => {
    it('the same Shared Key request signed with the account key is allowed', { timeout: 30_000 }, async () => {
      const r = await send('GET', server().origin + BLOB_PATH, sharedKeyGet(BLOB_PATH, AZURITE_KEY));
      assert.equal(r.response.status, 200, r.response.body);
    });

    it('cli check: an unexpired read SAS exits 0 with no causes', { timeout: 60_000 }, async () => {
      const r = await runCli(['check', '--json', `${server().origin}${BLOB_PATH}?${blobSas('r', -600, 3600)}`]);
      const report = parseReport(r);
      assert.equal(report.status, 200);
      assert.deepEqual(report.causes, []);
      assert.equal(r.code, 0, r.stderr);
    });
  },
});
