// What the cloud storage and IAM rules (AWS, Azure, Google) read the same way:
// the S3-style XML error document that S3, Cloud Storage's XML API and Azure
// Storage answer with, and the client-error statuses those services explain.
import type { Context } from '../../model/rule.ts';
import { elementText } from './read.ts';

/** Every 4xx: cloud APIs answer some refusals with 400 (an expired token, a malformed signature). */
export const CLIENT_ERRORS: readonly number[] = Array.from({ length: 100 }, (_, i) => 400 + i);

export const isClientError = (status: number): boolean => status >= 400 && status < 500;

/** A body that is an `<Error>` document (after an optional XML declaration). */
export const ERROR_DOCUMENT = /^\s*(<\?xml[^>]*>\s*)?<Error>/;

/**
 * A member of the `<Error>` document, untrimmed: the parsed XML's `Error.<name>`,
 * or the text of the first `<name>` element when the body could not be parsed
 * (cut short by the capture).
 */
export function errorDocumentField(ctx: Context, name: string): string | undefined {
  return ctx.body.xml?.[`Error.${name}`] ?? elementText(ctx.body.text, name);
}
