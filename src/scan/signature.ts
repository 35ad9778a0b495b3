// A denial signature: the same producer, cause and body shape. Thousands of
// forbidden records usually share two or three; each is diagnosed once, on
// its first example, instead of once per record.
import { createHash } from 'node:crypto';
import type { Exchange, NameValue } from '../model/exchange.ts';
import type { Report } from '../model/report.ts';
import { diagnose, type DiagnoseOptions } from '../diagnose.ts';
import type { Fetched } from './fetch.ts';
import type { SignatureRow } from './state.ts';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

/** Words that vary per record (ids, numbers, dates, hashes) become "#", so one rule's refusals share a shape. */
function normalizeText(text: string, id: string): string {
  let t = id.length >= 2 ? text.replaceAll(id, '{id}') : text;
  t = t.replace(/(?<![\w.:+-])[\w.:+-]*\d[\w.:+-]*/g, '#'); // a run is tried from its start only: linear, not quadratic, in a long run
  return t.replace(/\s+/g, ' ').trim();
}

function jsonShape(v: unknown, id: string, depth = 0): unknown {
  if (depth > 6) return '…';
  if (Array.isArray(v)) return v.length ? [jsonShape(v[0], id, depth + 1)] : [];
  if (v && typeof v === 'object')
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, jsonShape((v as Record<string, unknown>)[k], id, depth + 1)]),
    );
  if (typeof v === 'string') return normalizeText(v, id).slice(0, 200);
  if (typeof v === 'number') return '#';
  return v;
}

/** The shape of a denial body: structure and wording, without what changes from record to record. */
export function bodyShape(text: string, mimeType: string, id: string): string {
  if (/json/i.test(mimeType) || /^\s*[[{]/.test(text)) {
    try {
      return JSON.stringify(jsonShape(JSON.parse(text), id)).slice(0, 1000);
    } catch {
      // not JSON after all: compare it as text
    }
  }
  return normalizeText(text, id).slice(0, 1000);
}

/** The key denials of one shape share: status, media type and body shape (unhashed; it is a Map key). */
export function shapeKey(r: Fetched, id: string): { key: string; shape: string } {
  const mime = (r.body?.mimeType ?? '').split(';')[0].trim().toLowerCase();
  const shape = bodyShape(r.body?.text ?? '', mime, id);
  return { key: `${r.status}\n${mime}\n${shape}`, shape };
}

/** Diagnoses one denial and names its signature. */
export async function diagnoseDenial(
  r: Fetched,
  request: { method: string; url: string; headers: NameValue[] },
  shape: string,
  opts: Pick<DiagnoseOptions, 'now' | 'probes' | 'probeClaims' | 'extraSecrets'> = {},
): Promise<SignatureRow & { parsed: Report }> {
  const exchange: Exchange = {
    request: { method: request.method, url: request.url, headers: request.headers },
    response: {
      status: r.status,
      statusText: r.statusText,
      headers: r.headers,
      content: {
        mimeType: r.body?.mimeType,
        text: r.body?.text ?? '',
        truncated: r.body?.truncated,
        ...(r.body?.encoding ? { encoding: r.body.encoding } : {}),
      },
    },
    source: { kind: 'live', name: request.url },
  };
  const report = await diagnose(exchange, opts);
  const top = report.causes[0];
  const producer = report.deniedBy?.product ?? 'unknown';
  const cause = top?.id ?? 'unknown';
  return {
    key: sha(`${producer}\n${cause}\n${r.status}\n${shape}`).slice(0, 12),
    status: r.status,
    producer,
    layer: report.deniedBy?.layer ?? 'unknown',
    cause,
    confidence: report.deniedBy?.confidence ?? 0,
    shape,
    report: JSON.stringify(report),
    parsed: report,
  };
}
