// Express 5 with csrf-csrf and express-jwt end to end (a separate app from
// test/e2e/express.test.ts's csurf + express-oauth2-jwt-bearer one): a
// missing CSRF token, and a missing, expired, badly signed and wrongly
// introduced JWT, diagnosed from the live app; the same app accepts the
// token with its cookie and a valid JWT.
import { it } from 'node:test';
import { checkExpressMiddlewareControls, expressMiddlewareSuite } from '../servers/express-middleware.ts';
import { e2eSuite } from './suite.ts';

e2eSuite(expressMiddlewareSuite, {
  extra: (server) => {
    it('controls: the CSRF token with its cookie and a valid JWT answer 200', { timeout: 30_000 }, async () => {
      await checkExpressMiddlewareControls(server().origin);
    });
  },
});
