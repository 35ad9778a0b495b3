// Self-signed certificates for the tests that speak TLS to servers on
// 127.0.0.1. Test support only: nothing in the package imports it.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/**
 * Writes `<name>.key` and `<name>.pem` into `dir`: a one-day self-signed RSA
 * certificate for `subject` (`/CN=…`), with a subjectAltName when given.
 */
export function selfSignedCertificate(
  dir: string,
  name: string,
  subject: string,
  altNames?: string,
): { key: string; cert: string } {
  const key = join(dir, `${name}.key`);
  const cert = join(dir, `${name}.pem`);
  const san = altNames ? ['-addext', `subjectAltName=${altNames}`] : [];
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      subject,
      ...san,
      '-keyout',
      key,
      '-out',
      cert,
    ],
    { stdio: 'ignore' },
  );
  return { key, cert };
}
