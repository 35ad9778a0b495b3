// Sends one request with undici and keeps the response exactly as it came:
// header names in the server's own spelling and order, the reason phrase, the
// body text. Loopback only, one connection per request, bounded in time.
import { Client } from 'undici';
import type { NameValue } from '../../src/model/exchange.ts';

export interface SentRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
}

export interface CapturedResponse {
  status: number;
  statusText: string;
  httpVersion: string;
  headers: NameValue[];
  body: string;
}

export interface Captured {
  request: SentRequest;
  response: CapturedResponse;
  /** Local clock when the response arrived. */
  receivedAt: Date;
}

export const CAPTURE_USER_AGENT = 'why403-capture/0.1 (undici)';

export async function send(
  method: string,
  url: string,
  headers: Record<string, string> = {},
  body?: string,
  timeoutMs = 10_000,
): Promise<Captured> {
  const u = new URL(url);
  if (u.hostname !== '127.0.0.1') throw new Error(`refusing to send to ${u.hostname}: test traffic stays on 127.0.0.1`);
  const sent: Record<string, string> = { Host: u.host, 'User-Agent': CAPTURE_USER_AGENT, Accept: '*/*', ...headers };
  if (body !== undefined && !Object.keys(sent).some((k) => k.toLowerCase() === 'content-length'))
    sent['Content-Length'] = String(Buffer.byteLength(body));
  const client = new Client(u.origin, { headersTimeout: timeoutMs, bodyTimeout: timeoutMs, connectTimeout: timeoutMs });
  try {
    const response = await new Promise<CapturedResponse>((resolve, reject) => {
      let status = 0;
      let statusText = '';
      const raw: NameValue[] = [];
      const chunks: Buffer[] = [];
      client.dispatch(
        {
          origin: u.origin,
          path: u.pathname + u.search,
          method,
          headers: sent,
          ...(body !== undefined ? { body } : {}),
        },
        {
          // undici's Client takes the classic handler; onHeaders gets the raw header list.
          onConnect() {},
          onHeaders(statusCode: number, rawHeaders: Buffer[], _resume: () => void, statusMessage: string) {
            status = statusCode;
            statusText = statusMessage ?? '';
            raw.length = 0;
            for (let i = 0; i + 1 < rawHeaders.length; i += 2)
              raw.push({ name: rawHeaders[i].toString('latin1'), value: rawHeaders[i + 1].toString('latin1') });
            return true;
          },
          onData(chunk: Buffer) {
            chunks.push(chunk);
            return true;
          },
          onComplete() {
            resolve({
              status,
              statusText,
              httpVersion: 'HTTP/1.1',
              headers: raw,
              body: Buffer.concat(chunks).toString('utf8'),
            });
          },
          onError(err: Error) {
            reject(err);
          },
        },
      );
    });
    return {
      request: { method, url, headers: sent, ...(body !== undefined ? { body } : {}) },
      response,
      receivedAt: new Date(),
    };
  } finally {
    await client.close().catch(() => undefined);
  }
}

/** The header's value (case-insensitive), all values joined. */
export function header(res: CapturedResponse, name: string): string | undefined {
  const v = res.headers.filter((h) => h.name.toLowerCase() === name.toLowerCase()).map((h) => h.value);
  return v.length ? v.join(', ') : undefined;
}

export function setCookies(res: CapturedResponse): string[] {
  return res.headers.filter((h) => h.name.toLowerCase() === 'set-cookie').map((h) => h.value);
}
