// For an application's error handler: turn a fetch Response (and the request
// that produced it) into a diagnosis without sending anything.
//
//   const res = await fetch(url, init);
//   if (res.status === 403) logger.warn(await diagnoseResponse(res, { url, ...init }));
import type { Exchange, NameValue } from '../model/exchange.ts';
import type { Report } from '../model/report.ts';
import { diagnose, type DiagnoseOptions } from '../diagnose.ts';

export interface RequestLike {
  url: string | URL;
  method?: string;
  headers?: HeadersInit;
  body?: unknown;
}

export interface FetchDiagnoseOptions extends DiagnoseOptions {
  /** Bytes of the response body read (from a clone; the original stays unread). */
  maxBody?: number;
}

function headerList(h: Headers): NameValue[] {
  const out: NameValue[] = [];
  h.forEach((value, name) => {
    if (name !== 'set-cookie') out.push({ name, value });
  });
  for (const value of h.getSetCookie?.() ?? []) out.push({ name: 'set-cookie', value });
  return out;
}

async function readText(res: Response, max: number): Promise<{ text: string; truncated: boolean }> {
  if (!res.body) return { text: '', truncated: false };
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let truncated = false;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.length;
    if (size >= max) {
      truncated = true;
      // Not awaited: cancelling one branch of a tee() settles only when the
      // caller's branch is cancelled too, which may be never.
      reader.cancel().catch(() => {});
      break;
    }
  }
  const buf = Buffer.concat(chunks).subarray(0, max);
  return { text: buf.toString('utf8'), truncated };
}

/** Builds the exchange model from a fetch Response and its request. */
export async function exchangeFromFetch(
  response: Response,
  request?: Request | RequestLike | string | URL,
  opts: { maxBody?: number } = {},
): Promise<Exchange> {
  let url = response.url;
  let method = 'GET';
  let reqHeaders: NameValue[] = [];
  let bodyText: string | undefined;
  if (typeof request === 'string' || request instanceof URL) url = String(request);
  else if (request instanceof Request) {
    url = request.url;
    method = request.method;
    reqHeaders = headerList(request.headers);
  } else if (request) {
    url = String(request.url);
    method = request.method ?? 'GET';
    reqHeaders = headerList(new Headers(request.headers));
    if (typeof request.body === 'string') bodyText = request.body;
  }
  const { text, truncated } = await readText(response.clone(), opts.maxBody ?? 256 * 1024);
  const contentType = response.headers.get('content-type') ?? '';
  return {
    request: {
      method: method.toUpperCase(),
      url,
      headers: reqHeaders,
      ...(bodyText !== undefined
        ? {
            postData: {
              mimeType:
                new Headers(reqHeaders.map((h): [string, string] => [h.name, h.value])).get('content-type') ?? '',
              text: bodyText,
            },
          }
        : {}),
    },
    response: {
      status: response.status,
      statusText: response.statusText,
      headers: headerList(response.headers),
      content: { mimeType: contentType, text, ...(truncated ? { truncated } : {}) },
    },
    source: { kind: 'fetch', name: url },
  };
}

/** Diagnoses a fetch Response. Reads a clone of the body, so the caller can still read it. */
export async function diagnoseResponse(
  response: Response,
  request?: Request | RequestLike | string | URL,
  opts: FetchDiagnoseOptions = {},
): Promise<Report> {
  return diagnose(await exchangeFromFetch(response, request, opts), opts);
}
