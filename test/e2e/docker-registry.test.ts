// Docker Registry end to end: the real registry (distribution 2.8) behind
// htpasswd and behind token auth, each denial diagnosed from the live server
// in-process and through `why403 check`; the same registries let the right
// password and a token holding push,pull through, so each denial comes from
// the one thing its scenario changes.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { send } from '../servers/http.ts';
import {
  mintRegistryToken,
  registryHtpasswdSuite,
  registryTokenSuite,
  REGISTRY_PASSWORD,
  REGISTRY_USER,
  REPOSITORY,
} from '../servers/docker-registry.ts';
import { e2eSuite } from './suite.ts';

e2eSuite(registryHtpasswdSuite, {
  extra: (server) => {
    it('the same registry answers 200 for the right password', { timeout: 30_000 }, async () => {
      const auth = `Basic ${Buffer.from(`${REGISTRY_USER}:${REGISTRY_PASSWORD}`).toString('base64')}`;
      assert.equal((await send('GET', `${server().origin}/v2/_catalog`, { Authorization: auth })).response.status, 200);
    });
  },
});

e2eSuite(registryTokenSuite, {
  extra: (server) => {
    it(
      'the same registry accepts a token holding push,pull for the push the pull-only token could not start',
      { timeout: 30_000 },
      async () => {
        const token = mintRegistryToken(server().dir, { actions: ['push', 'pull'] });
        const r = await send(
          'POST',
          `${server().origin}/v2/${REPOSITORY}/blobs/uploads/`,
          { Authorization: `Bearer ${token}` },
          '',
        );
        assert.equal(r.response.status, 202);
      },
    );
  },
});
