import { UsageError } from '../errors.ts';
import { analyzeLogs } from '../logs/analyze.ts';
import { fileInput, stdinInput } from '../logs/read.ts';
import { customFormat } from '../logs/custom-format.ts';
import { followLogs } from '../logs/follow.ts';
import { LOG_FORMATS } from '../logs/formats.generated.ts';
import type { LogFormat, LogReport } from '../model/logs.ts';
import { followedLine, renderLogsMarkdown, renderLogsTerminal } from '../render/logs.ts';
import { styleFor } from '../render/text.ts';
import type { Io } from './io.ts';
import { commandArgs, printHelp } from './args.ts';
import { exitCode } from './exit-code.ts';
import { parseWhen } from './when.ts';

export const LOGS_HELP = `Usage: why403 logs [--since T] [--until T] [--log-format F] [--follow]
                   [--json|--markdown] FILE…

Reads access and error logs (plain or gzip; - for standard input) and reports
their 401 and 403 answers: why (the reason the error log wrote, joined to the
access-log line of the same request), by path, client and user, and over time.
Formats, told apart by their first lines:
  combined          Common/Combined access log (nginx, Apache, lighttpd, Tomcat)
  nginx-error       nginx error log
  apache-error      Apache httpd error log
  lighttpd-error    lighttpd error log
  haproxy-http      HAProxy option httplog
  squid-access      Squid native access.log
  caddy-json        Caddy 2 JSON access log
  json-access       JSON-lines access log (nginx escape=json and kin)
  kubernetes-audit  Kubernetes API server audit log
  cloudtrail        AWS CloudTrail events ({"Records":[…]} files too)
  aws-alb           AWS Application Load Balancer access log
  cloudfront        Amazon CloudFront standard access log
  --since T       only from T: 2026-12-05T14:00 (local time unless it has a
                  zone), or a duration ago: 90m, 2h, 3d; the report compares
                  the rate of denials after T with the rate before it
  --until T       only up to T
  --log-format F  an access log in a layout of the server's own, given in
                  nginx's log_format syntax: '$remote_addr [$time_local]
                  "$request" $status' (needs $status, and $request or $uri)
  --follow        after the report, keep reading what the logs gain and write
                  each denial and why as it comes (one JSON object a line
                  with --json), until Ctrl-C
  --json          the report as JSON (why403/logs@1)
  --markdown      the report as an incident note
Error logs have no time zone: they are read in this process's (set TZ).
Exit codes: 0 read, 2 bad input (a file that is no log why403 reads, binary
data, an unreadable file).
`;

export async function logsCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = commandArgs(argv, {
    since: { type: 'string' },
    until: { type: 'string' },
    json: { type: 'boolean' },
    markdown: { type: 'boolean' },
    'log-format': { type: 'string' },
    follow: { type: 'boolean' },
  });
  if (values.help) return printHelp(io, LOGS_HELP);
  if (!positionals.length) throw new UsageError('logs needs at least one FILE (or - for standard input)');
  if (values.json && values.markdown) throw new UsageError('logs: --json and --markdown cannot be used together');
  if (positionals.filter((p) => p === '-').length > 1)
    throw new UsageError('logs: standard input (-) can be read once');
  const since = values.since !== undefined ? parseWhen('--since', values.since) : undefined;
  const until = values.until !== undefined ? parseWhen('--until', values.until) : undefined;
  if (since && until && since > until) throw new UsageError('logs: --since is after --until');
  const custom = values['log-format'] !== undefined ? customFormat(values['log-format']) : undefined;
  const report = await analyzeLogs(
    positionals.map((p) => (p === '-' ? stdinInput(io.stdin) : fileInput(p))),
    {
      ...(since ? { since } : {}),
      ...(until ? { until } : {}),
      ...(custom ? { formats: [custom] } : {}),
    },
  );
  if (values.follow) return follow(report, custom, Boolean(values.json), io);
  if (values.json) io.stdout.write(JSON.stringify(report, null, 2) + '\n');
  else if (values.markdown) io.stdout.write(renderLogsMarkdown(report));
  else
    io.stdout.write(renderLogsTerminal(report, { style: styleFor(io.stdout, io.env), width: io.stdout.columns || 80 }));
  return exitCode({ kind: 'done' });
}

/** The report, then each denial the logs gain, until Ctrl-C (exit 0). */
async function follow(report: LogReport, custom: LogFormat | undefined, json: boolean, io: Io): Promise<number> {
  const formats = [...(custom ? [custom] : []), ...LOG_FORMATS];
  const files = report.sources.map((src) => ({ path: src.file, format: formats.find((f) => f.id === src.format) }));
  if (json) io.stdout.write(JSON.stringify(report) + '\n');
  else
    io.stdout.write(renderLogsTerminal(report, { style: styleFor(io.stdout, io.env), width: io.stdout.columns || 80 }));
  io.stderr.write(`why403: following ${files.map((f) => f.path).join(', ')}; Ctrl-C stops\n`);
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await followLogs(files, formats, {
      signal: stop.signal,
      onDenial: (d) => io.stdout.write(json ? JSON.stringify(d) + '\n' : followedLine(d) + '\n'),
    });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  return exitCode({ kind: 'done' });
}
