// What the status code itself says, in words a newcomer understands.
import type { Outcome } from '../model/report.ts';

export function outcomeOf(status: number): Outcome {
  if (status === 401 || status === 407) return 'unauthenticated';
  if (status === 403) return 'denied';
  if (status >= 200 && status < 300) return 'allowed';
  if (status >= 300 && status < 400) return 'redirect';
  if (status === 404) return 'not-found';
  if (status === 405) return 'method-not-allowed';
  if (status === 429) return 'rate-limited';
  if (status >= 500) return 'server-error';
  return 'client-error';
}

/**
 * The statuses that are a denial, the one definition every importer, filter
 * and command uses: 401 (who are you?), 403 (no) and 407 (the proxy's 401).
 */
export const DENIAL_STATUSES: readonly number[] = [401, 403, 407];

export function isDenial(status: number): boolean {
  return DENIAL_STATUSES.includes(status);
}

/** The denial statuses as an SQL list, for the scan's queries: `status IN (401, 403, 407)`. */
export const DENIAL_STATUSES_SQL = `(${DENIAL_STATUSES.join(', ')})`;

export function headlineOf(status: number, statusText?: string): string {
  if (status === 407)
    return '407 Proxy Authentication Required: your proxy, not the server, wants credentials before it forwards anything. Give the proxy its user name and password (Proxy-Authorization, or USER:PASSWORD@ in HTTPS_PROXY); the server has not seen the request.';
  switch (outcomeOf(status)) {
    case 'unauthenticated':
      return '401 Unauthorized: the server does not know who you are — no credential reached it, or the one that did was not accepted (missing, malformed, expired or invalid). Fix the credential, not the permissions.';
    case 'denied':
      return '403 Forbidden: the request was understood and refused. Usually the server knows who you are and that identity may not do this — but proxies, WAFs and web servers also answer 403 for reasons that have nothing to do with your identity.';
    case 'allowed':
      return `${status} ${statusText || 'OK'}: the request was allowed; there is no denial to explain.`;
    case 'redirect':
      return `${status} ${statusText || 'redirect'}: a redirect, not a denial. If it leads to a login page, the server wants you to authenticate first.`;
    case 'not-found':
      return '404 Not Found: not a denial. The URL does not exist — or the server hides resources you may not see behind 404 (GitHub, S3 and others do).';
    case 'method-not-allowed':
      return '405 Method Not Allowed: the resource exists but does not accept this method; not a permission problem.';
    case 'rate-limited':
      return '429 Too Many Requests: a rate limit, not a permission problem. Wait (see Retry-After) and send fewer requests.';
    case 'server-error':
      return `${status} ${statusText || 'server error'}: the server failed; this is not a denial.`;
    default:
      return `${status} ${statusText || ''}: a client error other than a denial.`.replace(' :', ':');
  }
}
