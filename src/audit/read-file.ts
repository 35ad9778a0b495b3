// A file read up to a bound, whatever it is: a regular file only (not
// /dev/zero, a FIFO or a directory), its size checked before reading, and one
// byte past the bound read so that a file growing while read is refused too.
// The audit's spec, audit file and baseline are all read so.
import { open } from 'node:fs/promises';
import { InputError } from '../errors.ts';

export async function readBoundedFile(path: string, maxBytes: number, tooLarge: () => InputError): Promise<Buffer> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    const code = (err as { code?: string }).code;
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EACCES'
          ? 'permission denied'
          : code === 'EISDIR'
            ? 'is a directory, not a file'
            : `cannot be opened (${code ?? err})`;
    throw new InputError(path, why, { cause: err });
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw new InputError(path, 'is not a regular file');
    if (stat.size > maxBytes) throw tooLarge();
    const buf = Buffer.alloc(Math.min(stat.size, maxBytes) + 1);
    let filled = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buf, filled, buf.length - filled, null);
      if (bytesRead === 0) break;
      filled += bytesRead;
      if (filled > maxBytes) throw tooLarge();
      if (filled === buf.length) break;
    }
    return buf.subarray(0, filled);
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError(path, `cannot be read (${(err as { code?: string }).code ?? err})`, { cause: err });
  } finally {
    await handle.close();
  }
}
