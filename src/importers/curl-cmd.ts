// A curl command written for Windows cmd.exe, as a browser's "Copy as cURL
// (cmd)" produces it: arguments in ^"…^", every unsafe character behind a
// caret, lines joined by a trailing caret. curlconverter reads bash only, so
// this module undoes the two layers Windows applies itself — cmd.exe's caret
// and quote handling, then the C runtime's argv splitting — and hands the
// resulting argv to curlconverter's option parser (see curl.ts).
import { InputError } from '../errors.ts';
import type { ExchangeRequest } from '../model/exchange.ts';
import { CURL_INPUT, curlRequests, single } from './curl.ts';
import { Words } from './curl-argv.ts';
import { imported, type Imported } from './imported.ts';

const POWERSHELL =
  /\bInvoke-(?:WebRequest|RestMethod)\b|\bNew-Object\s+Microsoft\.PowerShell\.Commands\.WebRequestSession\b/i;

/** True for a PowerShell "Copy as PowerShell" snippet, which this importer does not read. */
export function isPowerShell(text: string): boolean {
  return POWERSHELL.test(text);
}

/**
 * cmd.exe's first pass over a command line: a caret makes the next character
 * literal (a caret before a line break joins the lines and makes the first
 * character of the next line literal), a double quote toggles a region where
 * carets are literal, and an unescaped line break or & | < > ends the command.
 * Quotes are kept: the C runtime reads them next. %VAR% is not expanded: the
 * variables are the user's, not ours. Returns one string per command.
 */
export function cmdUnescape(text: string): string[] {
  // cmd.exe drops every carriage return before anything else.
  const s = text.replace(/\r/g, '');
  const commands: string[] = [];
  let cur = '';
  let inQuote = false;
  let skipping = false; // after a redirection, up to the end of the command
  const end = () => {
    if (cur.trim()) commands.push(cur);
    cur = '';
    inQuote = false;
    skipping = false;
  };
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\n') {
      end();
      continue;
    }
    if (inQuote) {
      if (c === '"') inQuote = false;
      if (!skipping) cur += c;
      continue;
    }
    if (c === '^') {
      let next = s[i + 1];
      if (next === undefined) break;
      i++;
      if (next === '\n') {
        // Line continuation: the break goes, and the next line's first character is literal.
        next = s[i + 1];
        if (next === undefined) break;
        i++;
      }
      if (!skipping) cur += next;
      continue;
    }
    if (c === '"') {
      inQuote = true;
      if (!skipping) cur += c;
      continue;
    }
    if (c === '&' || c === '|') {
      if (s[i + 1] === c) i++;
      end();
      continue;
    }
    if (c === '<' || c === '>') {
      skipping = true;
      continue;
    }
    if (!skipping) cur += c;
  }
  end();
  return commands;
}

/**
 * The Microsoft C runtime's argv rules: whitespace separates arguments outside
 * quotes; 2n backslashes before a quote give n backslashes and the quote
 * toggles; 2n+1 give n backslashes and a literal quote; "" inside quotes is a
 * literal quote; other backslashes are literal.
 */
export function crtArgv(line: string): string[] {
  const words = new Words();
  let inQuote = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === '\\') {
      let n = 0;
      while (line[i + n] === '\\') n++;
      if (line[i + n] === '"') {
        words.add('\\'.repeat(n >> 1));
        if (n % 2 === 1) {
          words.add('"');
          i += n; // past the quote
        } else {
          i += n - 1; // the quote is read next, as a quote
        }
      } else {
        words.add('\\'.repeat(n));
        i += n - 1;
      }
      continue;
    }
    if (c === '"') {
      if (inQuote && line[i + 1] === '"') {
        words.add('"');
        i++;
      } else {
        inQuote = !inQuote;
        words.start();
      }
      continue;
    }
    if ((c === ' ' || c === '\t') && !inQuote) words.end();
    else words.add(c);
  }
  return words.done();
}

/** Each curl command of a cmd.exe text as its argv; commands that are not curl are refused. */
export function tokenizeCmd(text: string, inputName = CURL_INPUT): string[][] {
  if (isPowerShell(text)) {
    throw new InputError(
      inputName,
      'PowerShell (Invoke-WebRequest) copies are not supported; use "Copy as cURL (bash)" or "Copy as cURL (cmd)" instead',
    );
  }
  const out: string[][] = [];
  for (const command of cmdUnescape(text)) {
    const argv = crtArgv(command);
    if (!argv.length) continue;
    if (!/(?:^|[\\/])curl(?:\.exe)?$/i.test(argv[0]!)) {
      throw new InputError(
        inputName,
        `expected a curl command, found a command starting with "${argv[0]!.slice(0, 40)}"`,
      );
    }
    out.push(['curl', ...argv.slice(1)]);
  }
  if (!out.length) throw new InputError(inputName, 'expected a curl command, found none');
  return out;
}

/** Every request of a Windows cmd.exe curl text ("Copy all as cURL (cmd)" holds many). */
export async function curlCmdRequests(command: string, inputName = CURL_INPUT): Promise<ExchangeRequest[]> {
  const out: ExchangeRequest[] = [];
  for (const argv of tokenizeCmd(command, inputName)) out.push(...(await curlRequests(argv, inputName)));
  return out;
}

/** A cmd.exe curl text in the importers' shape: its requests, no exchange. */
export async function importCurlCmd(command: string, inputName = CURL_INPUT): Promise<Imported> {
  return imported([], await curlCmdRequests(command, inputName));
}

/**
 * The one request of a curl command written for Windows cmd.exe. Async for the
 * same reason as fromCurl: curlconverter is loaded on first use.
 */
export async function fromCurlCmd(command: string, inputName = CURL_INPUT): Promise<ExchangeRequest> {
  return single(await curlCmdRequests(command, inputName), inputName);
}
