// Runs a command the user gave to print a credential (--token-cmd, --as-cmd):
// a shell command line, as they typed it, bounded in time; what it printed,
// trimmed, is the credential. Errors are one line naming the flag.
import { exec } from 'node:child_process';

export const CREDENTIAL_COMMAND_TIMEOUT_MS = 30_000;

export function runCredentialCommand(
  command: string,
  env: NodeJS.ProcessEnv,
  flag: string,
  timeoutMs = CREDENTIAL_COMMAND_TIMEOUT_MS,
): Promise<string> {
  return new Promise((resolve, reject) => {
    exec(command, { env, timeout: timeoutMs, maxBuffer: 1 << 20, windowsHide: true }, (err, stdout, stderr) => {
      if (err) {
        const timedOut = err.killed && err.signal;
        const said = String(stderr).trim().split('\n').filter(Boolean).pop();
        return reject(
          new Error(
            timedOut
              ? `${flag} did not finish within ${timeoutMs / 1000} s`
              : `${flag} failed (exit ${err.code ?? err.signal})${said ? `: ${said}` : ''}`,
          ),
        );
      }
      const out = String(stdout).trim();
      if (!out) return reject(new Error(`${flag} printed nothing (expected a credential)`));
      resolve(out);
    });
  });
}
