// The same URL with a safe method (HEAD, or GET for an OPTIONS request) and
// no body. If the safe method gets through while the user's method got 403,
// it is the method (or something only that method is checked for) that is
// refused; if it is refused the same way, the whole resource is.
import type { Exchange, ExchangeRequest } from '../../model/exchange.ts';
import type { CauseClaim } from '../../model/rule.ts';
import { defineProbe, type ProbeContext, type ProbeFinding, type ProbeRequest } from '../define.ts';
import { against, claim, describeAnswer, finding, readOutcome } from '../compare.ts';

const NAME = 'method';
/** Headers that describe a body; without the body they would describe nothing. */
const BODY_HEADERS = new Set([
  'content-type',
  'content-length',
  'content-encoding',
  'transfer-encoding',
  'content-md5',
  'digest',
  'content-digest',
]);

const safeMethodFor = (method: string) => (method.toUpperCase() === 'OPTIONS' ? 'GET' : 'HEAD');

export function withSafeMethod(req: ExchangeRequest): ProbeRequest {
  const method = safeMethodFor(req.method);
  const removed = req.headers.filter((h) => BODY_HEADERS.has(h.name.toLowerCase())).map((h) => `header:${h.name}`);
  if (req.postData) removed.unshift('body');
  return {
    request: {
      ...req,
      method,
      headers: req.headers.filter((h) => !BODY_HEADERS.has(h.name.toLowerCase())),
      postData: undefined,
    },
    removed,
    added: [`method:${method} (instead of ${req.method.toUpperCase()})`],
  };
}

function interpret(ctx: ProbeContext, probe: ProbeRequest, ex: Exchange): ProbeFinding {
  const m = probe.request.method;
  const orig = ctx.original.method.toUpperCase();
  const o = ctx.first.response.status;
  const p = ex.response.status;
  // A HEAD answer has no body to compare; its status says enough.
  const reading = readOutcome(ctx.first, ex, { bodyless: m === 'HEAD' });
  const claims: CauseClaim[] = [];
  const text = `${m} on the same URL gets ${describeAnswer(ex)}; ${orig} got ${o}.`;
  let meaning: string;

  if (reading === 'allowed' || reading === 'redirect') {
    const csrf = orig !== 'OPTIONS' ? ', or something only it is checked for (a CSRF token, a write permission)' : '';
    meaning = `${m} on the same URL answers ${p} while ${orig} got ${o}: the resource is reachable and it is ${orig} that is refused — the method is not allowed here${csrf}.`;
    // A CSRF check or a read-only grant passes the safe method just the same:
    // while either is standing, this outcome says little for method-not-allowed.
    const lookAlikes =
      orig !== 'OPTIONS' &&
      ['csrf', 'insufficient-role', 'insufficient-scope'].some((c) => ctx.standing.includes(c as never));
    claims.push(
      claim(
        NAME,
        'method-not-allowed',
        lookAlikes ? 0.25 : 0.6,
        `${orig} is refused on a resource that ${m} reaches.`,
        `${text} ${csrf ? 'A CSRF check or a read-only grant would look the same.' : ''}`.trim(),
      ),
    );
    claims.push(
      ...against(
        NAME,
        ['path-forbidden', 'ip-restricted', 'filesystem-permission', 'directory-listing'],
        -0.85,
        `${text} The path is served to this client.`,
      ),
    );
  } else if (reading === 'same' || (reading === 'different' && p === o)) {
    const sameWay = reading === 'same';
    meaning = `${m} on the same URL is refused ${sameWay ? 'the same way' : 'too'} (${p}): the whole resource is denied, not just ${orig}.`;
    claims.push(
      ...against(NAME, ['method-not-allowed'], sameWay ? -0.8 : -0.5, `${text} The method makes no difference.`),
    );
    // CSRF checks pass safe methods through, so a denied GET or HEAD is not a CSRF failure.
    if (orig !== 'OPTIONS')
      claims.push(
        ...against(
          NAME,
          ['csrf'],
          sameWay ? -0.6 : -0.4,
          `${text} CSRF checks do not apply to ${m}, and it is refused too.`,
        ),
      );
  } else {
    meaning = `${m} on the same URL answers ${describeAnswer(ex)}; that does not separate the hypotheses.`;
  }
  return finding(NAME, probe, ex, meaning, claims);
}

export default defineProbe({
  name: NAME,
  separates: [
    'method-not-allowed',
    'csrf',
    'path-forbidden',
    'ip-restricted',
    'filesystem-permission',
    'directory-listing',
  ],
  order: 30,
  maxRequests: 1,
  applies(ctx) {
    const method = ctx.original.method.toUpperCase();
    if (method === 'GET' || method === 'HEAD') return `the request is already ${method}`;
    // A 401 to a write says nothing about the method: anonymous reads and authenticated writes are the usual design.
    if (ctx.first.response.status !== 403) return `the answer was ${ctx.first.response.status}, not 403`;
    return true;
  },
  plan: (ctx) => [withSafeMethod(ctx.original)],
  async run(ctx, send) {
    const probe = withSafeMethod(ctx.original);
    const ex = await send(NAME, probe);
    return ex ? [interpret(ctx, probe, ex)] : [];
  },
});
