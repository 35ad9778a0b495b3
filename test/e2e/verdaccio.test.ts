// Verdaccio end to end: the real `npm publish` refused by the package's
// publish: rule, an anonymous publish and read of a package that needs a
// login, a read outside the access: rule, and npm login with a wrong
// password, each diagnosed from the live registry.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { npmPublishRequest, PUBLISHER, SCOPED, VERDACCIO_SUITE, verdaccioToken } from '../servers/verdaccio.ts';
import { e2eSuite } from './suite.ts';

e2eSuite(VERDACCIO_SUITE, {
  extra: (server) => {
    it(
      'the npm client itself reports E403 for the refused publish, and publishes as the user publish: names',
      { timeout: 120_000 },
      async () => {
        const refused = await npmPublishRequest(
          server().origin,
          SCOPED,
          await verdaccioToken(server().origin, { name: 'bob', password: 'bob-only-reads' }),
        );
        assert.equal(refused.status, 403);
        assert.match(refused.npmOutput, /E403/);
        assert.match(refused.npmOutput, /not allowed to publish package @corp\/widgets/);
        const allowed = await npmPublishRequest(
          server().origin,
          SCOPED,
          await verdaccioToken(server().origin, PUBLISHER),
        );
        assert.equal(allowed.status, 201, allowed.npmOutput);
      },
    );
  },
});
