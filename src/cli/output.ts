// Turns reports into the chosen output format, streaming where the format allows.
import type { Report } from '../model/report.ts';
import { renderTerminal } from '../render/terminal.ts';
import { renderMarkdown } from '../render/markdown.ts';
import { renderJsonLine } from '../render/json.ts';
import { styleFor } from '../render/text.ts';
import type { Io } from './io.ts';
import { UsageError } from '../errors.ts';

export type Format = 'terminal' | 'json' | 'jsonl' | 'markdown';

export function formatFrom(values: { json?: boolean; jsonl?: boolean; markdown?: boolean }): Format {
  const chosen = (['json', 'jsonl', 'markdown'] as const).filter((k) => values[k]);
  if (chosen.length > 1) throw new UsageError(`choose one output format, not --${chosen.join(' and --')}`);
  return chosen[0] ?? 'terminal';
}

export class Output {
  private count = 0;
  readonly format: Format;
  private readonly io: Io;
  /** --json: an array (HAR, several inputs) or the one report as an object (design.md section 3). */
  private readonly array: boolean;
  private single?: Report;
  constructor(format: Format, io: Io, opts: { array?: boolean } = {}) {
    this.format = format;
    this.io = io;
    this.array = opts.array ?? false;
  }

  /** True when machine-readable output owns stdout (summaries go to stderr). */
  get machine(): boolean {
    return this.format === 'json' || this.format === 'jsonl';
  }

  write(report: Report): void {
    const out = this.io.stdout;
    switch (this.format) {
      case 'jsonl':
        out.write(renderJsonLine(report));
        break;
      case 'json':
        if (!this.array && this.count === 0) this.single = report;
        else {
          if (this.single) {
            // A second report where one was expected: fall back to an array.
            out.write('[\n' + JSON.stringify(this.single, null, 2));
            this.single = undefined;
          }
          out.write((this.count === 0 ? '[\n' : ',\n') + JSON.stringify(report, null, 2));
        }
        break;
      case 'markdown':
        out.write((this.count ? '\n---\n\n' : '') + renderMarkdown(report));
        break;
      default:
        out.write(
          (this.count ? '\n' + '─'.repeat(40) + '\n\n' : '') +
            renderTerminal(report, {
              width: Math.min(this.io.stdout.columns ?? 80, 100),
              style: styleFor(this.io.stdout, this.io.env),
            }),
        );
    }
    this.count++;
  }

  /** A line for the reader (summaries, notices): stdout for people, stderr beside JSON. */
  say(line: string): void {
    (this.machine ? this.io.stderr : this.io.stdout).write(line + '\n');
  }

  end(): void {
    if (this.format !== 'json') return;
    if (this.single) this.io.stdout.write(JSON.stringify(this.single, null, 2) + '\n');
    else this.io.stdout.write(this.count ? '\n]\n' : '[]\n');
  }
}
