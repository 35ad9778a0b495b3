import { InputError, UsageError } from '../errors.ts';
import { inspectToken } from '../inspect.ts';
import { renderCredential } from '../render/credential.ts';
import { styleFor } from '../render/text.ts';
import type { Io } from './io.ts';
import { commandArgs, printHelp } from './args.ts';
import { readAll } from './read.ts';
import { exitCode } from './exit-code.ts';

const EXPECTED = 'expected a JWT, "Bearer …", an "Authorization: …" line, a Basic credential or a signed URL';

const HELP = `Usage: why403 token [--json] [--show-secrets] TOKEN|-

Decodes a credential without verifying it. TOKEN is a JWT, "Bearer …", a whole
"Authorization: …" line, a Basic credential, an S3 or Google Cloud Storage
pre-signed URL, or an Azure SAS URL; - reads it from standard input.
  --json            the inspection as JSON
  --show-secrets    print the credential unredacted
`;

export async function tokenCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = commandArgs(argv, { json: { type: 'boolean' }, 'show-secrets': { type: 'boolean' } });
  if (values.help) return printHelp(io, HELP);
  if (positionals.length !== 1)
    throw new UsageError('token needs exactly one TOKEN argument, or - to read it from standard input');
  const fromStdin = positionals[0] === '-';
  const raw = fromStdin ? (await readAll(io.stdin)).toString('utf8').trim() : positionals[0];
  if (!raw.trim()) {
    throw fromStdin
      ? new UsageError('token: standard input was empty (expected a token)')
      : new InputError('TOKEN argument', `is empty; ${EXPECTED}`);
  }
  const report = inspectToken(raw, { showSecrets: values['show-secrets'] });
  if (values.json) io.stdout.write(JSON.stringify(report, null, 2) + '\n');
  else
    io.stdout.write(renderCredential(report, { style: styleFor(io.stdout, io.env), width: io.stdout.columns || 80 }));
  return exitCode({ kind: 'done' });
}
