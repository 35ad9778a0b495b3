// What every integration shares: the app's options, the one place a denial
// becomes both its response and its event, and the sinks kept from failing
// a request. express.ts, fastify.ts and web.ts only read their framework's
// request into RequestFacts and a Caller, and write the response back.
import type { BlockList } from 'node:net';
import { explainDenial, type Denial, type Disclosure, type ExplainedResponse } from './denial.ts';
import { denialEvent, type DenialSink, type RequestFacts } from './events.ts';
import { blockList } from './guards.ts';

export interface MiddlewareOptions {
  /** How much a response tells the caller (default `cause`); the event always carries everything. */
  disclosure?: Disclosure;
  /** The realm of bearer challenges (default "api"). */
  realm?: string;
  /** Where each denial's event goes (default: nowhere). */
  sinks?: DenialSink[];
  /**
   * Proxies whose X-Forwarded-For is believed (addresses or CIDR blocks).
   * Without them the peer's address is the client's, whatever the header says.
   */
  trustedProxies?: string[];
  /** Told when a sink throws; the request is answered all the same. Default: one line on stderr. */
  onSinkError?: (error: unknown) => void;
}

/** Per route: answer 404 instead of the denial, to hide that the resource exists (the event says what it was). */
export interface RouteOptions {
  hide?: boolean;
  /** The route template for events, where the framework does not give it. */
  route?: string;
}

export class Explainer {
  readonly disclosure: Disclosure;
  readonly trusted: BlockList | undefined;
  private readonly realm: string | undefined;
  private readonly sinks: DenialSink[];
  private readonly onSinkError: (error: unknown) => void;

  constructor(o: MiddlewareOptions = {}) {
    this.disclosure = o.disclosure ?? 'cause';
    if (!['status', 'cause', 'gap'].includes(this.disclosure))
      throw new TypeError(`why403: disclosure "${String(this.disclosure)}": expected status, cause or gap`);
    this.realm = o.realm;
    this.sinks = o.sinks ?? [];
    this.trusted = o.trustedProxies?.length ? blockList(o.trustedProxies, 'why403 trustedProxies') : undefined;
    let told = false;
    this.onSinkError =
      o.onSinkError ??
      ((e) => {
        if (told) return;
        told = true;
        process.stderr.write(`why403: a denial sink failed: ${e instanceof Error ? e.message : String(e)}\n`);
      });
  }

  /** The denial's response, after its event has gone to every sink. */
  respond(d: Denial, facts: RequestFacts & { instance?: string; hide?: boolean }): ExplainedResponse {
    const event = denialEvent(d, facts, { hidden: facts.hide });
    for (const sink of this.sinks)
      try {
        sink.emit(event);
      } catch (e) {
        this.onSinkError(e);
      }
    return explainDenial(d, {
      disclosure: this.disclosure,
      ...(this.realm ? { realm: this.realm } : {}),
      ...(facts.instance ? { instance: facts.instance } : {}),
      ...(facts.requestId ? { requestId: facts.requestId } : {}),
      ...(facts.hide ? { hide: true } : {}),
    });
  }
}
