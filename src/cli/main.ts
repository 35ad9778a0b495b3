// The command line: parses arguments and calls the library. No diagnosis
// logic lives here. Each command is imported only when it runs, so `--help`
// and `token` do not load the rules, the curl parser or the scan machinery.
import { readFileSync } from 'node:fs';
import { Why403Error, UsageError, printable } from '../errors.ts';
import { processIo, type Io } from './io.ts';
import { errorKind, exitCode } from './exit-code.ts';

export const USAGE = `why403 — explains why an HTTP request was answered 403 (or 401): who said
no, why, and what now.

Usage:
  why403 explain [--json|--jsonl|--markdown] FILE…
      diagnose saved exchanges (HAR, raw HTTP, JSON; - = standard input)
  why403 check [options] URL [-X METHOD] [-H 'Name: value']… [-d BODY]
  why403 check [options] -- curl 'https://…' -H '…'
      send the request once, then diagnose the answer
  why403 token [--json] TOKEN|-
      decode a credential (JWT, Basic, pre-signed URL, SAS)
  why403 rules [--json]
      list the producers and causes this version knows
  why403 scan --list URL|--ids FILE --get 'https://…/{id}' [-H …]
      find the records an identity cannot read
  why403 scan --resume STATE | why403 scan diff A B
      continue a scan; compare two scans
  why403 logs [--since T] [--until T] FILE…
      the 401s and 403s in access and error logs, and why
  why403 audit --openapi SPEC --identity 'NAME=…'… | --file AUDIT.yaml
      check who may do what: each request as each identity, against
      what should happen
  why403 events [--since T] [--until T] FILE…
      the denial events an API's why403 middleware wrote (SQLite or
      JSON lines): top reasons, principals, routes, over time
  why403 COMMAND --help
      the command's own options

Output:  --json (why403/report@1), --jsonl (one report a line),
         --markdown (incident note); default: terminal
Options: --show-secrets   print credentials unredacted
         --debug          stack traces on errors
check:   --timeout SECONDS (15)   --max-body BYTES (262144)   --no-follow
         --insecure (skip TLS verification)   --dry-run
         --allow-unsafe (send POST/PUT/PATCH/DELETE…)

Exit codes: 0 no denial, 1 denied (diagnosed), 2 usage or input error,
  3 network failure, 70 internal error (a bug: --debug shows where),
  141 output closed early (e.g. | head); scan and audit also 75 and 130
  (see their --help).
`;

function version(): string {
  for (const path of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(path, import.meta.url), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'why403' && pkg.version) return pkg.version;
    } catch {
      // not this one
    }
  }
  return 'unknown';
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
        return await (await import('./explain.ts')).explainCommand(rest, io);
      case 'check':
        return await (await import('./check.ts')).checkCommand(rest, io);
      case 'token':
        return await (await import('./token.ts')).tokenCommand(rest, io);
      case 'rules':
        return await (await import('./rules.ts')).rulesCommand(rest, io);
      case 'scan':
        return await (await import('./scan.ts')).scanCommand(rest, io);
      case 'logs':
        return await (await import('./logs.ts')).logsCommand(rest, io);
      case 'audit':
        return await (await import('./audit.ts')).auditCommand(rest, io);
      case 'events':
        return await (await import('./events.ts')).eventsCommand(rest, io);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.stdout.write(USAGE);
        return exitCode({ kind: command === undefined ? 'no-command' : 'done' });
      case '--version':
      case '-v':
      case 'version':
        io.stdout.write(`why403 ${version()}\n`);
        return exitCode({ kind: 'done' });
      default:
        throw new UsageError(
          `unknown command "${command}" (expected explain, check, token, rules, scan, logs, audit or events; see why403 --help)`,
        );
    }
  } catch (err) {
    if (err instanceof Why403Error) {
      // The message is printable already (see errors.ts).
      io.stderr.write(`why403: ${err.message}\n`);
      if (debug && err.stack) io.stderr.write(printableLines(err.stack) + '\n');
      return exitCode({ kind: 'error', error: errorKind(err) });
    }
    const kind = errorKind(err);
    if (kind === 'usage') {
      // parseArgs's own error (an unknown option, a missing value).
      const unknown = /Unknown option '([^']+)'/.exec((err as Error).message);
      // parseArgs explains over several lines; one clear line is enough.
      const text = unknown ? `unknown option ${unknown[1]} for "${command}"` : (err as Error).message.split('\n')[0];
      io.stderr.write(
        printable(
          `why403: ${text} (see why403 ${command ?? ''} --help)`
            .replace(' ()', '')
            .replace('why403  --help', 'why403 --help'),
        ) + '\n',
      );
      if (debug && (err as Error).stack) io.stderr.write(printableLines((err as Error).stack!) + '\n');
      return exitCode({ kind: 'error', error: kind });
    }
    const message = err instanceof Error ? err.message : String(err);
    io.stderr.write(`why403: internal error: ${printable(message)}${debug ? '' : ' (run with --debug for details)'}\n`);
    if (debug && (err as Error)?.stack) io.stderr.write(printableLines((err as Error).stack!) + '\n');
    return exitCode({ kind: 'error', error: kind });
  }
}

/** A stack trace: its lines kept, control characters inside them escaped. */
function printableLines(text: string): string {
  return text.split('\n').map(printable).join('\n');
}
