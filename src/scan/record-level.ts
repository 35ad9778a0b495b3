// What a scan proves that one request cannot: the same identity, the same
// request, the same endpoint — allowed for some records, refused for others.
// Whatever refused did so because of the record. That is evidence for a
// record-level rule (field-restricted, or an ownership rule) and against
// everything that would refuse every record alike: a missing, expired or
// invalid credential, an IP rule, a WAF rule on the request's shape.
// When the denial's own words already name a rule that refuses record by
// record (the record is locked; a permission is required), the scan backs
// that cause instead of burying it under the generic field-restricted one.
import type { CauseClaim } from '../model/rule.ts';
import type { ProbeResult } from '../model/report.ts';
import type { CauseId } from '../model/vocabulary.ts';
import type { Separation } from './separate.ts';

export interface ScanComparison {
  status: number;
  /** Records denied with this signature. */
  denied: number;
  /** Records the same identity read (2xx). */
  allowed: number;
  /** The fields that separate this signature's records from the allowed ones (never another signature's). */
  separation: Separation[];
  command: string;
  /** The signature's own body, diagnosed without the scan: its likeliest cause. */
  bodyCause?: { id: CauseId; score: number };
}

/** Causes a denial's words can name that refuse some records and not others: the scan bears them out. */
const RECORD_LEVEL_KINDS: Partial<Record<CauseId, string>> = {
  'resource-state': 'the state its words name (locked, archived, …) is the state of those records',
  'insufficient-role': 'the role or permission its words name is required for those records',
  'insufficient-scope': 'the scope its words name is required for those records',
  'explicit-deny': 'the deny its words name applies to those records',
  'resource-policy': 'the policy its words name is attached to those records',
  'not-owner': 'those records belong to someone else, as its words say',
};

/** A body cause at least this likely is the kind of record-level rule the scan shows. */
const BODY_NAMES_IT = 0.4;

const SAME_FOR_EVERY_RECORD: CauseId[] = [
  'credential-missing',
  'credential-malformed',
  'credential-expired',
  'credential-not-yet-valid',
  'credential-invalid',
  'clock-skew',
  'wrong-audience',
  'ip-restricted',
  'cors',
  'csrf',
  'proxy-interference',
];

export function recordLevelEvidence(c: ScanComparison): { claims: CauseClaim[]; probe: ProbeResult } | undefined {
  if (c.allowed === 0 || c.denied === 0) return undefined;
  const counts = `${c.allowed.toLocaleString('en-US')} records of the same endpoint were read with the same request and credential; ${c.denied.toLocaleString('en-US')} got this ${c.status}`;
  if (c.status === 401) {
    // A credential accepted for some records and refused as unauthenticated for others most often ran out part-way.
    return {
      claims: [
        {
          id: 'credential-expired',
          weight: 0.45,
          summary: `The same credential was accepted for ${c.allowed.toLocaleString('en-US')} other records: a 401 for only some of them suggests it expired or was revoked while the scan ran.`,
          evidence: [{ source: 'probe:scan', text: counts }],
          fixes: [
            {
              title: 'Renew the credential and fetch the failed records again',
              difficulty: 'easy',
              commands: [
                `${c.command.replace('scan report', 'scan --resume')} -H 'Authorization: <the renewed credential>' --retry-errors`,
              ],
              verify: 'The resumed records answer 200.',
            },
          ],
        },
      ],
      probe: { name: 'scan', status: 200, meaning: counts, confirms: ['credential-expired'] },
    };
  }
  const exact = c.separation.find((s) => s.exact);
  const best = exact ?? c.separation[0];
  const evidence = [
    { source: 'probe:scan', text: counts },
    ...(best ? [{ source: `scan:field ${best.field}`, text: best.statement }] : []),
  ];
  const named =
    c.bodyCause && c.bodyCause.score >= BODY_NAMES_IT && c.bodyCause.id !== 'field-restricted'
      ? RECORD_LEVEL_KINDS[c.bodyCause.id]
      : undefined;
  const claims: CauseClaim[] = [
    ...(named
      ? [
          {
            id: c.bodyCause!.id,
            weight: 0.5,
            summary: `Only some records of the same endpoint get this answer (${counts})${best ? `; ${best.statement}` : ''}: ${named}, not the request or the credential.`,
            evidence,
          },
        ]
      : []),
    {
      id: 'field-restricted',
      // The answer's words name the kind of rule: that cause leads, this one says where it applies.
      weight: named ? (exact ? 0.5 : best ? 0.4 : 0.3) : exact ? 0.85 : best ? 0.7 : 0.6,
      summary: `The refusal depends on the record, not on the request or the credential: ${counts}.${best ? ` ${best.statement[0].toUpperCase()}${best.statement.slice(1)}.` : ''} A record-level rule refuses these records to this identity.`,
      evidence,
      fixes: [
        {
          title: best
            ? `Find the rule on ${best.field} that refuses these records, and grant the identity access to them (or exclude them from its job)`
            : 'Find the record-level rule (row policy, ABAC condition, ownership check) that refuses these records',
          difficulty: 'medium',
          commands: [`${c.command} --out forbidden.csv`],
          verify:
            'Scan again after the change and compare: `why403 scan diff BEFORE.sqlite AFTER.sqlite` lists them as newly allowed.',
        },
      ],
    },
    {
      id: 'not-owner',
      weight: 0.3,
      summary:
        'Ownership or tenancy rules also refuse record by record: the refused records may belong to another user, team or organisation.',
      evidence: [{ source: 'probe:scan', text: counts }],
    },
    ...SAME_FOR_EVERY_RECORD.map((id) => ({
      id,
      weight: -0.6,
      summary: '',
      evidence: [
        {
          source: 'probe:scan',
          text: `the same request and credential were accepted for ${c.allowed.toLocaleString('en-US')} other records`,
        },
      ],
    })),
  ];
  return {
    claims,
    probe: {
      name: 'scan',
      status: 200,
      meaning: counts,
      confirms: named ? [c.bodyCause!.id, 'field-restricted'] : ['field-restricted'],
      rulesOut: SAME_FOR_EVERY_RECORD,
    },
  };
}
