// One base class, one subclass per kind of failure, each with a stable code
// and the exit code the CLI uses. Messages are one line a user can act on:
// which input, what was expected or what failed. A message quotes what it
// found in the input, so control characters are escaped (printable): a
// quoted fragment of a binary file must not drive the user's terminal.

// C0 and C1 controls, DEL, line and paragraph separators, and the
// bidirectional marks, embeddings, overrides and isolates.
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** `s` as one line that is safe to print: each control character written as an escape (\n, \x1b, \u202e). */
export function printable(s: string): string {
  return s.replace(UNPRINTABLE, (c) => {
    const code = c.charCodeAt(0);
    return (
      NAMED[c] ??
      (code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`)
    );
  });
}

export class Why403Error extends Error {
  readonly code: string;
  readonly exitCode: number;
  constructor(message: string, code: string, exitCode: number, options?: { cause?: unknown }) {
    super(printable(message), options);
    this.name = new.target.name;
    this.code = code;
    this.exitCode = exitCode;
  }
}

/** Bad command-line usage: unknown option, missing argument. Exit 2. */
export class UsageError extends Why403Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'W403_USAGE', 2, options);
  }
}

/** An input we cannot read or understand: file, HAR, JSON, curl command, token. Exit 2. */
export class InputError extends Why403Error {
  /** The input's name as the user gave it (a path, "-", "curl command"). */
  readonly input: string;
  /** The message without the input's name: what was expected, what was found. */
  readonly detail: string;
  constructor(input: string, message: string, options?: { cause?: unknown }) {
    super(`${input}: ${message}`, 'W403_INPUT', 2, options);
    this.input = input;
    this.detail = printable(message);
  }
}

/** The request could not be completed: DNS, refused connection, TLS, timeout. Exit 3. */
export class NetworkError extends Why403Error {
  constructor(message: string, code = 'W403_NETWORK', options?: { cause?: unknown }) {
    super(message, code, 3, options);
  }
}
