// How a running scan shows itself: a progress bar on a terminal, a plain
// line every few seconds otherwise (CI logs, files), nothing with --quiet.
// Always on stderr, so stdout stays the result.
import cliProgress from 'cli-progress';
import type { ScanProgress } from '../scan/run.ts';
import type { Io } from './io.ts';

export interface ProgressDisplay {
  stop(): void;
  /** A line for the reader that must not be drawn over by the bar. */
  say(line: string): void;
}

const n = (x: number) => x.toLocaleString('en-US');

function eta(p: ScanProgress): string {
  if (p.pausedFor) return `paused ${Math.ceil(p.pausedFor)} s (Retry-After)`;
  if (p.eta === undefined || !Number.isFinite(p.eta)) return p.totalKnown ? 'ETA —' : 'listing…';
  const s = Math.round(p.eta);
  return `ETA ${s >= 3600 ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m` : s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`}`;
}

export function progressLine(p: ScanProgress): string {
  return `scan: ${n(p.done)}/${n(p.total)}${p.totalKnown ? '' : '+'} done, ${n(p.denied)} denied, ${n(p.errors)} errors, ${p.rate.toFixed(p.rate < 10 ? 1 : 0)}/s, ${eta(p)}`;
}

export function showProgress(
  io: Io,
  poll: () => ScanProgress,
  opts: { quiet?: boolean; intervalS: number },
): ProgressDisplay {
  if (opts.quiet) return { stop() {}, say() {} };
  if (io.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        stream: io.stderr as NodeJS.WriteStream,
        format: ' {bar} {value}/{total}{more} | denied {denied} | errors {errors} | {rate}/s | {etaText}',
        hideCursor: true,
        clearOnComplete: false,
        fps: 5,
        etaBuffer: 50,
      },
      cliProgress.Presets.shades_classic,
    );
    const fields = (p: ScanProgress) => ({
      more: p.totalKnown ? '' : '+',
      denied: n(p.denied),
      errors: n(p.errors),
      rate: p.rate.toFixed(0),
      etaText: eta(p),
    });
    const first = poll();
    bar.start(Math.max(1, first.total), first.done, fields(first));
    const timer = setInterval(() => {
      const p = poll();
      bar.setTotal(Math.max(1, p.total));
      bar.update(p.done, fields(p));
    }, 200);
    return {
      stop() {
        clearInterval(timer);
        const p = poll();
        bar.setTotal(Math.max(1, p.total));
        bar.update(p.done, fields(p));
        bar.stop();
      },
      say(line) {
        // Clear the bar's line, print, and let the next redraw put the bar back below.
        io.stderr.write(`\r\u001b[2K${line}\n`);
      },
    };
  }
  const timer = setInterval(() => io.stderr.write(progressLine(poll()) + '\n'), opts.intervalS * 1000);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      io.stderr.write(progressLine(poll()) + '\n');
    },
    say(line) {
      io.stderr.write(line + '\n');
    },
  };
}
