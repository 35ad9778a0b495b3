// The denial signatures: while the scan runs, each distinct denial is
// diagnosed once and every record that got the same answer points to it (a
// byte-identical body is known without waiting); once the scan has ended,
// the post-pass diagnoses each signature's first denial again with what the
// whole scan showed: its own body, and the fields that separate its own
// records (not every denied record's) from the allowed ones.
import type { NameValue } from '../model/exchange.ts';
import { isDenial } from '../engine/status.ts';
import { recordUrl } from './config.ts';
import { failed, type Fetched, type HttpClient } from './fetch.ts';
import { recordLevelEvidence } from './record-level.ts';
import type { Scrubber } from './secrets.ts';
import { diagnoseDenial, shapeKey } from './signature.ts';
import type { ScanState } from './state.ts';
import { summarize } from './summary.ts';

/** The request every record is fetched with, {id} aside. */
export interface RecordRequest {
  method: string;
  template: string;
  headers: NameValue[];
}

/** Signatures kept by body (the fast path), and denials kept as examples for the post-pass: both bounded. */
const RAW_KEYS = 256;
const EXAMPLES = 100;

export class SignatureCache {
  private readonly state: ScanState;
  private readonly request: RecordRequest;
  private readonly scrubber: Scrubber;
  /** By shape (see `shapeKey`): one diagnosis each. */
  private readonly byShape = new Map<string, Promise<string>>();
  /** By status and exact body, looked up before the body is normalised. */
  private readonly byRaw = new Map<string, Promise<string>>();
  /** The same, once diagnosed: known without waiting. */
  private readonly knownRaw = new Map<string, string>();
  /** The first denial of each signature, kept to diagnose again once the whole scan is known. */
  readonly examples = new Map<string, { fetched: Fetched; url: string; id: string }>();

  constructor(state: ScanState, request: RecordRequest, scrubber: Scrubber) {
    this.state = state;
    this.request = request;
    this.scrubber = scrubber;
  }

  private rawKey(r: Fetched): string {
    return `${r.status}\n${r.body?.text ?? ''}`;
  }

  /** The signature of a denial whose exact body was seen and diagnosed before, if it was. */
  known(r: Fetched): string | undefined {
    return this.knownRaw.get(this.rawKey(r));
  }

  /** The signature of a denial: diagnosed (and saved) the first time its shape is seen. */
  of(r: Fetched, url: string, id: string): Promise<string> {
    // Most denials repeat a body byte for byte: look that up before normalising it.
    const raw = this.rawKey(r);
    const known = this.byRaw.get(raw);
    if (known) return known;
    r = this.scrubber.cleanAnswer(r);
    const { key, shape } = shapeKey(r, id);
    let sig = this.byShape.get(key);
    if (!sig) {
      const req = { method: this.request.method, url, headers: this.request.headers };
      sig = diagnoseDenial(r, req, shape, { extraSecrets: this.scrubber.secrets }).then((row) => {
        this.state.saveSignature(row);
        if (this.examples.size < EXAMPLES) this.examples.set(row.key, { fetched: r, url, id });
        return row.key;
      });
      this.byShape.set(key, sig);
    }
    if (this.byRaw.size < RAW_KEYS) {
      this.byRaw.set(raw, sig);
      sig.then(
        (k) => this.knownRaw.set(raw, k),
        () => undefined,
      );
    }
    return sig;
  }

  /** Lets the diagnoses in flight land (before the state closes). */
  async settle(): Promise<void> {
    await Promise.allSettled(this.byShape.values());
  }
}

/**
 * Diagnoses each signature's first denial again, now with what the whole
 * scan showed: the same request allowed for other records, and the fields
 * that separate that signature's records from the allowed ones. Each is
 * diagnosed from its own body: first alone (what its words say), then with
 * the scan's evidence, which backs the cause the words name when it is one
 * that refuses record by record. A signature first seen in an earlier run
 * has no example in memory; its first record is fetched once more (unless
 * the scan stopped), and used only if it still gets that signature's
 * answer. Returns how many requests that took.
 */
export async function rediagnose(o: {
  state: ScanState;
  request: RecordRequest;
  cache: SignatureCache;
  scrubber: Scrubber;
  client: HttpClient;
  /** The scan has stopped (Ctrl-C during the post-pass): nothing more is sent. */
  stopped: () => boolean;
}): Promise<number> {
  const { state, request } = o;
  const summary = summarize(state);
  if (!summary.records.allowed) return 0;
  let sent = 0;
  const shapes = new Map(state.signatures().map((s) => [s.key, s.shape]));
  for (const sig of summary.signatures) {
    let example = o.cache.examples.get(sig.id);
    if (!example && !o.stopped()) {
      const id = sig.examples[0];
      const url = recordUrl(request.template, id);
      const again = await o.client.send({ method: request.method, url, headers: request.headers }, () => true, 0);
      sent++;
      if (!failed(again) && isDenial(again.status)) {
        const fetched = o.scrubber.cleanAnswer(again);
        // Another answer now (the record changed, the server did) is not this signature's body.
        if (again.status === sig.status && shapeKey(fetched, id).shape === shapes.get(sig.id))
          example = { fetched, url, id };
      }
    }
    if (!example) continue;
    const { shape } = shapeKey(example.fetched, example.id);
    const req = { method: request.method, url: example.url, headers: request.headers };
    const alone = await diagnoseDenial(example.fetched, req, shape, { extraSecrets: o.scrubber.secrets });
    const bodyTop = alone.parsed.causes[0];
    const evidence = recordLevelEvidence({
      status: sig.status,
      denied: sig.count,
      allowed: summary.records.allowed,
      separation: sig.separation,
      command: `why403 scan report ${state.path}`,
      ...(bodyTop ? { bodyCause: { id: bodyTop.id, score: bodyTop.score } } : {}),
    });
    if (!evidence) continue;
    const row = await diagnoseDenial(example.fetched, req, shape, {
      probes: [evidence.probe],
      probeClaims: evidence.claims,
      extraSecrets: o.scrubber.secrets,
    });
    state.updateSignature(sig.id, row);
  }
  return sent;
}
