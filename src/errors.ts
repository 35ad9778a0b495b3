// One base class, one subclass per kind of failure, each with a stable code
// and the exit code the CLI uses. Messages are one line a user can act on:
// which input, what was expected or what failed.

export class Why403Error extends Error {
  readonly code: string;
  readonly exitCode: number;
  constructor(message: string, code: string, exitCode: number, options?: { cause?: unknown }) {
    super(message, options);
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
  constructor(input: string, message: string, options?: { cause?: unknown }) {
    super(`${input}: ${message}`, 'W403_INPUT', 2, options);
    this.input = input;
  }
}

/** The request could not be completed: DNS, refused connection, TLS, timeout. Exit 3. */
export class NetworkError extends Why403Error {
  constructor(message: string, code = 'W403_NETWORK', options?: { cause?: unknown }) {
    super(message, code, 3, options);
  }
}
