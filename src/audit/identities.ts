// The audit's identities: who each one is (a name), what it sends (headers
// holding a credential, read from the command line, an environment variable
// or a command's output) and what it holds (scopes and roles, read from its
// token's claims or declared). The credential lives only in memory; every
// report names where it came from and shows it redacted.
import { UsageError } from '../errors.ts';
import type { NameValue } from '../model/exchange.ts';
import { runCredentialCommand } from '../probes/credential-command.ts';
import { decodeJwtToken, summariseClaims } from '../credentials/jwt.ts';
import { redactHeaderValue, redactSecret } from '../credentials/redact.ts';
import { identityHeader } from '../credentials/identity-header.ts';
import type { AuditIdentity, AuditResult, GrantsFrom } from './model.ts';

/** Where one header's value comes from. */
export type ValueSource =
  | { kind: 'literal'; value: string }
  | { kind: 'env'; variable: string; prefix?: string }
  | { kind: 'command'; command: string; prefix?: string };

export interface IdentitySpec {
  name: string;
  /** `name` undefined: a bare credential, sent as `Authorization: Bearer …` unless it says its own scheme. */
  headers: { name?: string; source: ValueSource }[];
  scopes?: string[];
  roles?: string[];
  /** Where it was given, for error messages ("--identity reader", "identities[1]"). */
  from: string;
}

const NAME = /^[A-Za-z0-9][\w.@-]{0,63}$/;

export function checkIdentityName(name: string, from: string): string {
  if (!NAME.test(name))
    throw new UsageError(
      `${from}: "${name.slice(0, 40)}" is not an identity name (letters, digits, . _ @ -, up to 64 characters)`,
    );
  return name;
}

/**
 * `--identity NAME=Header: value`, `NAME=env:VAR`, `NAME=cmd:COMMAND`, or
 * `NAME=` for an identity that sends no credential. A bare value from env or
 * a command is a token (Bearer) unless it is itself "Header: value".
 */
export function parseIdentityArg(arg: string): IdentitySpec {
  const eq = arg.indexOf('=');
  if (eq <= 0)
    throw new UsageError(
      `--identity "${arg.slice(0, 30)}": expected NAME=Header: value, NAME=env:VARIABLE, NAME=cmd:COMMAND or NAME= (no credential)`,
    );
  const name = checkIdentityName(arg.slice(0, eq), '--identity');
  const from = `--identity ${name}`;
  const rest = arg.slice(eq + 1).trim();
  if (!rest) return { name, headers: [], from };
  if (rest.startsWith('env:')) {
    const variable = rest.slice(4).trim();
    if (!/^[A-Za-z_]\w*$/.test(variable))
      throw new UsageError(`${from}: "env:${variable.slice(0, 30)}" is not an environment variable name`);
    return { name, headers: [{ source: { kind: 'env', variable } }], from };
  }
  if (rest.startsWith('cmd:')) {
    const command = rest.slice(4).trim();
    if (!command) throw new UsageError(`${from}: cmd: needs a command that prints the credential`);
    return { name, headers: [{ source: { kind: 'command', command } }], from };
  }
  const m = /^([A-Za-z0-9-]+):\s*(\S.*)$/s.exec(rest);
  if (!m)
    throw new UsageError(
      `${from}: expected 'Header-Name: value' after ${name}= (or env:VARIABLE, cmd:COMMAND, or nothing for no credential)`,
    );
  return { name, headers: [{ name: m[1], source: { kind: 'literal', value: m[2].trim() } }], from };
}

/** `--scopes NAME=a,b` or `--roles NAME=a,b` (spaces also separate). */
export function parseGrantsArg(arg: string, flag: '--scopes' | '--roles'): { name: string; grants: string[] } {
  const eq = arg.indexOf('=');
  if (eq <= 0)
    throw new UsageError(`${flag} "${arg.slice(0, 30)}": expected NAME=a,b (the identity's name, then the list)`);
  return {
    name: checkIdentityName(arg.slice(0, eq), flag),
    grants: arg
      .slice(eq + 1)
      .split(/[\s,]+/)
      .filter(Boolean),
  };
}

async function valueOf(
  source: ValueSource,
  from: string,
  env: NodeJS.ProcessEnv,
  runCommands: boolean,
): Promise<string> {
  switch (source.kind) {
    case 'literal':
      return source.value;
    case 'env': {
      const v = env[source.variable]?.trim();
      if (!v) throw new UsageError(`${from}: the environment variable ${source.variable} is not set or empty`);
      return (source.prefix ?? '') + v;
    }
    case 'command': {
      // A dry run sends and runs nothing: the value stands in for what the command would print.
      if (!runCommands) return (source.prefix ?? '') + '<from command>';
      const v = await runCredentialCommand(source.command, env, `${from} command`).catch((e: Error) => {
        throw new UsageError(e.message);
      });
      return (source.prefix ?? '') + v;
    }
  }
}

/** Scopes and roles from a bearer JWT's claims; `unknown` for an opaque credential, `none` without one. */
export function grantsFromHeaders(headers: NameValue[]): {
  scopes: string[];
  roles: string[];
  from: GrantsFrom;
} {
  if (!headers.length) return { scopes: [], roles: [], from: 'none' };
  const auth = headers.find((h) => h.name.toLowerCase() === 'authorization')?.value;
  const token = auth && /^bearer\s+(\S+)$/i.exec(auth.trim())?.[1];
  if (token) {
    const decoded = decodeJwtToken(token);
    if (!('error' in decoded) && decoded.claims) {
      const s = summariseClaims(decoded.claims);
      return { scopes: s.scopes, roles: s.roles, from: 'token' };
    }
  }
  return { scopes: [], roles: [], from: 'unknown' };
}

/** Resolves every identity's headers (env, commands) and what it holds. Throws UsageError. */
export async function resolveIdentities(
  specs: IdentitySpec[],
  declared: { scopes: Map<string, string[]>; roles: Map<string, string[]> },
  env: NodeJS.ProcessEnv,
  runCommands = true,
): Promise<AuditIdentity[]> {
  const seen = new Set<string>();
  const out: AuditIdentity[] = [];
  for (const spec of specs) {
    if (seen.has(spec.name)) throw new UsageError(`${spec.from}: the identity ${spec.name} is given twice`);
    seen.add(spec.name);
    const headers: NameValue[] = [];
    for (const h of spec.headers) {
      const value = await valueOf(h.source, spec.from, env, runCommands);
      headers.push(h.name ? { name: h.name, value } : identityHeader(value));
    }
    const fromToken = grantsFromHeaders(headers);
    const scopes = declared.scopes.get(spec.name) ?? spec.scopes;
    const roles = declared.roles.get(spec.name) ?? spec.roles;
    out.push({
      name: spec.name,
      headers,
      scopes: scopes ?? fromToken.scopes,
      roles: roles ?? fromToken.roles,
      scopesFrom: scopes ? 'declared' : fromToken.from,
      rolesFrom: roles ? 'declared' : fromToken.from,
      origin: spec.headers.map((h) => originOf(h.source)).join(', ') || 'no credential',
    });
  }
  for (const [flag, map] of [
    ['--scopes', declared.scopes],
    ['--roles', declared.roles],
  ] as const)
    for (const name of map.keys())
      if (!seen.has(name)) throw new UsageError(`${flag} ${name}=…: no identity is named ${name}`);
  return out;
}

function originOf(s: ValueSource): string {
  switch (s.kind) {
    case 'literal':
      return 'given';
    case 'env':
      return `env ${s.variable}`;
    case 'command':
      return 'command';
  }
}

/** An identity as reports show it: the credential redacted, never its value. */
export function shownIdentity(i: AuditIdentity): AuditResult['identities'][number] {
  return {
    name: i.name,
    // Every identity header is its credential, whatever its name: a name
    // redaction does not know (X-Service-Pass) is masked all the same.
    credential: i.headers
      .map((h) => {
        const known = redactHeaderValue(h.name, h.value);
        return `${h.name}: ${known !== h.value ? known : redactSecret(h.value.trim())}`;
      })
      .join('; '),
    origin: i.origin,
    scopes: i.scopes,
    roles: i.roles,
    scopesFrom: i.scopesFrom,
    rolesFrom: i.rolesFrom,
  };
}

/** The credential values of every identity: the diagnosis redacts them wherever they appear. */
export function identitySecrets(identities: AuditIdentity[]): string[] {
  return identities.flatMap((i) => i.headers.map((h) => h.value.replace(/^\S+\s+/, ''))).filter((v) => v.length >= 4);
}
