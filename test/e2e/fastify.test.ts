// Fastify 5 end to end: @fastify/csrf-protection (FST_CSRF_*), @fastify/jwt
// (FST_JWT_* for a missing, expired, badly signed, wrongly introduced and
// malformed token) and a route's own 403, diagnosed from the live app; the
// same app accepts the right token, cookie and role.
import { it } from 'node:test';
import { checkFastifyControls, fastifySuite } from '../servers/fastify.ts';
import { e2eSuite } from './suite.ts';

e2eSuite(fastifySuite, {
  extra: (server) => {
    it(
      'controls: the CSRF token with its cookie, a valid token and the admin role answer 200',
      { timeout: 30_000 },
      async () => {
        await checkFastifyControls(server().origin);
      },
    );
  },
});
