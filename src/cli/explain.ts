import { UsageError, InputError } from '../errors.ts';
import type { Report } from '../model/report.ts';
import { loadRules } from '../rules/registry.ts';
import { diagnoseWith } from '../engine/diagnose.ts';
import { importFile } from '../importers/index.ts';
import { Output, formatFrom } from './output.ts';
import type { Io } from './io.ts';
import { commandArgs, JSON_OPTIONS, printHelp } from './args.ts';
import { exitCode, isDeniedOutcome } from './exit-code.ts';
import { isDenial } from '../engine/status.ts';
import type { Exchange } from '../model/exchange.ts';
import { indexLogs } from '../logs/match.ts';
import { fileInput } from '../logs/read.ts';

const HELP = `Usage: why403 explain [--json|--jsonl|--markdown] [--show-secrets]
                      [--log LOG]… FILE…

Diagnoses saved exchanges offline. FILE is a HAR (every 401, 403 and 407 entry
is diagnosed, in file order), raw HTTP text (as curl -v, Burp or a browser shows
it, or a response alone), or JSON {"request": …, "response": …}; - reads
standard input.
  --json            the reports as JSON (why403/report@1)
  --jsonl           one report a line
  --markdown        an incident note
  --show-secrets    print credentials unredacted
  --log LOG         the server's access or error log (repeatable; plain or
                    gzip): the lines about each request (its method, path
                    and time) become evidence, and outrank the response
`;

function plural(n: number, word: string): string {
  return `${n.toLocaleString('en-US')} ${word}${n === 1 ? '' : 's'}`;
}

export async function explainCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = commandArgs(argv, {
    ...JSON_OPTIONS,
    markdown: { type: 'boolean' },
    'show-secrets': { type: 'boolean' },
    log: { type: 'string', multiple: true },
  });
  if (values.help) return printHelp(io, HELP);
  if (values.log?.includes('-')) throw new UsageError('--log needs a file; standard input (-) is for the exchanges');
  if (!positionals.length)
    throw new UsageError('explain needs at least one FILE (a HAR, raw HTTP text, JSON, or - for standard input)');
  const format = formatFrom(values);
  const rules = await loadRules();
  // Importing is cheap (a HAR is only opened, not read), so every input is
  // checked before any output: a bad second file fails before the first prints.
  const inputs = [];
  for (const file of positionals) inputs.push({ file, imported: await importFile(file, { stdin: io.stdin }) });
  const logs = values.log?.length ? await indexLogs(values.log.map(fileInput)) : undefined;
  const withLogs = (exchange: Exchange): Exchange => {
    if (!logs || !isDenial(exchange.response.status)) return exchange;
    const lines = logs.linesFor(exchange);
    return lines.length
      ? { ...exchange, logs: lines }
      : {
          ...exchange,
          notes: [
            ...(exchange.notes ?? []),
            `no line of ${values.log!.join(', ')} gives a reason for this request (its method, path and time)`,
          ],
        };
  };
  const single = inputs.length === 1 && inputs[0].imported.format !== 'har' && inputs[0].imported.exchanges.length <= 1;
  const out = new Output(format, io, { array: !single });
  const opts = { showSecrets: values['show-secrets'] };
  let denied = 0;
  try {
    for (const { file, imported } of inputs) {
      if (imported.format === 'har') {
        let n = 0;
        for await (const exchange of imported.har.exchanges) {
          out.write(diagnoseWith(rules, withLogs(exchange), opts));
          n++;
        }
        const s = await imported.har.summary;
        denied += s.denied;
        const others = s.total - s.denied;
        const statuses = Object.entries(s.byStatus)
          .filter(([st]) => isDenial(Number(st)))
          .map(([st, c]) => `${c} × ${st}`)
          .join(', ');
        out.say(
          `${file}: ${plural(s.total, 'entry').replace('entrys', 'entries')}, ${n} denied${statuses ? ` (${statuses})` : ''}; ${plural(others, 'other')} not diagnosed.`,
        );
        if (s.sanitized && !n) for (const note of s.notes) out.say(`note: ${note}`);
        continue;
      }
      if (!imported.exchanges.length && imported.requests.length)
        throw new InputError(
          file,
          `holds a request but no response; to send it and diagnose the answer run: why403 check --from ${file === '-' ? '-' : shellWord(file)}`,
        );
      for (const exchange of imported.exchanges) {
        const report: Report = diagnoseWith(rules, withLogs(exchange), opts);
        if (isDeniedOutcome(report.outcome)) denied++;
        out.write(report);
      }
    }
  } finally {
    out.end();
  }
  return exitCode({ kind: 'explained', denied });
}

/** A file name as one shell word, quoted only when it needs to be. */
function shellWord(s: string): string {
  return /^[\w./@%+=:,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
