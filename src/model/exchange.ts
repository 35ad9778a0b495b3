// The one exchange model every input is turned into. Its shape follows HAR 1.2
// (http://www.softwareishard.com/blog/har-12-spec/) so a HAR entry maps onto it
// field for field; a response-only input has no `request`.
import type { Fix } from './report.ts';
import type { CauseId } from './vocabulary.ts';

export interface NameValue {
  name: string;
  value: string;
}

export interface PostData {
  mimeType: string;
  text?: string;
  params?: NameValue[];
}

export interface ExchangeRequest {
  method: string;
  url: string;
  httpVersion?: string;
  headers: NameValue[];
  /** Cookies as sent; importers fill it from the Cookie header when absent. */
  cookies?: NameValue[];
  queryString?: NameValue[];
  postData?: PostData;
}

export interface ResponseContent {
  size?: number;
  mimeType?: string;
  /** Body text; base64 when `encoding` is "base64". May be truncated (see `truncated`). */
  text?: string;
  encoding?: string;
  truncated?: boolean;
}

export interface ExchangeResponse {
  status: number;
  statusText: string;
  httpVersion?: string;
  headers: NameValue[];
  content: ResponseContent;
  redirectURL?: string;
}

/** What `check` learnt while sending the request (absent for offline inputs). */
export interface Trace {
  /** Every hop, first request first; the last one is the exchange itself. */
  redirects: { url: string; status: number; location?: string }[];
  remoteAddress?: string;
  remotePort?: number;
  tls?: { protocol?: string; cipher?: string; subject?: string; issuer?: string; validTo?: string };
  /** Milliseconds. */
  timings: { dns?: number; connect?: number; tls?: number; firstByte?: number; total: number };
  proxy?: {
    url: string;
    used: boolean;
    reason: string;
    /** The proxy refused to open the tunnel (CONNECT) with this status: the exchange is the proxy's answer, not the server's. */
    refusedTunnel?: number;
  };
  /** Local clock when the response arrived (ISO 8601). */
  receivedAt: string;
}

export type SourceKind = 'har' | 'raw' | 'curl' | 'json' | 'live' | 'fetch';

export interface ExchangeSource {
  kind: SourceKind;
  /** File name, "-" for standard input, or the URL for live requests. */
  name: string;
  /** Position of the entry in a HAR (0-based). */
  index?: number;
}

/** A line of the server's logs about this request that gives a reason (`explain --log`, `check --log`). */
export interface LoggedReason {
  /** `log:FILE:LINE`. */
  source: string;
  /** The line as shown: its message, the query cut. */
  text: string;
  product: string;
  code: string;
  causes: CauseId[];
  words: string;
  fix?: Fix;
  /** A filesystem path the line names; a user it names. */
  file?: string;
  user?: string;
}

export interface Exchange {
  /** Lines of the server's logs about this request (`--log`). */
  logs?: LoggedReason[];
  request?: ExchangeRequest;
  response: ExchangeResponse;
  startedDateTime?: string;
  serverIPAddress?: string;
  trace?: Trace;
  source: ExchangeSource;
  /** Things the importer noticed about the input itself (e.g. a sanitized HAR). */
  notes?: string[];
  /**
   * The input was exported with credentials removed or replaced (a sanitized
   * HAR): the absence of a credential in `request` proves nothing.
   */
  credentialsStripped?: boolean;
}

/** Case-insensitive header look-up; returns every value in order. */
export function headerValues(headers: NameValue[] | undefined, name: string): string[] {
  if (!headers) return [];
  const lower = name.toLowerCase();
  const out: string[] = [];
  for (const h of headers) if (h.name.toLowerCase() === lower) out.push(h.value);
  return out;
}

export function headerValue(headers: NameValue[] | undefined, name: string): string | undefined {
  const all = headerValues(headers, name);
  return all.length ? all.join(name.toLowerCase() === 'set-cookie' ? '\n' : ', ') : undefined;
}
