// An audit file: identities, requests and who may send each, in YAML (or
// JSON), checked against the JSON Schema the package publishes
// (schema/audit.schema.json) before anything is read from it. Credentials are
// never written in the file: a header that holds one must come from an
// environment variable or a command.
import { parseDocument } from 'yaml';
import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js';
import { readBoundedFile } from './read-file.ts';
import { checkHttpUrl } from './openapi.ts';
import { InputError, UsageError } from '../errors.ts';
import { isSecretHeader } from '../credentials/redact.ts';
import type { NameValue } from '../model/exchange.ts';
import schema from '../../schema/audit.schema.json' with { type: 'json' };
import type { IdentitySpec, ValueSource } from './identities.ts';
import type { AuditIdentity, AuditOperation, AuditPlan, BodyDenial, Expected } from './model.ts';

/** An audit file is a few hundred lines; a larger one is refused before it is parsed. */
export const MAX_AUDIT_FILE = 8 * 1024 * 1024;

type Who = '*' | string[];
type SourceValue = string | { env: string; prefix?: string } | { command: string; prefix?: string };

export interface AuditFile {
  baseUrl?: string;
  identities: { name: string; headers?: Record<string, SourceValue>; scopes?: string[]; roles?: string[] }[];
  deniedWhen?: BodyDenial[];
  requests: {
    name?: string;
    method?: string;
    path: string;
    headers?: Record<string, string>;
    body?: { mimeType?: string; text: string };
    expect: { allow?: Who; deny?: Who };
    deniedWhen?: BodyDenial[];
  }[];
}

let validator: ReturnType<Ajv2020['compile']> | undefined;
function validate(doc: unknown): ErrorObject[] {
  validator ??= new Ajv2020({ allErrors: false, strict: true, allowUnionTypes: true }).compile(schema);
  return validator(doc) ? [] : (validator.errors ?? []);
}

/** One line for the first schema error: where in the file, and what was expected. */
function schemaError(e: ErrorObject): string {
  const at =
    e.instancePath
      .split('/')
      .slice(1)
      .map((p) => (/^\d+$/.test(p) ? `[${p}]` : `.${p.replace(/~1/g, '/').replace(/~0/g, '~')}`))
      .join('')
      .replace(/^\./, '') || 'the file';
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperties':
      return `${at}: unknown field "${String(p.additionalProperty)}"`;
    case 'required':
      return `${at}: missing "${String(p.missingProperty)}"`;
    case 'oneOf':
      return `${at}: expected a literal string, { env: VARIABLE } or { command: "…" }`;
    case 'maxProperties':
    case 'minProperties':
      return `${at}: expected exactly one of its fields`;
    default:
      return `${at}: ${e.message ?? 'does not match the audit file schema'}`;
  }
}

/** Reads and checks an audit file. Throws InputError with one line naming the place. */
export async function readAuditFile(path: string): Promise<AuditFile> {
  const buf = await readBoundedFile(
    path,
    MAX_AUDIT_FILE,
    () => new InputError(path, `is larger than ${MAX_AUDIT_FILE} bytes, the most an audit file may be`),
  );
  return parseAuditFile(buf.toString('utf8').replace(/^\uFEFF/, ''), path);
}

export function parseAuditFile(text: string, path: string): AuditFile {
  // Aliases are bounded: a "billion laughs" document expands past maxAliasCount and is refused.
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length) throw new InputError(path, `is not valid YAML: ${doc.errors[0].message.split('\n')[0]}`);
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    throw new InputError(path, `is not valid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  if (!value || typeof value !== 'object' || Array.isArray(value))
    throw new InputError(path, 'expected a mapping with identities and requests (see why403 audit --help)');
  const errors = validate(value);
  if (errors.length) throw new InputError(path, schemaError(errors[0]));
  const file = value as AuditFile;
  file.identities.forEach((id, i) => {
    for (const [name, v] of Object.entries(id.headers ?? {}))
      if (typeof v === 'string' && isSecretHeader(name))
        throw new InputError(
          path,
          `identities[${i}].headers.${name}: a credential is not written in the audit file; ` +
            'give it as { env: VARIABLE } or { command: "…" }',
        );
  });
  // A credential in a request's own headers would go out for every identity, the anonymous one included.
  file.requests.forEach((r, i) => {
    for (const name of Object.keys(r.headers ?? {}))
      if (isSecretHeader(name))
        throw new InputError(
          path,
          `requests[${i}].headers.${name}: a credential is sent by identities, not by a request; move it to an identity`,
        );
  });
  const names = new Set<string>();
  file.identities.forEach((id, i) => {
    if (names.has(id.name)) throw new InputError(path, `identities[${i}]: the name ${id.name} is used twice`);
    names.add(id.name);
  });
  file.requests.forEach((r, i) => {
    const who = r.expect.allow ?? r.expect.deny!;
    if (who !== '*')
      for (const n of who)
        if (!names.has(n)) throw new InputError(path, `requests[${i}].expect: no identity is named ${n}`);
  });
  return file;
}

/** The file's identities as specs: resolved (env, commands) by resolveIdentities. */
export function identitySpecs(file: AuditFile): IdentitySpec[] {
  return file.identities.map((id, i) => ({
    name: id.name,
    from: `identities[${i}] (${id.name})`,
    headers: Object.entries(id.headers ?? {}).map(([name, v]) => ({ name, source: valueSource(v) })),
    ...(id.scopes ? { scopes: id.scopes } : {}),
    ...(id.roles ? { roles: id.roles } : {}),
  }));
}

function valueSource(v: SourceValue): ValueSource {
  if (typeof v === 'string') return { kind: 'literal', value: v };
  if ('env' in v) return { kind: 'env', variable: v.env, ...(v.prefix !== undefined ? { prefix: v.prefix } : {}) };
  return { kind: 'command', command: v.command, ...(v.prefix !== undefined ? { prefix: v.prefix } : {}) };
}

/** The request's URL: its path under the base URL, or an absolute URL on the base URL's origin. */
function trimEnd(s: string, c: string): string {
  let end = s.length;
  while (end > 0 && s[end - 1] === c) end--;
  return s.slice(0, end);
}

function urlFor(baseUrl: string, path: string, where: string, file: string): string {
  let url: URL;
  try {
    url = /^https?:\/\//i.test(path) ? new URL(path) : new URL(trimEnd(baseUrl, '/') + '/' + path.replace(/^\/+/, ''));
  } catch {
    throw new InputError(file, `${where}.path "${path.slice(0, 60)}": not a URL path`);
  }
  if (url.origin !== new URL(baseUrl).origin)
    throw new InputError(
      file,
      `${where}.path ${url.origin}: every request goes to the base URL's origin (${new URL(baseUrl).origin})`,
    );
  return url.href;
}

export function planFromFile(
  file: AuditFile,
  o: { name: string; baseUrl?: string; identities: AuditIdentity[] },
): AuditPlan {
  const given = o.baseUrl ?? file.baseUrl;
  if (!given) throw new UsageError(`${o.name} has no baseUrl: give --base-url URL`);
  const baseUrl = checkHttpUrl(given, o.baseUrl !== undefined ? '--base-url' : o.name, 'the base URL').href;
  const operations: AuditOperation[] = [];
  const ids = new Set<string>();
  file.requests.forEach((r, i) => {
    const where = `requests[${i}]`;
    const method = (r.method ?? 'GET').toUpperCase();
    const id = r.name ?? `${method} ${r.path}`;
    if (ids.has(id)) throw new InputError(o.name, `${where}: "${id}" is there twice; give each request its own name`);
    ids.add(id);
    const allowList = r.expect.allow;
    const denyList = r.expect.deny;
    const expect: AuditOperation['expect'] = {};
    for (const identity of o.identities) {
      const listed = (w: Who | undefined) => w === '*' || (w ?? []).includes(identity.name);
      const expected: Expected =
        allowList !== undefined ? (listed(allowList) ? 'allow' : 'deny') : listed(denyList) ? 'deny' : 'allow';
      const list = allowList !== undefined ? `allow: ${whoText(allowList)}` : `deny: ${whoText(denyList!)}`;
      const listedHere = listed(allowList ?? denyList);
      expect[identity.name] = {
        expected,
        why: `${listedHere ? 'listed in' : 'not listed in'} ${list} (${o.name} ${where})`,
      };
    }
    const headers: NameValue[] = Object.entries(r.headers ?? {}).map(([name, value]) => ({ name, value }));
    const body = r.body ? { mimeType: r.body.mimeType ?? 'application/json', text: r.body.text } : undefined;
    if (body && !headers.some((h) => h.name.toLowerCase() === 'content-type'))
      headers.push({ name: 'Content-Type', value: body.mimeType });
    operations.push({
      id,
      method,
      path: r.path,
      url: urlFor(baseUrl, r.path, where, o.name),
      headers,
      ...(body ? { body } : {}),
      expect,
      deniedWhen: [...(r.deniedWhen ?? []), ...(file.deniedWhen ?? [])],
    });
  });
  return {
    source: { kind: 'file', name: o.name },
    baseUrl,
    identities: o.identities,
    operations,
    skipped: [],
    notes: [],
  };
}

const whoText = (w: Who) => (w === '*' ? 'everyone' : w.length ? w.join(', ') : 'no one');
