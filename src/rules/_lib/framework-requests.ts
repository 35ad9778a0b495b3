// What web-framework rules read from the request: cookies by name, whether
// the method is one CSRF protection checks, the scheme of what was sent; and
// the fix they all give for a token that did not arrive as `Bearer <token>`.
import type { Context } from '../../model/rule.ts';
import type { Fix } from '../../model/report.ts';

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

/** The fix that resends the request with a Bearer token: `curl -H "Authorization: Bearer $TOKEN" URL`. */
export function bearerCurlFix(url: string, fix: { title: string; verify?: string; docs?: string }): Fix {
  return {
    title: fix.title,
    difficulty: 'easy',
    commands: [`curl -H "Authorization: Bearer $TOKEN" ${url}`],
    ...(fix.verify ? { verify: fix.verify } : {}),
    ...(fix.docs ? { docs: fix.docs } : {}),
  };
}
