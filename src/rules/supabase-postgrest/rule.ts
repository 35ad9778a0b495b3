// PostgREST (the REST layer of Supabase) answers with {"code", "message",
// "details", "hint"}: PGRST3xx codes for its own JWT checks (401), and the
// PostgreSQL SQLSTATE for database errors — 42501 insufficient_privilege
// becomes 403 when the request was authenticated, 401 when anonymous
// (docs/references/errors.rst). The four-key envelope with a PGRST or
// five-character SQLSTATE code is what names it.
import { defineRule, ev, type CauseClaim } from '../define.ts';
import type { Context } from '../../engine/context.ts';
import type { Evidence } from '../../model/report.ts';

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
  if (typeof j.code !== 'string' || typeof j.message !== 'string' || !('details' in j) || !('hint' in j)) return undefined;
  if (!/^(PGRST\d{3}|[0-9A-Z]{5})$/.test(j.code)) return undefined;
  return { code: j.code, message: j.message, details: j.details, hint: j.hint };
}

const str = (v: unknown) => (typeof v === 'string' ? v : undefined);

export default defineRule({
  meta: {
    id: 'supabase-postgrest',
    kind: 'producer',
    product: 'supabase-postgrest',
    layer: 'application',
    description: 'PostgREST / Supabase REST errors: JWT failures (PGRST301/302/303), and PostgreSQL 42501 insufficient_privilege (missing GRANT, row-level security, a db-pre-request check).',
    docs: [ERRORS_DOCS, AUTH_DOCS, 'https://docs.postgrest.org/en/stable/tutorials/tut1.html', RLS_DOCS],
    causes: ['credential-expired', 'credential-invalid', 'credential-missing', 'insufficient-role', 'resource-policy'],
  },
  applies: (ctx) => ctx.status === 401 || ctx.status === 403,
  run(ctx) {
    const err = pgError(ctx);
    if (!err) return undefined;
    const evidence: Evidence[] = [ev('body', `{"code":"${err.code}","message":"${err.message}", details, hint} (PostgREST’s error envelope)`)];
    const host = ctx.url?.hostname ?? '';
    if (/\.supabase\.(co|in)$/.test(host)) evidence.push(ev('request:url', `${host} (a Supabase project)`));
    const pgrst = err.code.startsWith('PGRST');
    const producer = { product: 'supabase-postgrest' as const, layer: 'application' as const, confidence: pgrst || evidence.length > 1 ? 0.9 : 0.75, evidence };
    const table = /for (?:table|relation|view|function|schema) "?([\w.]+)"?/.exec(err.message)?.[1];
    const hint = str(err.hint);
    const body = ev('body:code', `${err.code}: ${err.message}${hint ? ` (hint: ${hint})` : ''}`);
    const causes: CauseClaim[] = [];
    const tokenFix = { title: 'Get a fresh access token (supabase.auth.refreshSession(), or re-sign the JWT with the project’s JWT secret)', difficulty: 'easy' as const, commands: ['why403 token "$TOKEN"'], verify: 'why403 token shows exp in the future and role = authenticated (or the role you expect).', docs: AUTH_DOCS };

    if (err.code === 'PGRST301' || err.code === 'PGRST303') {
      const expired = /expired/i.test(err.message);
      causes.push({ id: expired ? 'credential-expired' : 'credential-invalid', weight: 0.9, summary: expired ? 'PostgREST rejected the JWT: it is past its exp claim.' : `PostgREST could not validate the JWT (${err.message}): wrong secret / JWKS, malformed token, or claims it rejects.`, evidence: [body], fixes: [tokenFix] });
    } else if (err.code === 'PGRST302') {
      causes.push({ id: 'credential-missing', weight: 0.85, summary: 'Anonymous access is disabled (no db-anon-role) and the request carried no JWT.', evidence: [body], fixes: [{ ...tokenFix, title: 'Send the user’s JWT as Authorization: Bearer (and the apikey header on Supabase)', commands: [`curl -H "apikey: $SUPABASE_ANON_KEY" -H "Authorization: Bearer $TOKEN" ${ctx.url?.href ?? 'URL'}`] }] });
    } else if (err.code === '42501') {
      const rls = /row-level security/i.test(err.message);
      const preRequest = !rls && !table && Boolean(hint);
      if (preRequest) {
        // Raised by the project's own SQL (db-pre-request or a function): the hint is the project's reason.
        causes.push({ id: 'credential-invalid', weight: 0.7, summary: `A check in the database (db-pre-request function or a called function) raised insufficient_privilege for this token: "${hint}". In PostgREST's tutorial this is how a specific token is revoked.`, evidence: [body], fixes: [{ title: 'Find the function that raises it and why it rejects this token', difficulty: 'medium', commands: ["psql -c \"select current_setting('pgrst.db_pre_request', true)\"", "psql -c \"select proname from pg_proc where prosrc ilike '%insufficient_privilege%'\""], verify: 'Calling the pre-request function with this token’s claims no longer raises.' , docs: 'https://docs.postgrest.org/en/stable/references/transactions.html#pre-request' }] });
        causes.push({ id: 'insufficient-role', weight: 0.3, summary: 'Or the token’s role lacks a privilege the function checks.', evidence: [body], fixes: [] });
      } else if (rls) {
        causes.push({ id: 'resource-policy', weight: 0.85, summary: `A row-level security policy on ${table ?? 'the table'} rejected the row (no policy’s USING / WITH CHECK admits it for this role).`, evidence: [body], ...(table ? { gap: { required: [`an RLS policy on ${table} admitting this row for the token's role`], held: [] } } : {}), fixes: [{ title: `Add or fix the policy on ${table ?? 'the table'} for the role in the JWT`, difficulty: 'medium', commands: [`psql -c "select policyname, cmd, roles, qual, with_check from pg_policies where tablename = '${table?.split('.').pop() ?? 'TABLE'}'"`, `-- create policy "insert own rows" on ${table ?? 'TABLE'} for insert to authenticated with check (auth.uid() = user_id);`], verify: `psql: begin; set local role authenticated; set local request.jwt.claims = '{"sub":"USER_ID","role":"authenticated"}'; -- repeat the statement; rollback;`, docs: RLS_DOCS }] });
      } else {
        const role = ctx.status === 401 ? 'anon' : 'authenticated';
        causes.push({ id: 'insufficient-role', weight: 0.85, summary: `The database role of this request (${role} on Supabase) has no privilege on ${table ?? 'the object'}: a GRANT is missing.`, evidence: [body], ...(table ? { gap: { required: [`privilege on ${table} for role ${role}`], held: [] } } : {}), fixes: [{ title: `GRANT the privilege on ${table ?? 'the object'} to the request’s role`, difficulty: 'easy', commands: [`psql -c "grant select, insert, update, delete on ${table ?? 'TABLE'} to ${role}"`], verify: `psql -c "select has_table_privilege('${role}', '${table ?? 'TABLE'}', 'select')" returns t.`, docs: ERRORS_DOCS }] });
        if (ctx.status === 401) causes.push({ id: 'credential-missing', weight: 0.4, summary: 'PostgREST answers 42501 with 401 when the request was anonymous: sending the user’s JWT may be the fix.', evidence: [body], fixes: [tokenFix] });
      }
    } else return { producer };
    return { producer, causes };
  },
});
