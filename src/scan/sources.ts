// Where the records come from: ids read from a file or standard input, or a
// list endpoint walked page by page. Either way the records and the source's
// position are written in one transaction, so --resume goes on from there.
import type { Report } from '../model/report.ts';
import { isDenial } from '../engine/status.ts';
import { diagnose } from '../diagnose.ts';
import { redactUrl } from '../engine/scrub.ts';
import { InputError, NetworkError, Why403Error } from '../errors.ts';
import { DEFAULT_MAX_PAGE, type ListSource, type ScanSettings } from './config.ts';
import { readIds } from './ids.ts';
import type { Feed } from './lanes.ts';
import type { Pace } from './pace.ts';
import { describeStyle, PageError, readPage, type PaginationStyle } from './pagination.ts';
import { hideSecrets, unhideSecrets, type Scrubber } from './secrets.ts';
import type { ScanState } from './state.ts';
import type { StopSwitch } from './stop.ts';
import type { Tally } from './tally.ts';

/** The list endpoint itself refused: nothing can be scanned; the report says why. */
export class ListDeniedError extends Why403Error {
  readonly report: Report;
  constructor(report: Report) {
    const message =
      `the list ${report.request.url} was answered ${report.status}: ` + 'the identity cannot list the records';
    super(message, 'W403_LIST_DENIED', 1);
    this.report = report;
  }
}

/**
 * Pages in a row that bring no record not seen before: the list repeats
 * itself (a new cursor, the same records); the walk stops.
 */
export const STALE_PAGES = 3;

export interface SourceContext {
  state: ScanState;
  settings: ScanSettings;
  stdin?: NodeJS.ReadableStream;
  pace: Pace;
  stops: StopSwitch;
  scrubber: Scrubber;
  tally: Tally;
  feed: Feed;
  note: (line: string) => void;
}

/** Fills the state file with the source's records, from where an earlier run left off; returns when done or stopped. */
export function fillFromSource(c: SourceContext): Promise<void> {
  return c.settings.source.kind === 'ids' ? ingestIds(c) : walkList(c);
}

/** Records added: counted, and the waiting workers woken. */
function added(c: SourceContext, rows: number, added: number): void {
  if (rows - added) {
    const before = Number(c.state.meta('source.duplicates') ?? '0');
    c.state.meta('source.duplicates', String(before + rows - added));
  }
  c.tally.counts.total += added;
}

async function ingestIds(c: SourceContext): Promise<void> {
  const source = c.settings.source;
  if (source.kind !== 'ids') return;
  const skip = Number(c.state.meta('source.read') ?? '0');
  for await (const { rows, read } of readIds(source, c.stdin, skip)) {
    if (c.stops.reason) return;
    added(c, rows.length, c.state.addRecords(c.scrubber.cleanRows(rows), { 'source.read': String(read) }));
    c.feed.signal();
  }
  c.state.meta('source.done', '1');
}

async function walkList(c: SourceContext): Promise<void> {
  const { state, settings, scrubber, tally } = c;
  const source = settings.source as ListSource;
  const origin = new URL(source.url).origin;
  let url = unhideSecrets(state.meta('source.next') || source.url, scrubber.secrets);
  const savedStyle = state.meta('source.style');
  let style = savedStyle ? (JSON.parse(savedStyle) as PaginationStyle) : undefined;
  let itemsPath = state.meta('source.items');
  tally.listPages = Number(state.meta('source.pages') ?? '0');
  const seen = new Set<string>();
  let stale = 0;
  /** Why the walk ended before the list said it was over: said now, and kept for the summary. */
  const cut = (why: string) => {
    c.note(why);
    state.meta('source.end', scrubber.clean(why));
  };
  for (;;) {
    if (c.stops.reason) return;
    const n = tally.listPages + 1;
    const maxPage = settings.maxPage ?? DEFAULT_MAX_PAGE;
    // A page has its own limit: it is read whole to be parsed, unlike a record's body.
    const req = { method: 'GET', url, headers: settings.headers, maxBody: maxPage };
    const r = await c.pace.send(req, () => true, 'listPages');
    if ('error' in r)
      throw new NetworkError(`--list: page ${n} (${redactUrl(url)}) failed after ${r.attempts} attempts: ${r.error}`);
    const page = r.result;
    if (isDenial(page.status)) {
      const content = { mimeType: page.body?.mimeType, text: page.body?.text ?? '' };
      const response = { status: page.status, statusText: page.statusText, headers: page.headers, content };
      throw new ListDeniedError(
        await diagnose({ request: { ...req }, response, source: { kind: 'live', name: url } }, {}),
      );
    }
    if (page.status < 200 || page.status > 299)
      throw new InputError(
        '--list',
        `page ${n} (${redactUrl(url)}) was answered ${page.status} ${page.statusText}; ` +
          'expected 200 with a JSON list of records',
      );
    if (page.body?.truncated) {
      const raise = Math.ceil((maxPage * 4) / 1048576);
      throw new InputError(
        '--list',
        `page ${n} (${redactUrl(url)}) is larger than --max-page (${maxPage} bytes); ` +
          `read no further. Raise it, e.g. --max-page ${raise}MiB`,
      );
    }
    let read;
    try {
      read = readPage(url, page.headers, page.body?.text ?? '', source, style, itemsPath);
    } catch (e) {
      if (e instanceof PageError) throw new InputError('--list', `page ${n} (${redactUrl(url)}): ${e.message}`);
      throw e;
    }
    if (!style) {
      c.note(`walking the list by ${describeStyle(read.style)}; records in "${read.itemsPath}"`);
      if (read.style.kind === 'single' && read.records.length)
        c.note(
          `the first page held ${read.records.length} records and no sign of a next page ` +
            '(Link header, next field, cursor, page or offset); ' +
            'if the list is paginated, set --next, --page-param or --offset-param',
        );
    }
    style = read.style;
    itemsPath = read.itemsPath;
    let next = read.next;
    seen.add(url);
    if (next && new URL(next).origin !== origin) {
      cut(
        `the next page is on another origin (${new URL(next).origin}); ` +
          `not followed, so the credential stays with ${origin}. The list stops here.`,
      );
      next = null;
    }
    if (next && seen.has(next)) {
      cut(`the next page (${redactUrl(next)}) was already read: the list loops; it stops here.`);
      next = null;
    }
    tally.listPages++;
    const count = state.addRecords(scrubber.cleanRows(read.records), {
      'source.next': next ? hideSecrets(next, scrubber.secrets) : '',
      'source.pages': String(tally.listPages),
      'source.style': JSON.stringify(style),
      'source.items': itemsPath,
      ...(next ? {} : { 'source.done': '1' }),
    });
    added(c, read.records.length, count);
    // A loop by content: new cursors, no new records.
    stale = count ? 0 : stale + 1;
    if (next && stale >= STALE_PAGES) {
      cut(
        `the last ${stale} pages brought no record not seen before (the list repeats itself under new cursors); ` +
          `it stops here after ${tally.listPages} pages`,
      );
      state.meta('source.next', '');
      state.meta('source.done', '1');
      next = null;
    }
    c.feed.signal();
    if (!next) return;
    url = next;
  }
}
