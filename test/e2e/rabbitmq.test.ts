// RabbitMQ end to end: a throwaway broker's management API refusing a request
// without credentials, a wrong password, a user without the management tag,
// a user without permissions on a virtual host and a non-administrator on an
// administrator-only endpoint, each diagnosed from the live broker in-process
// and through `why403 check`; the same broker lets alice in where she has the
// tag and the permissions.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { send } from '../servers/http.ts';
import { RABBITMQ_PASSWORD, rabbitmqSuite } from '../servers/rabbitmq.ts';
import { e2eSuite } from './suite.ts';

e2eSuite(rabbitmqSuite, {
  extra: (server) => {
    it('the same broker answers 200 where alice has the tag and the permissions', { timeout: 30_000 }, async () => {
      const auth = `Basic ${Buffer.from(`alice:${RABBITMQ_PASSWORD}`).toString('base64')}`;
      assert.equal(
        (await send('GET', `${server().origin}/api/overview`, { Authorization: auth })).response.status,
        200,
      );
      assert.equal(
        (await send('GET', `${server().origin}/api/queues/%2F`, { Authorization: auth })).response.status,
        200,
      );
    });
  },
});
