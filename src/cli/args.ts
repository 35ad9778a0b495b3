// What every command's arguments have in common: parsed by parseArgs, with
// positionals allowed, and -h/--help, which prints the command's help.
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';
import type { Io } from './io.ts';
import { exitCode } from './exit-code.ts';

const HELP_OPTION = { help: { type: 'boolean', short: 'h' } } as const;

/** The output options `--json` and `--jsonl`, as commands that write reports or summaries declare them. */
export const JSON_OPTIONS = { json: { type: 'boolean' }, jsonl: { type: 'boolean' } } as const;

/** How a request is sent, the same options in `check` and `scan`. */
export const SEND_OPTIONS = {
  header: { type: 'string', short: 'H', multiple: true },
  request: { type: 'string', short: 'X' },
  timeout: { type: 'string' },
  insecure: { type: 'boolean' },
  'allow-unsafe': { type: 'boolean' },
  'dry-run': { type: 'boolean' },
  'show-secrets': { type: 'boolean' },
} as const;

/** `argv` parsed with a command's `options` and --help; positionals are allowed unless `positionals` is false. */
export function commandArgs<O extends ParseArgsOptionsConfig, P extends boolean = true>(
  argv: string[],
  options: O,
  positionals: P = true as P,
) {
  return parseArgs({ args: argv, allowPositionals: positionals, options: { ...options, ...HELP_OPTION } });
}

/** Prints a command's help; the exit code of a command that did what it was asked. */
export function printHelp(io: Io, help: string): number {
  io.stdout.write(help);
  return exitCode({ kind: 'done' });
}
