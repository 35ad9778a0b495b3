// PostgREST (the REST layer of Supabase) answers with {"code", "message",
// "details", "hint"}: PGRST3xx codes for its own JWT checks (401), and the
// PostgreSQL SQLSTATE for database errors — 42501 insufficient_privilege
// becomes 403 when the request was authenticated, 401 when anonymous
// (docs/references/errors.rst). The four-key envelope with a PGRST or
// five-character SQLSTATE code is what names it.
import { defineProducer, ev, signals, type Context } from '../define.ts';
import texts from './texts.json' with { type: 'json' };

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

export default defineProducer({
  meta: {
    id: 'supabase-postgrest',
    product: 'supabase-postgrest',
    layer: 'application',
    causes: ['credential-expired', 'credential-invalid', 'credential-missing', 'insufficient-role', 'resource-policy'],
    statuses: [401, 403],
    ...texts,
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
    const tableSql = table ?? 'TABLE';

    if (err.code === 'PGRST301' || err.code === 'PGRST303') {
      const expired = /expired/i.test(err.message);
      report.claim(expired ? 'credential-expired' : 'credential-invalid', expired ? 'jwtExpired' : 'jwtInvalid', 0.9, {
        data: { message: err.message },
        evidence,
        fixes: ['freshToken'],
      });
    } else if (err.code === 'PGRST302') {
      report.claim('credential-missing', 'anonDisabled', 0.85, {
        data: { url: ctx.url?.href ?? 'URL' },
        evidence,
        fixes: ['sendJwt'],
      });
    } else if (err.code === '42501') {
      const rls = /row-level security/i.test(err.message);
      if (!rls && !table && hint) {
        // Raised by the project's own SQL (db-pre-request or a function): the hint is the project's reason.
        report.claim('credential-invalid', 'preRequest', 0.7, { data: { hint }, evidence, fixes: ['preRequest'] });
        report.claim('insufficient-role', 'preRequestRole', 0.3, { evidence });
      } else if (rls) {
        const gap = table
          ? { required: [`an RLS policy on ${table} admitting this row for the token's role`], held: [] }
          : undefined;
        report.claim('resource-policy', 'rowSecurity', 0.85, {
          data: { table: table ?? 'the table', tableName: table?.split('.').pop() ?? 'TABLE', tableSql },
          evidence,
          gap,
          fixes: ['policy'],
        });
      } else {
        const role = ctx.status === 401 ? 'anon' : 'authenticated';
        const gap = table ? { required: [`privilege on ${table} for role ${role}`], held: [] } : undefined;
        report.claim('insufficient-role', 'missingGrant', 0.85, {
          data: { role, table: table ?? 'the object', tableSql },
          evidence,
          gap,
          fixes: ['grant'],
        });
        if (ctx.status === 401)
          report.claim('credential-missing', 'anonymous', 0.4, { evidence, fixes: ['freshToken'] });
      }
    }
  },
});
