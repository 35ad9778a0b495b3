// Turns what credential inspection measured — expired or not-yet-valid
// windows, clocks that disagree, headers in the wrong shape — into causes with
// the fix for each, and argues credential-missing when a refused request
// carried nothing while the response asked for credentials (RFC 9110 section
// 11.6.1: a 401 carries WWW-Authenticate). It reads no vendor's body and
// leaves the challenge's error codes to rfc6750-bearer: the credential and
// the clock are its evidence.
import type { CredentialFinding, CredentialItem } from '../../model/credential.ts';
import { redactUrl } from '../../credentials/index.ts';
import { SIGNED_URL_FINDING as SIGNED } from '../../knowledge/signed-urls.ts';
import { defineCause, ev, type Context, type Reporter } from '../define.ts';
import texts from './texts.json' with { type: 'json' };
import { judgeObservation, type ValidityCause } from './verdicts.ts';

/** Finding ids name the kind of credential they judged. */
const KIND_OF_FINDING: [string, CredentialItem['kind']][] = [
  ['jwt-', 'bearer-jwt'],
  [SIGNED.aws, 'aws-presigned-url'],
  [SIGNED.shape, 'aws-presigned-url'],
  [SIGNED.azure, 'azure-sas'],
  [SIGNED.google, 'google-signed-url'],
];

function itemFor(ctx: Context, f: CredentialFinding): CredentialItem | undefined {
  const items = ctx.credential.items;
  const kind = KIND_OF_FINDING.find(([prefix]) => f.id.startsWith(prefix))?.[1];
  return (
    (kind && items.find((i) => i.kind === kind)) ||
    items.find((i) => i.location === f.source) ||
    items.find((i) => i.kind === ctx.credential.scheme)
  );
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);

type FixId = keyof typeof texts.fixes;

/** The fixes for a finding, and the values their placeholders take. */
interface Advice {
  fixes: FixId[];
  data?: Record<string, string>;
}

/** How to get a new credential of the finding's kind; `renew` starts its title ("Generate a new", "Get a fresh"). */
function reissue(ctx: Context, f: CredentialFinding): Advice {
  const item = itemFor(ctx, f);
  const claims = item?.claims ?? {};
  if (f.id.startsWith(SIGNED.aws)) {
    const region = str(claims.region);
    return {
      fixes: ['presignAws'],
      data: {
        renew: 'Generate a new',
        s3Target: str(claims.bucket) ? `s3://${str(claims.bucket)}/${str(claims.key) ?? 'KEY'}` : 's3://BUCKET/KEY',
        s3Region: region ? ` --region ${region}` : '',
      },
    };
  }
  if (f.id.startsWith(SIGNED.azure)) {
    const blob = str(claims.blob);
    return {
      fixes: [blob ? 'sasBlob' : 'sasContainer'],
      data: {
        renew: 'Generate a new',
        account: str(claims.account) ?? 'ACCOUNT',
        container: str(claims.container) ?? 'CONTAINER',
        blob: blob ?? '',
        permissions: str(claims.sp) ?? 'r',
      },
    };
  }
  if (f.id.startsWith(SIGNED.google))
    return {
      fixes: ['signGoogle'],
      data: {
        renew: 'Generate a new',
        gsTarget: str(claims.bucket)
          ? `gs://${str(claims.bucket)}/${str(claims.object) ?? 'OBJECT'}`
          : 'gs://BUCKET/OBJECT',
      },
    };
  if (f.id.startsWith(SIGNED.cloudfront)) return { fixes: ['signCloudFront'] };
  const issuer = item?.issuer?.replace(/\/$/, '');
  const azure = issuer && /login\.microsoftonline\.com|sts\.windows\.net/.test(issuer);
  const resource = item?.audience?.[0];
  return {
    fixes: [azure ? 'freshTokenAzure' : issuer ? 'freshTokenIssuer' : 'freshToken', 'refreshEarly'],
    data: { renew: 'Get a fresh', issuer: issuer ?? '', resourceOption: resource ? ` --resource ${resource}` : '' },
  };
}

function fixesFor(ctx: Context, f: CredentialFinding): Advice {
  const origin = ctx.url ? redactUrl(ctx.url.origin) : 'URL';
  switch (f.cause) {
    case 'credential-expired': {
      const again = reissue(ctx, f);
      return { fixes: again.fixes, data: { origin, ...again.data } };
    }
    case 'credential-not-yet-valid': {
      const again = reissue(ctx, f);
      return { fixes: [...again.fixes, 'checkClock'], data: { origin, ...again.data, renew: 'Issue a new' } };
    }
    case 'clock-skew': {
      const elsewhere = /start-ahead|issued-in-future/.test(f.id);
      const again = reissue(ctx, f);
      return {
        fixes: [
          elsewhere ? 'checkIssuerClock' : 'checkClock',
          ...(f.id.startsWith(SIGNED.azure) || f.id.includes('start-ahead') ? (['sasStart'] as const) : []),
          ...(f.id.startsWith('signing-time') ? [] : again.fixes.slice(0, 1)),
        ],
        data: { origin, ...again.data },
      };
    }
    case 'credential-missing':
      return { fixes: ['setVariable'] };
    case 'ip-restricted':
      return { fixes: ['sasAddress'] };
    default:
      return { fixes: malformedFixes(f) };
  }
}

function malformedFixes(f: CredentialFinding): FixId[] {
  if (/quoted|whitespace|line-break|extra-space/.test(f.id)) return ['cleanToken', 'bearerShape'];
  if (/bearer|scheme|header-name|authorization-repeated/.test(f.id)) return ['bearerShape'];
  // Its verify is the finding's own text.
  if (f.id === 'token-not-bearer') return ['vendorWay'];
  if (f.id.startsWith('basic')) return ['basicHeader'];
  if (f.id.startsWith('sigv4') || f.id.startsWith(SIGNED.shape)) return ['awsSign'];
  if (f.id.startsWith('jwt-undecodable')) return ['copyToken'];
  if (f.id.includes('milliseconds')) return ['seconds'];
  if (f.id.startsWith(SIGNED.azure)) return ['sasByTool'];
  return ['bearerShape'];
}

function crossOriginRedirect(ctx: Context): string | undefined {
  const hops = ctx.exchange.trace?.redirects ?? [];
  const hosts = hops.map((h) => {
    try {
      return new URL(h.url).host;
    } catch {
      return '';
    }
  });
  const first = hosts[0];
  const other = hosts.find((h) => h && h !== first);
  return first && other ? `redirected from ${first} to ${other}` : undefined;
}

const CAUSES: readonly ValidityCause[] = [
  'credential-expired',
  'credential-not-yet-valid',
  'clock-skew',
  'credential-malformed',
  'credential-missing',
  'ip-restricted',
];
const isValidityCause = (id: string): id is ValidityCause => (CAUSES as readonly string[]).includes(id);

/** A refused request that carried nothing (or only cookies) while the response asked for credentials. */
function claimMissing(ctx: Context, report: Reporter<ValidityCause, keyof typeof texts.messages, FixId>): void {
  if (!ctx.exchange.request || !ctx.challenges.length) return;
  const items = ctx.credential.items;
  if (items.some((i) => i.kind !== 'cookie')) return;
  const schemes = [...new Set(ctx.challenges.map((c) => c.scheme))];
  const challenge = ctx.header('www-authenticate') ?? schemes.join(', ');
  const cookiesOnly = items.length > 0;
  const redirect = crossOriginRedirect(ctx);
  const bearer = schemes.some((s) => s.toLowerCase() === 'bearer');
  const basic = schemes.some((s) => s.toLowerCase() === 'basic');
  report.claim('credential-missing', 'nothingSent', redirect ? 0.6 : cookiesOnly ? 0.3 : 0.45, {
    data: {
      challenge: challenge.length > 120 ? schemes.join(', ') : challenge,
      carried: cookiesOnly ? 'only cookies' : 'none',
      redirect: redirect ? `; it was ${redirect}, and clients drop Authorization on such redirects` : '',
      schemes: schemes.join(', '),
      url: ctx.url ? redactUrl(ctx.url.href) : 'URL',
      status: ctx.status,
    },
    evidence: [
      ev('header:www-authenticate', challenge),
      ev(
        'request',
        cookiesOnly
          ? 'no Authorization header, API key or signed URL; only cookies'
          : 'no Authorization header, API key, signed URL or cookie',
      ),
      ...(redirect ? [ev('trace:redirects', redirect)] : []),
    ],
    fixes: [bearer ? 'sendBearer' : basic ? 'sendBasic' : 'sendAsked', 'findDropped'],
  });
}

export default defineCause({
  meta: {
    id: 'credential-validity',
    causes: CAUSES,
    statuses: [401, 403],
    ...texts,
  },
  judge: judgeObservation,
  explain(ctx, report) {
    for (const f of ctx.credential.findings) {
      if (f.weight <= 0 || !isValidityCause(f.cause)) continue;
      // The finding is an observation this rule judged (verdicts.ts). Its text
      // is already the whole sentence (what was measured, against which
      // clock), written where the measurement is made; the claim repeats it.
      const advice = fixesFor(ctx, f);
      report.claim(f.cause, 'measured', f.weight, {
        data: { ...advice.data, findingText: f.text },
        evidence: [ev(f.source, f.text)],
        fixes: advice.fixes,
      });
    }
    claimMissing(ctx, report);
  },
});
