// The error envelopes many APIs share. Each reader returns the code and
// message it found and where, so a rule can quote them as evidence.
import type { Context } from '../../model/rule.ts';
import { jsonAt } from './read.ts';

export interface ErrorEnvelope {
  code?: string;
  message?: string;
  /** Where each was read: "body:error.code", "body:Error.Message". */
  codeSource?: string;
  messageSource?: string;
}

const text = (v: unknown): string | undefined =>
  typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined;

/** A value found in the body and the dotted path it was found at. */
interface BodyField {
  value: string;
  path: string;
}

/** The envelope of the code and message a reader found, or nothing when it found neither. */
function envelopeOf(code: BodyField | undefined, message: BodyField | undefined): ErrorEnvelope | undefined {
  if (!code && !message) return undefined;
  return {
    ...(code ? { code: code.value, codeSource: `body:${code.path}` } : {}),
    ...(message ? { message: message.value, messageSource: `body:${message.path}` } : {}),
  };
}

/** The first string (or number) at one of these dotted paths of the JSON body. */
export function jsonField(ctx: Context, paths: readonly string[]): BodyField | undefined {
  if (ctx.body.json === undefined) return undefined;
  for (const path of paths) {
    const value = text(jsonAt(ctx.body.json, path));
    if (value !== undefined) return { value, path };
  }
  return undefined;
}

/** The first leaf at one of these dotted paths of the XML body. */
export function xmlField(ctx: Context, paths: readonly string[]): BodyField | undefined {
  const xml = ctx.body.xml;
  if (!xml) return undefined;
  for (const path of paths) if (xml[path] !== undefined) return { value: xml[path], path };
  return undefined;
}

/**
 * A JSON error by the paths a product uses, e.g. `jsonError(ctx, ['error.code'],
 * ['error.message'])` for `{"error":{"code":…,"message":…}}`.
 */
export function jsonError(
  ctx: Context,
  codePaths: readonly string[],
  messagePaths: readonly string[],
): ErrorEnvelope | undefined {
  return envelopeOf(jsonField(ctx, codePaths), jsonField(ctx, messagePaths));
}

/** An XML error document's code and message (`<Error><Code>…</Code><Message>…</Message></Error>` and kin). */
export function xmlError(
  ctx: Context,
  codePaths: readonly string[] = ['Error.Code'],
  messagePaths: readonly string[] = ['Error.Message'],
): ErrorEnvelope | undefined {
  return envelopeOf(xmlField(ctx, codePaths), xmlField(ctx, messagePaths));
}
