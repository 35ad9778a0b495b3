// What a command writes to, so commands can be run in-process by tests.
import { exitCode } from './exit-code.ts';

export interface Io {
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  stdin: NodeJS.ReadableStream;
  env: NodeJS.ProcessEnv;
}

/**
 * The exit status when the reader of standard output goes away before the
 * end (`why403 explain x.har | head -1`): 128 + SIGPIPE, the status of a
 * program the signal stops, which is what Node (ignoring SIGPIPE) does not do.
 */
export const EXIT_OUTPUT_CLOSED = exitCode({ kind: 'error', error: 'output-closed' });

let guarded = false;

/**
 * Once per process: a closed standard output (EPIPE) ends the process at
 * once and without a word, whichever command was writing — not with Node's
 * "Unhandled 'error' event" stack. Any other failure to write it is one line
 * on standard error. A closed standard error is ignored: there is nowhere
 * left to say anything.
 */
export function guardOutput(proc: NodeJS.Process = process): void {
  if (guarded) return;
  guarded = true;
  proc.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED') proc.exit(EXIT_OUTPUT_CLOSED);
    try {
      proc.stderr.write(`why403: standard output: cannot be written (${err.code ?? err.message})\n`);
    } finally {
      proc.exit(exitCode({ kind: 'error', error: 'output-failed' }));
    }
  });
  proc.stderr.on('error', () => {});
}

export const processIo = (): Io => {
  guardOutput();
  return { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env };
};
