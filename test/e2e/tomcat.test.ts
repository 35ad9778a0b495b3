// Tomcat 10 end to end: the Manager's 401s (no credentials, wrong password),
// its 403 for a user without manager-gui, a webapp's role constraint, and a
// RemoteAddrValve in front of each, diagnosed from the live server; the same
// server answers 200 to the right user and from an unguarded context.
import { it } from 'node:test';
import { checkTomcatControls, tomcatSuite } from '../servers/tomcat.ts';
import { e2eSuite } from './suite.ts';

e2eSuite(tomcatSuite, {
  extra: (server) => {
    it(
      'controls: manager-gui user, report-admin user and the public page answer 200',
      { timeout: 30_000 },
      async () => {
        await checkTomcatControls(server().origin);
      },
    );
  },
});
