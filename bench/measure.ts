// How the benches time a command: wall time from our clock, peak RSS from
// GNU time (`/usr/bin/time -v`, Debian package "time") or, without it,
// sampled from /proc/PID/status (VmHWM); files are read once beforehand so
// every tool starts from the same warm page cache.
import { spawn } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, openSync, closeSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..');
const OUT = join(import.meta.dirname, 'out');
const GNU_TIME = '/usr/bin/time';

export interface Measured {
  wallSeconds: number;
  peakRssMB: number;
  exitCode: number;
  stderr: string;
}

/** Reads the file once so both tools start from the same warm page cache. */
export async function warm(file: string): Promise<void> {
  for await (const _ of createReadStream(file, { highWaterMark: 4 << 20 }));
}

function parseGnuTime(text: string): { wall: number; rssKB: number } {
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(text);
  const wall = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)/.exec(text);
  let seconds = NaN;
  if (wall) seconds = wall[1].split(':').reduce((acc, part) => acc * 60 + Number(part), 0);
  return { wall: seconds, rssKB: rss ? Number(rss[1]) : NaN };
}

function peakFromProc(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** Runs cmd with stdout to a file; wall time from our clock, peak RSS from GNU time or /proc sampling. */
export function measure(cmd: string[], stdoutFile: string): Promise<Measured> {
  const useGnuTime = existsSync(GNU_TIME);
  mkdirSync(OUT, { recursive: true });
  const timeFile = join(OUT, 'time.txt');
  const argv = useGnuTime ? [GNU_TIME, '-v', '-o', timeFile, ...cmd] : cmd;
  const outFd = openSync(stdoutFile, 'w');
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(argv[0], argv.slice(1), { cwd: ROOT, stdio: ['ignore', outFd, 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    let sampled = 0;
    const sampler = useGnuTime
      ? undefined
      : setInterval(() => (sampled = Math.max(sampled, peakFromProc(child.pid!))), 20);
    child.on('error', reject);
    child.on('close', (code) => {
      const wallSeconds = (performance.now() - started) / 1000;
      if (sampler) clearInterval(sampler);
      closeSync(outFd);
      let rssKB = sampled;
      if (useGnuTime) rssKB = parseGnuTime(readFileSync(timeFile, 'utf8')).rssKB;
      resolve({ wallSeconds, peakRssMB: rssKB / 1024, exitCode: code ?? -1, stderr });
    });
  });
}

export function best(results: Measured[]): Measured {
  return results.reduce((a, b) => (b.wallSeconds < a.wallSeconds ? b : a));
}
