// PostgREST (the REST layer of Supabase) answers with {"code", "message",
// "details", "hint"}: PGRST3xx codes for its own JWT checks (401), and the
// PostgreSQL SQLSTATE for database errors — 42501 insufficient_privilege
// becomes 403 when the request was authenticated, 401 when anonymous
// (docs/references/errors.rst). The four-key envelope with a PGRST or
// five-character SQLSTATE code is what names it.
import { defineProducer, ev, signals, type Context, type Fix } from '../define.ts';

const ERRORS_DOCS = 'https://docs.postgrest.org/en/stable/references/errors.html';
const AUTH_DOCS = 'https://docs.postgrest.org/en/stable/references/auth.html';
const RLS_DOCS = 'https://supabase.com/docs/guides/database/postgres/row-level-security';

interface PgError {
  code: string;
  message: string;
  details: unknown;
  hint: unknown;
}

function pgError(ctx: Context): PgError | undefined {
  const j = ctx.body.json as Record<string, unknown> | undefined;
  if (!j || typeof j !== 'object' || Array.isArray(j)) return undefined;
  if (typeof j.code !== 'string' || typeof j.message !== 'string' || !('details' in j) || !('hint' in j))
    return undefined;
  if (!/^(PGRST\d{3}|[0-9A-Z]{5})$/.test(j.code)) return undefined;
  return { code: j.code, message: j.message, details: j.details, hint: j.hint };
}

const str = (v: unknown) => (typeof v === 'string' ? v : undefined);

const TOKEN_FIX: Fix = {
  title: 'Get a fresh access token (supabase.auth.refreshSession(), or re-sign the JWT with the project’s JWT secret)',
  difficulty: 'easy',
  commands: ['why403 token "$TOKEN"'],
  verify: 'why403 token shows exp in the future and role = authenticated (or the role you expect).',
  docs: AUTH_DOCS,
};

function sendJwtFix(url: string | undefined): Fix {
  return {
    ...TOKEN_FIX,
    title: 'Send the user’s JWT as Authorization: Bearer (and the apikey header on Supabase)',
    commands: [`curl -H "apikey: $SUPABASE_ANON_KEY" -H "Authorization: Bearer $TOKEN" ${url ?? 'URL'}`],
  };
}

const PRE_REQUEST_FIX: Fix = {
  title: 'Find the function that raises it and why it rejects this token',
  difficulty: 'medium',
  commands: [
    'psql -c "select current_setting(\'pgrst.db_pre_request\', true)"',
    'psql -c "select proname from pg_proc where prosrc ilike \'%insufficient_privilege%\'"',
  ],
  verify: 'Calling the pre-request function with this token’s claims no longer raises.',
  docs: 'https://docs.postgrest.org/en/stable/references/transactions.html#pre-request',
};

function policyFix(table: string | undefined): Fix {
  const claims = `'{"sub":"USER_ID","role":"authenticated"}'`;
  return {
    title: `Add or fix the policy on ${table ?? 'the table'} for the role in the JWT`,
    difficulty: 'medium',
    commands: [
      `psql -c "select policyname, cmd, roles, qual, with_check from pg_policies where tablename = '${table?.split('.').pop() ?? 'TABLE'}'"`,
      `-- create policy "insert own rows" on ${table ?? 'TABLE'} for insert to authenticated with check (auth.uid() = user_id);`,
    ],
    verify: `psql: begin; set local role authenticated; set local request.jwt.claims = ${claims}; -- repeat the statement; rollback;`,
    docs: RLS_DOCS,
  };
}

function grantFix(table: string | undefined, role: string): Fix {
  return {
    title: `GRANT the privilege on ${table ?? 'the object'} to the request’s role`,
    difficulty: 'easy',
    commands: [`psql -c "grant select, insert, update, delete on ${table ?? 'TABLE'} to ${role}"`],
    verify: `psql -c "select has_table_privilege('${role}', '${table ?? 'TABLE'}', 'select')" returns t.`,
    docs: ERRORS_DOCS,
  };
}

export default defineProducer({
  meta: {
    id: 'supabase-postgrest',
    product: 'supabase-postgrest',
    layer: 'application',
    description:
      'PostgREST / Supabase REST errors: JWT failures (PGRST301/302/303), and PostgreSQL 42501 insufficient_privilege (missing GRANT, row-level security, a db-pre-request check).',
    docs: [ERRORS_DOCS, AUTH_DOCS, 'https://docs.postgrest.org/en/stable/tutorials/tut1.html', RLS_DOCS],
    causes: ['credential-expired', 'credential-invalid', 'credential-missing', 'insufficient-role', 'resource-policy'],
    statuses: [401, 403],
    messages: {
      jwtExpired: 'PostgREST rejected the JWT: it is past its exp claim.',
      jwtInvalid:
        'PostgREST could not validate the JWT ({{message}}): wrong secret / JWKS, malformed token, or claims it rejects.',
      anonDisabled: 'Anonymous access is disabled (no db-anon-role) and the request carried no JWT.',
      preRequest:
        'A check in the database (db-pre-request function or a called function) raised insufficient_privilege for this token: "{{hint}}". In PostgREST\'s tutorial this is how a specific token is revoked.',
      preRequestRole: 'Or the token’s role lacks a privilege the function checks.',
      rowSecurity:
        'A row-level security policy on {{table}} rejected the row (no policy’s USING / WITH CHECK admits it for this role).',
      missingGrant:
        'The database role of this request ({{role}} on Supabase) has no privilege on {{table}}: a GRANT is missing.',
      anonymous:
        'PostgREST answers 42501 with 401 when the request was anonymous: sending the user’s JWT may be the fix.',
    },
  },
  recognise(ctx) {
    // PostgREST's envelope also carries errors that are no denial (400, 404, 409): only 401 and 403 are claimed.
    if (ctx.status !== 401 && ctx.status !== 403) return undefined;
    const err = pgError(ctx);
    if (!err) return undefined;
    const pgrst = err.code.startsWith('PGRST');
    const host = ctx.url?.hostname ?? '';
    const supabase = /\.supabase\.(co|in)$/.test(host);
    const found = signals().add(
      pgrst || supabase ? 0.9 : 0.75,
      ev('body', `{"code":"${err.code}","message":"${err.message}", details, hint} (PostgREST’s error envelope)`),
    );
    if (supabase) found.add(0.9, ev('request:url', `${host} (a Supabase project)`));
    return found.result({ err });
  },
  explain(ctx, { err }, report) {
    const table = /for (?:table|relation|view|function|schema) "?([\w.]+)"?/.exec(err.message)?.[1];
    const hint = str(err.hint);
    const body = ev('body:code', `${err.code}: ${err.message}${hint ? ` (hint: ${hint})` : ''}`);
    const evidence = [body];

    if (err.code === 'PGRST301' || err.code === 'PGRST303') {
      const expired = /expired/i.test(err.message);
      report.claim(expired ? 'credential-expired' : 'credential-invalid', expired ? 'jwtExpired' : 'jwtInvalid', 0.9, {
        data: { message: err.message },
        evidence,
        fixes: [TOKEN_FIX],
      });
    } else if (err.code === 'PGRST302') {
      report.claim('credential-missing', 'anonDisabled', 0.85, { evidence, fixes: [sendJwtFix(ctx.url?.href)] });
    } else if (err.code === '42501') {
      const rls = /row-level security/i.test(err.message);
      if (!rls && !table && hint) {
        // Raised by the project's own SQL (db-pre-request or a function): the hint is the project's reason.
        report.claim('credential-invalid', 'preRequest', 0.7, { data: { hint }, evidence, fixes: [PRE_REQUEST_FIX] });
        report.claim('insufficient-role', 'preRequestRole', 0.3, { evidence });
      } else if (rls) {
        const gap = table
          ? { required: [`an RLS policy on ${table} admitting this row for the token's role`], held: [] }
          : undefined;
        report.claim('resource-policy', 'rowSecurity', 0.85, {
          data: { table: table ?? 'the table' },
          evidence,
          gap,
          fixes: [policyFix(table)],
        });
      } else {
        const role = ctx.status === 401 ? 'anon' : 'authenticated';
        const gap = table ? { required: [`privilege on ${table} for role ${role}`], held: [] } : undefined;
        report.claim('insufficient-role', 'missingGrant', 0.85, {
          data: { role, table: table ?? 'the object' },
          evidence,
          gap,
          fixes: [grantFix(table, role)],
        });
        if (ctx.status === 401) report.claim('credential-missing', 'anonymous', 0.4, { evidence, fixes: [TOKEN_FIX] });
      }
    }
  },
});
