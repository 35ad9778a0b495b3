// The command line: parses arguments and calls the library. No diagnosis
// logic lives here.
import { readFileSync } from 'node:fs';
import { Why403Error, UsageError } from '../errors.ts';
import { processIo, type Io } from './io.ts';
import { explainCommand } from './explain.ts';
import { checkCommand } from './check.ts';
import { tokenCommand } from './token.ts';
import { rulesCommand } from './rules.ts';
import { scanCommand } from './scan.ts';

export const USAGE = `why403 — explains why an HTTP request was answered 403 (or 401): who said no, why, and what now.

Usage:
  why403 explain [--json|--jsonl|--markdown] FILE…      diagnose saved exchanges (HAR, raw HTTP, JSON; - = stdin)
  why403 check [options] URL [-X METHOD] [-H 'Name: value']… [-d BODY]
  why403 check [options] -- curl 'https://…' -H '…'     send the request once, then diagnose the answer
  why403 token [--json] TOKEN|-                          decode a credential (JWT, Basic, pre-signed URL, SAS)
  why403 rules [--json]                                  list the producers and causes this version knows
  why403 scan --list URL|--ids FILE --get 'https://…/{id}' [-H …]   find the records an identity cannot read
  why403 scan --resume STATE | why403 scan diff A B       continue a scan; compare two scans

Output:  --json (why403/report@1), --jsonl (one report a line), --markdown (incident note); default: terminal
Options: --show-secrets   print credentials unredacted      --debug   stack traces on errors
check:   --timeout SECONDS (15)   --max-body BYTES (262144)   --no-follow (redirects)
         --insecure (skip TLS verification)   --allow-unsafe (send POST/PUT/PATCH/DELETE…)   --dry-run

Exit codes: 0 no denial, 1 denied (diagnosed), 2 usage or input error, 3 network failure.
`;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export async function main(argv: string[], io: Io = processIo()): Promise<number> {
  // --debug is global, but after "--" everything belongs to the curl command.
  const dashes = argv.indexOf('--');
  const head = dashes === -1 ? argv : argv.slice(0, dashes);
  const debug = head.includes('--debug');
  const args = [...head.filter((a) => a !== '--debug'), ...(dashes === -1 ? [] : argv.slice(dashes))];
  const [command, ...rest] = args;
  try {
    switch (command) {
      case 'explain':
        return await explainCommand(rest, io);
      case 'check':
        return await checkCommand(rest, io);
      case 'token':
        return await tokenCommand(rest, io);
      case 'rules':
        return await rulesCommand(rest, io);
      case 'scan':
        return await scanCommand(rest, io);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.stdout.write(USAGE);
        return command === undefined ? 2 : 0;
      case '--version':
      case '-v':
      case 'version':
        io.stdout.write(`why403 ${version()}\n`);
        return 0;
      default:
        throw new UsageError(`unknown command "${command}" (expected explain, check, token, rules or scan; see why403 --help)`);
    }
  } catch (err) {
    if (err instanceof Why403Error) {
      io.stderr.write(`why403: ${err.message}\n`);
      if (debug && err.stack) io.stderr.write(err.stack + '\n');
      return err.exitCode;
    }
    if (isParseArgsError(err)) {
      const unknown = /Unknown option '([^']+)'/.exec((err as Error).message);
      // parseArgs explains over several lines; one clear line is enough.
      const text = unknown ? `unknown option ${unknown[1]} for "${command}"` : (err as Error).message.split('\n')[0];
      io.stderr.write(`why403: ${text} (see why403 ${command ?? ''} --help)\n`.replace(' ()', '').replace('why403  --help', 'why403 --help'));
      return 2;
    }
    io.stderr.write(`why403: internal error: ${(err as Error)?.message ?? String(err)}${debug ? '' : ' (run with --debug for details)'}\n`);
    if (debug && (err as Error)?.stack) io.stderr.write((err as Error).stack + '\n');
    return 70;
  }
}

function isParseArgsError(err: unknown): boolean {
  const code = (err as { code?: string })?.code ?? '';
  return code.startsWith('ERR_PARSE_ARGS') || code === 'ERR_INVALID_ARG_VALUE';
}
