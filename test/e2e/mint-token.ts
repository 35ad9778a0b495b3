// The `--token-cmd` of the probe tests: prints one fresh access token from the
// test Express app's loopback-only token endpoint, as a user's own
// `get-token` script would.
//   node test/e2e/mint-token.ts ORIGIN [SCOPE…]
import { mintToken } from '../servers/express.ts';

const [origin, ...scopes] = process.argv.slice(2);
if (!origin) {
  process.stderr.write('usage: node test/e2e/mint-token.ts ORIGIN [SCOPE…]\n');
  process.exit(2);
}
const { token } = await mintToken(origin, { scope: scopes.join(' '), expiresIn: 600 });
process.stdout.write(`${token}\n`);
