// Small text helpers shared by the human renderers.

/** Wraps `text` to `width` columns, every line prefixed with `indent`. */
export function wrap(text: string, width: number, indent = '', firstIndent = indent): string {
  const out: string[] = [];
  for (const para of text.split('\n')) {
    let line = firstIndent;
    let lineHasWord = false;
    const prefix = out.length === 0 ? firstIndent : indent;
    line = prefix;
    for (const word of para.split(/\s+/).filter(Boolean)) {
      if (lineHasWord && line.length + 1 + word.length > width) {
        out.push(line);
        line = indent + word;
      } else {
        line += (lineHasWord ? ' ' : '') + word;
      }
      lineHasWord = true;
    }
    out.push(line);
  }
  return out.join('\n');
}

/** Cuts a single line to `max` characters with an ellipsis. */
export function clip(s: string, max: number): string {
  const one = s.replace(/\s+/g, ' ').trim();
  return one.length > max ? one.slice(0, Math.max(0, max - 1)) + '…' : one;
}

export interface Style {
  bold(s: string): string;
  dim(s: string): string;
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  cyan(s: string): string;
}

const plain: Style = { bold: (s) => s, dim: (s) => s, red: (s) => s, green: (s) => s, yellow: (s) => s, cyan: (s) => s };
const sgr = (open: number, close: number) => (s: string) => `\u001b[${open}m${s}\u001b[${close}m`;
const ansi: Style = { bold: sgr(1, 22), dim: sgr(2, 22), red: sgr(31, 39), green: sgr(32, 39), yellow: sgr(33, 39), cyan: sgr(36, 39) };

/** Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org). */
export function styleFor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): Style {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return plain;
  if (env.FORCE_COLOR && env.FORCE_COLOR !== '0') return ansi;
  return stream.isTTY ? ansi : plain;
}

export const noStyle = plain;
