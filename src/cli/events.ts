// `why403 events`: the summary of an API's own denial events, as its why403
// middleware wrote them (sqliteSink's SQLite file, jsonLinesSink's or pino's
// JSON lines). The reading and summing is src/events/, the rendering
// src/render/events.ts; this is options, help and output.
import { UsageError } from '../errors.ts';
import { analyzeEvents } from '../events/analyze.ts';
import { renderEventsMarkdown, renderEventsTerminal } from '../render/events.ts';
import { styleFor } from '../render/text.ts';
import type { Io } from './io.ts';
import { commandArgs, printHelp } from './args.ts';
import { exitCode } from './exit-code.ts';
import { parseWhen } from './when.ts';

export const EVENTS_HELP = `Usage: why403 events [--since T] [--until T] [--json|--markdown] FILE…

Sums up the denial events an API's why403 middleware wrote: why (the cause
and the rule that refused, with the grant that was missing), who was
refused, on which routes, from where, with which status (denials answered
404 to hide the resource counted apart), and over time. FILE is told by its
content:
  a SQLite file   written by sqliteSink
  JSON lines      written by jsonLinesSink or pinoSink (an app's pino log:
                  its other lines are counted and passed over); plain or
                  gzip; - for standard input
  --since T       only from T: 2026-12-05T14:00 (local time unless it has a
                  zone), or a duration ago: 90m, 2h, 3d
  --until T       only up to T
  --json          the report as JSON (why403/events@1)
  --markdown      the report as an incident note
Exit codes: 0 read, 2 bad input (no such file, a SQLite file with no
denials table, a file that is not JSON lines, binary data).
`;

export async function eventsCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = commandArgs(argv, {
    since: { type: 'string' },
    until: { type: 'string' },
    json: { type: 'boolean' },
    markdown: { type: 'boolean' },
  });
  if (values.help) return printHelp(io, EVENTS_HELP);
  if (!positionals.length) throw new UsageError('events needs at least one FILE (or - for standard input)');
  if (values.json && values.markdown) throw new UsageError('events: --json and --markdown cannot be used together');
  if (positionals.filter((p) => p === '-').length > 1)
    throw new UsageError('events: standard input (-) can be read once');
  const since = values.since !== undefined ? parseWhen('--since', values.since) : undefined;
  const until = values.until !== undefined ? parseWhen('--until', values.until) : undefined;
  if (since && until && since > until) throw new UsageError('events: --since is after --until');
  const report = await analyzeEvents(positionals, {
    ...(since ? { since } : {}),
    ...(until ? { until } : {}),
    stdin: io.stdin,
  });
  if (values.json) io.stdout.write(JSON.stringify(report, null, 2) + '\n');
  else if (values.markdown) io.stdout.write(renderEventsMarkdown(report));
  else
    io.stdout.write(
      renderEventsTerminal(report, { style: styleFor(io.stdout, io.env), width: io.stdout.columns || 80 }),
    );
  return exitCode({ kind: 'done' });
}
