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
import { defineCause, ev, type Context, type Fix, type Reporter } from '../define.ts';

const CHECK_CLOCK: Fix = {
  title: 'Compare the local clock with the server’s and resynchronise it',
  difficulty: 'easy',
  commands: [
    "date -u; curl -sI URL | grep -i '^date:'",
    'timedatectl status        # "System clock synchronized: yes"',
    'chronyc tracking          # "System time" is the offset from NTP',
    'sudo chronyc makestep     # or: sudo timedatectl set-ntp true; on Windows: w32tm /resync',
  ],
  verify: 'The local time and the server’s Date header agree to within a second or two.',
};

const BEARER_SHAPE: Fix = {
  title: 'Send exactly `Authorization: Bearer <token>`: one scheme, one space, the bare token',
  difficulty: 'easy',
  commands: ['curl -H "Authorization: Bearer $TOKEN" URL'],
  verify: 'why403 shows no credential-malformed finding for the request.',
  docs: 'https://www.rfc-editor.org/rfc/rfc6750#section-2.1',
};

const CLEAN_TOKEN: Fix = {
  title: 'Strip the quotes and line breaks the token picked up on its way',
  difficulty: 'easy',
  commands: [
    `printf %s "$TOKEN" | od -c | tail -n 3   # shows a trailing \\r or \\n, or quotes`,
    `TOKEN=$(printf %s "$TOKEN" | tr -d '\\r\\n"')`,
  ],
  verify: '`why403 token "$TOKEN"` decodes it without findings.',
};

const SET_VARIABLE: Fix = {
  title: 'Make sure the variable holding the credential is set when the request is built',
  difficulty: 'easy',
  commands: ['printf %s "${TOKEN:?TOKEN is empty}" | cut -c1-8'],
  verify: 'The request’s Authorization header carries the token, not "undefined" or nothing.',
};

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

function reissue(ctx: Context, f: CredentialFinding): Fix[] {
  const item = itemFor(ctx, f);
  const claims = item?.claims ?? {};
  if (f.id.startsWith(SIGNED.aws)) {
    const target = str(claims.bucket) ? `s3://${str(claims.bucket)}/${str(claims.key) ?? 'KEY'}` : 's3://BUCKET/KEY';
    const region = str(claims.region);
    return [
      {
        title: 'Generate a new pre-signed URL and use it within its lifetime',
        difficulty: 'easy',
        commands: [`aws s3 presign ${target} --expires-in 3600${region ? ` --region ${region}` : ''}`],
        verify: 'The new URL’s X-Amz-Date + X-Amz-Expires lies after the server’s Date when you use it.',
        docs: 'https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-presigned-url.html',
      },
    ];
  }
  if (f.id.startsWith(SIGNED.azure)) {
    const account = str(claims.account) ?? 'ACCOUNT';
    const container = str(claims.container) ?? 'CONTAINER';
    const blob = str(claims.blob);
    const perms = str(claims.sp) ?? 'r';
    const expiry = '$(date -u -d "+1 hour" +%Y-%m-%dT%H:%MZ)';
    return [
      {
        title:
          'Generate a new SAS with an expiry ahead of the server’s clock (leave the start time out, or set it 15 min in the past)',
        difficulty: 'easy',
        commands: [
          blob
            ? `az storage blob generate-sas --account-name ${account} --container-name ${container} --name ${blob} --permissions ${perms} --expiry ${expiry} --https-only --auth-mode login --as-user --output tsv`
            : `az storage container generate-sas --account-name ${account} --name ${container} --permissions ${perms} --expiry ${expiry} --https-only --auth-mode login --as-user --output tsv`,
        ],
        verify: 'The new SAS’s se (and st, if set) bracket the server’s Date when you use it.',
        docs: 'https://learn.microsoft.com/en-us/azure/storage/common/storage-sas-overview#best-practices-when-using-sas',
      },
    ];
  }
  if (f.id.startsWith(SIGNED.google)) {
    const target = str(claims.bucket)
      ? `gs://${str(claims.bucket)}/${str(claims.object) ?? 'OBJECT'}`
      : 'gs://BUCKET/OBJECT';
    return [
      {
        title: 'Generate a new signed URL and use it within its lifetime',
        difficulty: 'easy',
        commands: [`gcloud storage sign-url ${target} --duration=1h --impersonate-service-account=SERVICE_ACCOUNT`],
        docs: 'https://cloud.google.com/storage/docs/access-control/signed-urls',
      },
    ];
  }
  if (f.id.startsWith(SIGNED.cloudfront)) {
    return [
      {
        title: 'Sign a new CloudFront URL with a later expiry',
        difficulty: 'easy',
        commands: [
          'aws cloudfront sign --url URL --key-pair-id KEY_PAIR_ID --private-key file://private_key.pem --date-less-than 2099-01-01T00:00:00Z',
        ],
        docs: 'https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/private-content-creating-signed-url-canned-policy.html',
      },
    ];
  }
  const issuer = item?.issuer?.replace(/\/$/, '');
  const azure = issuer && /login\.microsoftonline\.com|sts\.windows\.net/.test(issuer);
  const resource = item?.audience?.[0];
  return [
    {
      title: 'Get a fresh access token (refresh it, or sign in again) and retry',
      difficulty: 'easy',
      commands: azure
        ? [`az account get-access-token${resource ? ` --resource ${resource}` : ''} --query expiresOn`]
        : issuer
          ? [
              `curl -s ${issuer}/.well-known/openid-configuration | jq -r .token_endpoint   # then: grant_type=refresh_token`,
            ]
          : ['why403 token "$TOKEN"   # shows exp against the local clock'],
      verify: '`why403 token "$NEW_TOKEN"` shows an exp after the server’s Date.',
    },
    {
      title: 'Refresh tokens before they expire, judging by the server’s clock rather than the local one',
      difficulty: 'medium',
      verify: 'The client refreshes when exp is within a minute or two, and retries once on 401 with a new token.',
    },
  ];
}

function fixesFor(ctx: Context, f: CredentialFinding): Fix[] {
  const url = ctx.url ? redactUrl(ctx.url.origin) : undefined;
  const clock = url
    ? { ...CHECK_CLOCK, commands: CHECK_CLOCK.commands!.map((c) => c.replace('URL', url)) }
    : CHECK_CLOCK;
  switch (f.cause) {
    case 'credential-expired':
      return reissue(ctx, f);
    case 'credential-not-yet-valid':
      return [
        ...reissue(ctx, f).map((x) => ({
          ...x,
          title: x.title.replace(/^Get a fresh|^Generate a new/, 'Issue a new'),
        })),
        clock,
      ];
    case 'clock-skew': {
      const elsewhere = /start-ahead|issued-in-future/.test(f.id);
      return [
        elsewhere
          ? {
              ...clock,
              title: 'Check the clock of the machine that issued or signed the credential against the server’s',
            }
          : clock,
        ...(f.id.startsWith(SIGNED.azure) || f.id.includes('start-ahead')
          ? [
              {
                title:
                  'Leave the SAS start time out, or set it 15 min in the past, so clock differences cannot make it start late',
                difficulty: 'easy' as const,
                docs: 'https://learn.microsoft.com/en-us/azure/storage/common/storage-sas-overview#best-practices-when-using-sas',
              },
            ]
          : []),
        ...(f.id.startsWith('signing-time') ? [] : reissue(ctx, f).slice(0, 1)),
      ];
    }
    case 'credential-missing':
      return [SET_VARIABLE];
    case 'ip-restricted':
      return [
        {
          title: 'Send the request from an address the SAS allows, or generate one for your address',
          difficulty: 'medium',
          commands: ['curl -s https://ifconfig.me   # the address Azure sees'],
          verify: 'Your public address lies inside the SAS’s sip range.',
        },
      ];
    default:
      return malformedFixes(f);
  }
}

function malformedFixes(f: CredentialFinding): Fix[] {
  if (/quoted|whitespace|line-break|extra-space/.test(f.id)) return [CLEAN_TOKEN, BEARER_SHAPE];
  if (/bearer|scheme|header-name|authorization-repeated/.test(f.id)) return [BEARER_SHAPE];
  if (f.id === 'token-not-bearer')
    return [{ title: 'Use the credential the way its vendor documents', difficulty: 'easy', verify: f.text }];
  if (f.id.startsWith('basic'))
    return [
      {
        title: 'Let the client build the Basic header from user and password',
        difficulty: 'easy',
        commands: ['curl -u "USER:PASSWORD" URL'],
        docs: 'https://www.rfc-editor.org/rfc/rfc7617',
      },
    ];
  if (f.id.startsWith('sigv4') || f.id.startsWith(SIGNED.shape))
    return [
      {
        title: 'Let the AWS CLI or an SDK sign the request or URL',
        difficulty: 'easy',
        commands: ['aws configure list', 'aws sts get-caller-identity'],
        docs: 'https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv.html',
      },
    ];
  if (f.id.startsWith('jwt-undecodable'))
    return [
      {
        title: 'Copy the whole token again: it was cut short or altered',
        difficulty: 'easy',
        commands: ['why403 token -   # paste the token; it should decode'],
      },
    ];
  if (f.id.includes('milliseconds'))
    return [
      {
        title: 'Issue exp, nbf and iat in seconds since 1970, not milliseconds',
        difficulty: 'medium',
        docs: 'https://www.rfc-editor.org/rfc/rfc7519#section-2',
      },
    ];
  if (f.id.startsWith(SIGNED.azure))
    return [
      {
        title: 'Generate the SAS again with the SDK or az CLI rather than by hand',
        difficulty: 'easy',
        docs: 'https://learn.microsoft.com/en-us/rest/api/storageservices/create-service-sas',
      },
    ];
  return [BEARER_SHAPE];
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

const MESSAGES = {
  // A finding's text is already the whole sentence (what was measured, against
  // which clock), written where the measurement is made; the claim repeats it.
  measured: '{{findingText}}',
  nothingSent: 'The server asks for credentials ({{challenge}}) and the request carried {{carried}}{{redirect}}.',
} as const;

type ValidityCause =
  | 'credential-expired'
  | 'credential-not-yet-valid'
  | 'clock-skew'
  | 'credential-malformed'
  | 'credential-missing'
  | 'ip-restricted';
const CAUSES: readonly ValidityCause[] = [
  'credential-expired',
  'credential-not-yet-valid',
  'clock-skew',
  'credential-malformed',
  'credential-missing',
  'ip-restricted',
];
const isValidityCause = (id: string): id is ValidityCause => (CAUSES as readonly string[]).includes(id);

function missingFixes(ctx: Context, schemes: string[]): Fix[] {
  const url = ctx.url ? redactUrl(ctx.url.href) : 'URL';
  const bearer = schemes.some((s) => s.toLowerCase() === 'bearer');
  const basic = schemes.some((s) => s.toLowerCase() === 'basic');
  return [
    {
      title: `Send the credential the server asks for (${schemes.join(', ')})`,
      difficulty: 'easy',
      commands: bearer
        ? [`curl -H "Authorization: Bearer $TOKEN" ${url}`]
        : basic
          ? [`curl -u USER ${url}`]
          : [`curl -v ${url}`],
      verify: `The same request no longer answers ${ctx.status}.`,
    },
    {
      title: 'If the client did send it, find where it was dropped',
      difficulty: 'medium',
      commands: [
        `curl -sv ${url} -H "Authorization: Bearer $TOKEN" 2>&1 | grep -iE '^> (authorization|host)|^< (location|www-authenticate)'`,
      ],
      verify:
        'Clients drop Authorization when a redirect leads to another host; proxies and some servers (Apache without CGIPassAuth, mod_wsgi without WSGIPassAuthorization) strip it before the application.',
    },
  ];
}

/** A refused request that carried nothing (or only cookies) while the response asked for credentials. */
function claimMissing(ctx: Context, report: Reporter<ValidityCause, keyof typeof MESSAGES>): void {
  if (!ctx.exchange.request || !ctx.challenges.length) return;
  const items = ctx.credential.items;
  if (items.some((i) => i.kind !== 'cookie')) return;
  const schemes = [...new Set(ctx.challenges.map((c) => c.scheme))];
  const challenge = ctx.header('www-authenticate') ?? schemes.join(', ');
  const cookiesOnly = items.length > 0;
  const redirect = crossOriginRedirect(ctx);
  report.claim('credential-missing', 'nothingSent', redirect ? 0.6 : cookiesOnly ? 0.3 : 0.45, {
    data: {
      challenge: challenge.length > 120 ? schemes.join(', ') : challenge,
      carried: cookiesOnly ? 'only cookies' : 'none',
      redirect: redirect ? `; it was ${redirect}, and clients drop Authorization on such redirects` : '',
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
    fixes: missingFixes(ctx, schemes),
  });
}

export default defineCause({
  meta: {
    id: 'credential-validity',
    description:
      'Expired, not-yet-valid and malformed credentials, clock skew against the server’s Date, and requests that carried no credential where one was asked for.',
    docs: [
      'https://www.rfc-editor.org/rfc/rfc6750',
      'https://www.rfc-editor.org/rfc/rfc7519#section-4.1.4',
      'https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html',
      'https://learn.microsoft.com/en-us/rest/api/storageservices/create-service-sas',
      'https://cloud.google.com/storage/docs/access-control/signed-urls',
    ],
    causes: CAUSES,
    statuses: [401, 403],
    messages: MESSAGES,
  },
  explain(ctx, report) {
    for (const f of ctx.credential.findings) {
      if (f.weight <= 0 || !isValidityCause(f.cause)) continue;
      report.claim(f.cause, 'measured', f.weight, {
        data: { findingText: f.text },
        evidence: [ev(f.source, f.text)],
        fixes: fixesFor(ctx, f),
      });
    }
    claimMissing(ctx, report);
  },
});
