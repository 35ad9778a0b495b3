// Starts the order API `why403 audit` is tested against
// (test/servers/audit-app.ts) as its own process with a throwaway HS256
// secret, and mints the identities' tokens with that secret. The paths of the
// API's OpenAPI document and of the same matrix as an audit file are here too,
// so every audit test reads one spec and one file.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SignJWT } from 'jose';
import { AUDIT_AUDIENCE, AUDIT_ISSUER, AUDIT_PORT_ENV, AUDIT_SECRET_ENV } from './audit-app.ts';
import type { RunningServer } from './common.ts';
import { debianRelease } from './nginx.ts';
import { pkgVersion, startNodeApp } from './node-app.ts';

const APP = fileURLToPath(new URL('./audit-app.ts', import.meta.url));
const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'audit');

/** Absolute path of the API's OpenAPI 3.1 document: the matrix as its authors meant it. */
export const AUDIT_SPEC = join(FIXTURES, 'openapi.yaml');
/** Absolute path of the same matrix written as an audit file. */
export const AUDIT_FILE = join(FIXTURES, 'audit.yaml');

export type AuditIdentityName = 'reader' | 'admin';

/** What each identity's token grants: `scope` as OAuth writes it, `roles` for the app's CASL rules. */
export const AUDIT_GRANTS: Record<AuditIdentityName, { scope: string; roles: string[] }> = {
  reader: { scope: 'read:orders read:invoices', roles: ['user'] },
  admin: {
    scope: 'read:orders read:invoices read:admin read:reports read:projects write:orders',
    roles: ['admin'],
  },
};

/** The environment variables audit.yaml reads each identity's token from. */
export const AUDIT_TOKEN_ENV: Record<AuditIdentityName, string> = {
  reader: 'AUDIT_READER_TOKEN',
  admin: 'AUDIT_ADMIN_TOKEN',
};

/** Seconds a minted token stays valid. */
const TOKEN_LIFETIME = 600;

export function auditAppVersions(): string {
  const v = (p: string) => `${p} ${pkgVersion(p)}`;
  return `Express ${pkgVersion('express')}, ${v('express-oauth2-jwt-bearer')}, ${v('@casl/ability')} on Node ${process.versions.node} (${debianRelease()})`;
}

export async function startAuditApp(
  opts: { port?: number } = {},
): Promise<RunningServer & { mint(identity: AuditIdentityName): Promise<string> }> {
  const secret = randomBytes(32).toString('hex');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    [AUDIT_SECRET_ENV]: secret,
    [AUDIT_PORT_ENV]: String(opts.port ?? 0),
  };
  // Express's default error page names the error only outside production, as in a fresh app.
  delete env.NODE_ENV;
  const server = await startNodeApp(APP, env, auditAppVersions(), 'audit app');
  const key = new TextEncoder().encode(secret);
  const mint = (identity: AuditIdentityName) => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ ...AUDIT_GRANTS[identity] })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer(AUDIT_ISSUER)
      .setAudience(AUDIT_AUDIENCE)
      .setSubject(`${identity}@audit.why403.test`)
      .setIssuedAt(now)
      .setExpirationTime(now + TOKEN_LIFETIME)
      .sign(key);
  };
  return { ...server, mint };
}
