// What web-framework rules read from the request: cookies by name, whether
// the method is one CSRF protection checks, the scheme of what was sent.
import type { Context } from '../../model/rule.ts';

/** Names of the cookies the request sent. */
export function requestCookieNames(ctx: Context): string[] {
  const cookie = ctx.requestHeader('cookie') ?? '';
  return cookie
    .split(';')
    .map((c) => c.split('=')[0].trim())
    .filter(Boolean);
}

/** Whether the request sent a cookie of this exact name. */
export function sentCookie(ctx: Context, name: string): boolean {
  return requestCookieNames(ctx).includes(name);
}

/** Whether the response sets a cookie of this exact name. */
export function setsCookie(ctx: Context, name: string): boolean {
  return ctx.headers('set-cookie').some((c) => c.startsWith(`${name}=`));
}

/** Methods CSRF protection lets through unchecked (RFC 9110 safe methods). */
const SAFE = ['GET', 'HEAD', 'OPTIONS', 'TRACE'];
export const isUnsafeMethod = (method: string): boolean => !SAFE.includes(method);

/** The request's Authorization header as evidence shows it: its scheme and an ellipsis, never the value. */
export function authorizationShown(auth: string | undefined, absent = '(none)'): string {
  return auth === undefined ? absent : `${auth.split(/\s+/)[0]} …`;
}
