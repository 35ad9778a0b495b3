import { parseArgs } from 'node:util';
import { UsageError } from '../errors.ts';
import { inspectToken } from '../credentials/index.ts';
import { renderCredential } from '../render/credential.ts';
import { styleFor } from '../render/text.ts';
import type { Io } from './io.ts';
import { readAll } from './read.ts';

export async function tokenCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { json: { type: 'boolean' }, 'show-secrets': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    io.stdout.write('Usage: why403 token [--json] [--show-secrets] TOKEN|-\n  TOKEN: a JWT, "Bearer …", an "Authorization: …" line, a Basic credential, a pre-signed S3/GCS URL or an Azure SAS URL; - reads it from standard input.\n');
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError('token needs exactly one TOKEN argument, or - to read it from standard input');
  const raw = positionals[0] === '-' ? (await readAll(io.stdin)).toString('utf8').trim() : positionals[0];
  if (!raw) throw new UsageError('token: standard input was empty (expected a token)');
  const report = inspectToken(raw, { showSecrets: values['show-secrets'] });
  if (values.json) io.stdout.write(JSON.stringify(report, null, 2) + '\n');
  else io.stdout.write(renderCredential(report, { style: styleFor(io.stdout, io.env) }));
  return 0;
}
