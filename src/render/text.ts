// Small text helpers shared by the human renderers.
import type { ProbeResult } from '../model/report.ts';

// East Asian wide and fullwidth characters, and the emoji blocks: two columns.
const WIDE =
  /[\u1100-\u115f\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6\u{1f300}-\u{1f64f}\u{1f900}-\u{1f9ff}\u{20000}-\u{3fffd}]/u;
// Combining marks, zero-width characters and variation selectors: no column.
const ZERO = /[\p{Mn}\p{Me}\u200b-\u200f\u2060\ufe00-\ufe0f]/u;
const ANSI = /\u001b\[[0-9;]*m/g;

/** Columns `s` takes on a terminal: colour codes take none, wide characters two. */
export function displayWidth(s: string): number {
  const plain = s.includes('\u001b') ? s.replace(ANSI, '') : s;
  if (/^[\x00-\x7f]*$/.test(plain)) return plain.length;
  let n = 0;
  for (const ch of plain) n += ZERO.test(ch) ? 0 : WIDE.test(ch) ? 2 : 1;
  return n;
}

/** `word` cut into pieces of at most `max` columns (max ≥ 1). */
function cut(word: string, max: number): string[] {
  const pieces: string[] = [];
  let piece = '';
  let w = 0;
  for (const ch of word) {
    const cw = displayWidth(ch);
    if (w + cw > max && piece) {
      pieces.push(piece);
      piece = '';
      w = 0;
    }
    piece += ch;
    w += cw;
  }
  if (piece) pieces.push(piece);
  return pieces;
}

/**
 * Wraps `text` to `width` columns, every line prefixed with `indent`. A word
 * wider than a line is left whole (a URL or a command stays pasteable) unless
 * `breakLong` is set: then it is cut where the line ends.
 */
export function wrap(
  text: string,
  width: number,
  indent = '',
  firstIndent = indent,
  opts: { breakLong?: boolean } = {},
): string {
  const out: string[] = [];
  const indentWidth = displayWidth(indent);
  for (const para of text.split('\n')) {
    let lineHasWord = false;
    let line = out.length === 0 ? firstIndent : indent;
    let lineWidth = displayWidth(line);
    for (const whole of para.split(/\s+/).filter(Boolean)) {
      const ww = displayWidth(whole);
      let words = [whole];
      if (opts.breakLong && ww > width - indentWidth) {
        // Start on the current line if a useful piece fits there.
        const room = width - lineWidth - (lineHasWord ? 1 : 0);
        const first = room >= 8 ? cut(whole, room)[0]! : '';
        words = [...(first ? [first] : []), ...cut(whole.slice(first.length), Math.max(1, width - indentWidth))];
        if (first) {
          line += (lineHasWord ? ' ' : '') + first;
          lineWidth += (lineHasWord ? 1 : 0) + displayWidth(first);
          lineHasWord = true;
          words.shift();
        }
      }
      for (const word of words) {
        const w = displayWidth(word);
        if (lineHasWord && lineWidth + 1 + w > width) {
          out.push(line);
          line = indent + word;
          lineWidth = indentWidth + w;
        } else {
          line += (lineHasWord ? ' ' : '') + word;
          lineWidth += (lineHasWord ? 1 : 0) + w;
        }
        lineHasWord = true;
      }
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

const plain: Style = {
  bold: (s) => s,
  dim: (s) => s,
  red: (s) => s,
  green: (s) => s,
  yellow: (s) => s,
  cyan: (s) => s,
};
const sgr = (open: number, close: number) => (s: string) => `\u001b[${open}m${s}\u001b[${close}m`;
const ansi: Style = {
  bold: sgr(1, 22),
  dim: sgr(2, 22),
  red: sgr(31, 39),
  green: sgr(32, 39),
  yellow: sgr(33, 39),
  cyan: sgr(36, 39),
};

/** Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org). */
export function styleFor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): Style {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return plain;
  if (env.FORCE_COLOR && env.FORCE_COLOR !== '0') return ansi;
  return stream.isTTY ? ansi : plain;
}

export const noStyle = plain;

/** What a probe changed in the request: `−` before each part it removed, `+` before each it added. */
export function probeChange(p: ProbeResult): string {
  return [...(p.request?.removed ?? []).map((x) => `−${x}`), ...(p.request?.added ?? []).map((x) => `+${x}`)].join(' ');
}
