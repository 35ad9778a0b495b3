// The byte scanner: walks a HAR's JSON structure between strings (strings are
// skipped with memchr through Buffer.indexOf), reads only
// log.entries[i].response.status and the credential headers' shape, and keeps
// the bytes of an entry only when its status is a denial (isDenial).
//
// The structure between strings is validated as strict JSON, so a truncated or
// corrupt file fails with the byte offset where it went wrong. String contents
// (escapes, control characters) are only checked in the entries that are
// parsed (entry.ts); skipping them is what makes the scan fast.
import { InputError } from '../../errors.ts';
import { isDenial } from '../../engine/status.ts';
import { CAPTURE_MAX, isRedactionPlaceholder } from './sanitized.ts';

// Parser states: what may come next.
const S_VALUE = 0;
const S_VALUE_OR_END = 1; // after "["
const S_KEY_OR_END = 2; // after "{"
const S_KEY = 3; // after "," in an object
const S_COLON = 4;
const S_AFTER = 5; // after a value
const S_DONE = 6; // the root value is closed

// Roles of the containers whose contents matter.
const R_OTHER = 0;
const R_ROOT = 1;
const R_LOG = 2;
const R_ENTRIES = 3;
const R_ENTRY = 4;
const R_REQUEST = 5;
const R_RESPONSE = 6;
const R_REQ_HEADERS = 7;
const R_RESP_HEADERS = 8;
const R_REQ_HEADER = 9;
const R_RESP_HEADER = 10;
const R_COOKIES = 11;
const R_CREATOR = 12;

// Keys that matter, per role.
const K_NONE = 0;
const K_LOG = 1;
const K_ENTRIES = 2;
const K_REQUEST = 3;
const K_RESPONSE = 4;
const K_STATUS = 5;
const K_HEADERS = 6;
const K_COOKIES = 7;
const K_NAME = 8;
const K_VALUE = 9;
const K_CREATOR = 10;

const T_OBJECT = 1;
const T_ARRAY = 2;
const T_SCALAR = 3;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

const bytes = (s: string) => Buffer.from(s, 'latin1');
/** A role's keys that matter, each as its bytes and its kind, in the order given. */
const keyed = (keys: Record<string, number>): Array<[Buffer, number]> =>
  Object.entries(keys).map(([key, kind]) => [bytes(key), kind]);
const KEYS_BY_ROLE: Array<Array<[Buffer, number]>> = Array.from({ length: 16 }, () => []);
KEYS_BY_ROLE[R_ROOT] = keyed({ log: K_LOG });
KEYS_BY_ROLE[R_LOG] = keyed({ entries: K_ENTRIES, creator: K_CREATOR });
KEYS_BY_ROLE[R_ENTRY] = keyed({ request: K_REQUEST, response: K_RESPONSE });
KEYS_BY_ROLE[R_REQUEST] = keyed({ headers: K_HEADERS, cookies: K_COOKIES });
KEYS_BY_ROLE[R_RESPONSE] = keyed({ status: K_STATUS, headers: K_HEADERS, cookies: K_COOKIES });
KEYS_BY_ROLE[R_REQ_HEADER] = keyed({ name: K_NAME, value: K_VALUE });
KEYS_BY_ROLE[R_RESP_HEADER] = KEYS_BY_ROLE[R_REQ_HEADER];
KEYS_BY_ROLE[R_CREATOR] = keyed({ name: K_NAME });
const ROLE_KEYED = new Uint8Array(16);
/** Per role, a bit per length (< 32) of the keys that matter: most keys are dismissed on length alone. */
const ROLE_KEY_LENGTHS = new Uint32Array(16);
for (let r = 0; r < 16; r++) {
  ROLE_KEYED[r] = KEYS_BY_ROLE[r].length ? 1 : 0;
  for (const [lit] of KEYS_BY_ROLE[r]) ROLE_KEY_LENGTHS[r] |= 1 << lit.length;
}

const NAME4 = bytes('name').readUInt32BE(0);
const VALU4 = bytes('valu').readUInt32BE(0);
const H_COOKIE = bytes('cookie');
const H_AUTHORIZATION = bytes('authorization');
const H_SET_COOKIE = bytes('set-cookie');

// Byte classes for the walk between strings (0: a byte that cannot appear there).
const C_WS = 1;
const C_QUOTE = 2;
const C_OPEN_OBJECT = 3;
const C_OPEN_ARRAY = 4;
const C_CLOSE_OBJECT = 5;
const C_CLOSE_ARRAY = 6;
const C_COLON = 7;
const C_COMMA = 8;
const C_SCALAR = 9;
const CLASS = new Uint8Array(256);
CLASS[0x20] = CLASS[0x0a] = CLASS[0x0d] = CLASS[0x09] = C_WS;
CLASS[0x22] = C_QUOTE;
CLASS[0x7b] = C_OPEN_OBJECT;
CLASS[0x5b] = C_OPEN_ARRAY;
CLASS[0x7d] = C_CLOSE_OBJECT;
CLASS[0x5d] = C_CLOSE_ARRAY;
CLASS[0x3a] = C_COLON;
CLASS[0x2c] = C_COMMA;
for (const b of Buffer.from('-0123456789tfn', 'latin1')) CLASS[b] = C_SCALAR;
/** Bytes that continue a number or literal (wider than JSON allows, so "20x" is caught whole). */
const SCALAR_BYTE = new Uint8Array(256);
for (const b of Buffer.from('0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ+-.', 'latin1'))
  SCALAR_BYTE[b] = 1;

/** Short strings are scanned in JS: cheaper than a call into Buffer.indexOf. */
const INLINE_SCAN = 48;

function describeByte(b: number): string {
  if (b >= 0x21 && b <= 0x7e) return `'${String.fromCharCode(b)}'`;
  if (b === 0x20) return 'a space';
  return `byte 0x${b.toString(16).padStart(2, '0')}`;
}

function equalsAscii(src: Buffer, s: number, e: number, lit: Buffer): boolean {
  if (e - s !== lit.length) return false;
  for (let k = 0; k < lit.length; k++) if (src[s + k] !== lit[k]) return false;
  return true;
}

function equalsAsciiFold(src: Buffer, s: number, e: number, lower: Buffer): boolean {
  if (e - s !== lower.length) return false;
  for (let k = 0; k < lower.length; k++) {
    let b = src[s + k];
    if (b >= 0x41 && b <= 0x5a) b |= 0x20;
    if (b !== lower[k]) return false;
  }
  return true;
}

/** Strict JSON number or literal in src[s, e). */
function validScalar(src: Buffer, s: number, e: number): boolean {
  const c = src[s];
  if (c === 0x74) return e - s === 4 && src[s + 1] === 0x72 && src[s + 2] === 0x75 && src[s + 3] === 0x65;
  if (c === 0x66)
    return e - s === 5 && src[s + 1] === 0x61 && src[s + 2] === 0x6c && src[s + 3] === 0x73 && src[s + 4] === 0x65;
  if (c === 0x6e) return e - s === 4 && src[s + 1] === 0x75 && src[s + 2] === 0x6c && src[s + 3] === 0x6c;
  let k = s;
  if (src[k] === 0x2d) k++;
  if (k >= e) return false;
  if (src[k] === 0x30) k++;
  else if (src[k] >= 0x31 && src[k] <= 0x39) while (k < e && src[k] >= 0x30 && src[k] <= 0x39) k++;
  else return false;
  if (k < e && src[k] === 0x2e) {
    k++;
    const d = k;
    while (k < e && src[k] >= 0x30 && src[k] <= 0x39) k++;
    if (k === d) return false;
  }
  if (k < e && (src[k] === 0x65 || src[k] === 0x45)) {
    k++;
    if (k < e && (src[k] === 0x2b || src[k] === 0x2d)) k++;
    const d = k;
    while (k < e && src[k] >= 0x30 && src[k] <= 0x39) k++;
    if (k === d) return false;
  }
  return k === e;
}

function matchKey(role: number, src: Buffer, s: number, e: number): number {
  const table = KEYS_BY_ROLE[role];
  for (let t = 0; t < table.length; t++) if (equalsAscii(src, s, e, table[t][0])) return table[t][1];
  if (hasBackslash(src, s, e)) {
    const key = decodeJsonString(src, s, e);
    for (const [lit, code] of table) if (key === lit.toString('latin1')) return code;
  }
  return K_NONE;
}

/**
 * Index of the first unescaped quote at or after `from`, or -1. After an
 * escaped quote the next one is looked for in JS first: a JSON body stored as
 * a string has one every few bytes, and each Buffer#indexOf call (memchr, the
 * fast way over long runs) costs more than a short loop.
 */
function closingQuote(buf: Buffer, from: number, carriedBackslashes: number): number {
  const len = buf.length;
  let j = buf.indexOf(QUOTE, from);
  while (j >= 0) {
    let k = j - 1;
    let n = 0;
    while (k >= 0 && buf[k] === BACKSLASH) {
      n++;
      k--;
    }
    if (k < 0) n += carriedBackslashes;
    if ((n & 1) === 0) return j;
    const lim = j + 1 + INLINE_SCAN < len ? j + 1 + INLINE_SCAN : len;
    j++;
    while (j < lim && buf[j] !== QUOTE) j++;
    if (j === len) return -1;
    if (j === lim) j = buf.indexOf(QUOTE, j);
  }
  return -1;
}

/** What the scanner learnt about the export's handling of credentials, for one entry or all. */
export interface CredentialSigns {
  /** Cookie / Authorization / Set-Cookie headers with a real-looking value, or non-empty cookie lists. */
  present: number;
  /** The same headers whose value is a redaction placeholder or empty. */
  redacted: number;
}

export interface DenialBytes {
  bytes: Buffer;
  index: number;
  offset: number;
  signs: CredentialSigns;
  /** Credential signs in all entries before this one. */
  before: CredentialSigns;
}

/**
 * Feed it chunks with scan(), then call finish(). Denied entries come out of
 * take() as raw bytes with their position; everything else is only counted.
 */
export class HarScanner {
  readonly name: string;
  private base = 0; // absolute offset of the current chunk
  private state = S_VALUE;
  private depth = 0;
  private types = new Uint8Array(64);
  private roles = new Uint8Array(64);
  private pendingKey = K_NONE;

  // A string that runs past the end of a chunk.
  private inString = false;
  private stringIsKey = false;
  private stringCapture = false;
  private stringStart = 0; // absolute offset of the opening quote
  private trailingBackslashes = 0;
  private captured = Buffer.alloc(CAPTURE_MAX);
  private capturedLength = 0; // > CAPTURE_MAX means "too long, not kept"

  // A number or literal that runs past the end of a chunk.
  private scalar: Buffer | undefined;
  private scalarStart = 0;

  private bomSeen = 0; // bytes of a UTF-8 BOM matched so far; 3 once settled
  private sawLog = false;
  private sawEntries = false;
  private creatorName: string | undefined;

  // The entry being read.
  private entryIndex = -1;
  private entryStart = 0; // absolute offset of its "{"
  private entryStartInChunk = 0;
  private entryChunks: Buffer[] = [];
  private retaining = false;
  private status = -1;
  private statusRaw: string | undefined;
  private entrySigns: CredentialSigns = { present: 0, redacted: 0 };
  private headerSensitive = false;
  private headerNamed = false;
  private headerValueState = 0; // 0 none seen, 1 real, 2 redacted/empty

  // Totals.
  total = 0;
  denied = 0;
  byStatus: Record<string, number> = {};
  signs: CredentialSigns = { present: 0, redacted: 0 };
  private ready: DenialBytes[] = [];

  /** Absolute offset of the "{" of log.entries[0], once seen. */
  firstEntryAt = -1;
  /** The caller reuses chunk buffers: keep copies, not views, of bytes needed after scan() returns. */
  volatileChunks = false;
  /** Started mid-file (atEntry): entry indexes count from there. */
  private relative = false;

  constructor(name: string) {
    this.name = name;
  }

  /**
   * A scanner that starts at byte `at` of a file, at the "{" of an entry of
   * log.entries that follows a comma. Its entry indexes and credential signs
   * count from there; whoever scans the bytes before `at` must confirm
   * (atNextEntry) that the assumption holds.
   */
  static atEntry(name: string, at: number): HarScanner {
    const s = new HarScanner(name);
    s.relative = true;
    s.base = at;
    s.bomSeen = 3;
    s.sawLog = s.sawEntries = true;
    s.types.set([T_OBJECT, T_OBJECT, T_ARRAY]);
    s.roles.set([R_ROOT, R_LOG, R_ENTRIES]);
    s.depth = 3;
    s.state = S_VALUE;
    return s;
  }

  /** True when the bytes so far end right where HarScanner.atEntry assumes: in log.entries, after a comma. */
  get atNextEntry(): boolean {
    return (
      !this.inString &&
      !this.scalar &&
      this.depth === 3 &&
      this.state === S_VALUE &&
      this.types[0] === T_OBJECT &&
      this.types[1] === T_OBJECT &&
      this.types[2] === T_ARRAY &&
      this.roles[0] === R_ROOT &&
      this.roles[1] === R_LOG &&
      this.roles[2] === R_ENTRIES
    );
  }

  /** Name of the tool that wrote the HAR (log.creator.name), once read. */
  get creator(): string | undefined {
    return this.creatorName;
  }

  take(): DenialBytes[] {
    const out = this.ready;
    this.ready = [];
    return out;
  }

  private where(): string {
    if (this.entryIndex >= 0 && this.depth >= 4 && this.roles[2] === R_ENTRIES)
      return ` (in ${this.entryLabel(this.entryIndex)})`;
    return '';
  }

  /** "log.entries[7]"; a scanner started mid-file (atEntry) writes "log.entries[+7]", which scanFile rewrites. */
  private entryLabel(k: number): string {
    return `log.entries[${this.relative ? '+' : ''}${k}]`;
  }

  private fail(message: string): never {
    throw new InputError(this.name, message);
  }

  private invalid(at: number, b: number, expected: string): never {
    this.fail(`not valid JSON at byte ${at}: expected ${expected}, found ${describeByte(b)}${this.where()}`);
  }

  private expectedHere(): string {
    switch (this.state) {
      case S_VALUE:
        return this.depth === 0 ? 'a HAR file (a JSON object with log.entries)' : 'a value';
      case S_VALUE_OR_END:
        return "a value or ']'";
      case S_KEY_OR_END:
        return "a quoted key or '}'";
      case S_KEY:
        return 'a quoted key';
      case S_COLON:
        return "':' after a key";
      case S_AFTER:
        return this.depth === 0
          ? 'the end of the file'
          : this.types[this.depth - 1] === T_OBJECT
            ? "',' or '}'"
            : "',' or ']'";
      default:
        return 'the end of the file';
    }
  }

  private grow(): void {
    const t = new Uint8Array(this.types.length * 2);
    t.set(this.types);
    this.types = t;
    const r = new Uint8Array(this.roles.length * 2);
    r.set(this.roles);
    this.roles = r;
  }

  /**
   * The role a value takes in its container (this.depth is the container's
   * depth + 1); checks the HAR shape where it matters.
   */
  private roleOf(type: number, key: number, at: number): number {
    const depth = this.depth;
    if (depth === 0) {
      if (type !== T_OBJECT)
        this.fail(
          `not a HAR file: expected a JSON object with log.entries, found ${type === T_ARRAY ? 'an array' : 'a bare value'} at byte ${at}`,
        );
      return R_ROOT;
    }
    const parent = this.roles[depth - 1];
    if (this.types[depth - 1] === T_ARRAY) {
      switch (parent) {
        case R_ENTRIES:
          if (type !== T_OBJECT)
            this.fail(`not a HAR file: ${this.entryLabel(this.entryIndex + 1)} at byte ${at} is not an object`);
          return R_ENTRY;
        case R_REQ_HEADERS:
          return type === T_OBJECT ? R_REQ_HEADER : R_OTHER;
        case R_RESP_HEADERS:
          return type === T_OBJECT ? R_RESP_HEADER : R_OTHER;
        case R_COOKIES:
          // Any cookie listed means the export kept cookies.
          this.entrySigns.present++;
          return R_OTHER;
        default:
          return R_OTHER;
      }
    }
    switch (parent) {
      case R_ROOT:
        if (key === K_LOG) {
          if (type !== T_OBJECT) this.fail(`not a HAR file: "log" at byte ${at} is not an object`);
          this.sawLog = true;
          return R_LOG;
        }
        return R_OTHER;
      case R_LOG:
        if (key === K_ENTRIES) {
          if (type !== T_ARRAY) this.fail(`not a HAR file: log.entries at byte ${at} is not an array`);
          this.sawEntries = true;
          return R_ENTRIES;
        }
        if (key === K_CREATOR && type === T_OBJECT) return R_CREATOR;
        return R_OTHER;
      case R_ENTRY:
        if (type !== T_OBJECT) return R_OTHER;
        return key === K_REQUEST ? R_REQUEST : key === K_RESPONSE ? R_RESPONSE : R_OTHER;
      case R_REQUEST:
      case R_RESPONSE:
        if (type !== T_ARRAY) return R_OTHER;
        if (key === K_HEADERS) return parent === R_REQUEST ? R_REQ_HEADERS : R_RESP_HEADERS;
        if (key === K_COOKIES) return R_COOKIES;
        return R_OTHER;
      default:
        return R_OTHER;
    }
  }

  scan(buf: Buffer): void {
    const len = buf.length;
    if (len === 0) return;
    let i = 0;
    if (this.bomSeen < 3) {
      i = this.skipBom(buf);
      if (i < 0) {
        this.base += len;
        return;
      }
    }
    if (this.retaining) this.entryChunks.push(buf);
    if (this.scalar) i = this.continueScalar(buf, i);
    if (i >= 0 && this.inString) i = this.continueString(buf, i);
    if (i >= 0) this.walk(buf, i);
    this.base += len;
    if (this.volatileChunks && this.retaining) {
      // Only an entry still open at the end of the chunk, and only its part in this chunk, is copied.
      const last = this.entryChunks.length - 1;
      const from = last === 0 ? this.entryStartInChunk : 0;
      this.entryChunks[last] = Buffer.from(buf.subarray(from));
      if (last === 0) this.entryStartInChunk = 0;
    }
  }

  /** The hot loop: structure between strings, with the parser state in locals. */
  private walk(buf: Buffer, from: number): void {
    const len = buf.length;
    let types = this.types;
    let roles = this.roles;
    let state = this.state;
    let depth = this.depth;
    let key = this.pendingKey;
    // Pretty-printed HARs are a third indentation: skip it four bytes at a time.
    const view = new DataView(buf.buffer, buf.byteOffset, len);
    const lastWord = len - 4;
    let i = from;
    for (; i < len; i++) {
      const c = buf[i];
      if (c === 0x0a) {
        i++;
        while (i <= lastWord && view.getUint32(i) === 0x20202020) i += 4;
        while (i < len && buf[i] === 0x20) i++;
        i--;
        continue;
      }
      const cls = CLASS[c];
      if (cls === C_WS) continue;
      if (cls === C_QUOTE) {
        const isKey = state === S_KEY || state === S_KEY_OR_END;
        if (!isKey && state !== S_VALUE && state !== S_VALUE_OR_END) break;
        const s = i + 1;
        let j = s;
        const lim = s + INLINE_SCAN < len ? s + INLINE_SCAN : len;
        while (j < lim && buf[j] !== QUOTE) j++;
        let e: number;
        if (j < lim && buf[j - 1] !== BACKSLASH) e = j;
        else if (j === len) e = -1;
        else e = closingQuote(buf, j, 0);
        if (e < 0) {
          this.state = state;
          this.depth = depth;
          this.pendingKey = key;
          this.startCarry(buf, i, isKey);
          return;
        }
        if (isKey) {
          const n = e - s;
          const parent = roles[depth - 1];
          if (parent === R_REQ_HEADER || parent === R_RESP_HEADER) {
            // A header object's two keys, read four bytes at a time: there are dozens per entry.
            if (n === 4 && view.getUint32(s) === NAME4) key = K_NAME;
            else if (n === 5 && view.getUint32(s) === VALU4 && buf[s + 4] === 0x65) key = K_VALUE;
            else key = hasBackslash(buf, s, e) ? matchKey(parent, buf, s, e) : K_NONE;
          } else
            // Length rules most keys out; a key spelled with escapes ("st\u0061tus") is decoded first.
            key =
              ROLE_KEYED[parent] === 1 && ((n < 32 && (ROLE_KEY_LENGTHS[parent] >>> n) & 1) || hasBackslash(buf, s, e))
                ? matchKey(parent, buf, s, e)
                : K_NONE;
          // Nearly every key is followed directly by its colon (and, pretty-printed, one space).
          // (Reads stay inside the buffer: one out of bounds would throw away the optimized code.)
          if (e + 2 < len && buf[e + 1] === 0x3a) {
            state = S_VALUE;
            i = buf[e + 2] === 0x20 ? e + 2 : e + 1;
          } else {
            state = S_COLON;
            i = e;
          }
          continue;
        }
        // Only a few string values matter: header names, in the entries and cookie lists, and under a key that matters.
        const parent = depth > 0 ? roles[depth - 1] : R_OTHER;
        if ((parent === R_REQ_HEADER || parent === R_RESP_HEADER) && key === K_NAME) {
          const n = e - s;
          this.headerNamed = true;
          this.headerSensitive = (n === 6 || n === 10 || n === 13) && this.sensitiveName(parent, buf, s, e);
        } else if (
          (parent === R_REQ_HEADER || parent === R_RESP_HEADER) &&
          key === K_VALUE &&
          this.headerNamed &&
          !this.headerSensitive
        ) {
          this.headerValueState = 1;
        } else if (
          depth === 0 ||
          (types[depth - 1] === T_ARRAY ? parent === R_ENTRIES || parent === R_COOKIES : key !== K_NONE)
        ) {
          this.depth = depth;
          this.valueString(key, buf, s, e, true, this.base + i);
        }
        i = e;
        state = S_AFTER;
      } else if (cls === C_SCALAR) {
        if (state !== S_VALUE && state !== S_VALUE_OR_END) break;
        let j = i + 1;
        while (j < len && SCALAR_BYTE[buf[j]] === 1) j++;
        this.state = state;
        this.depth = depth;
        this.pendingKey = key;
        if (j === len) {
          this.scalar = Buffer.from(buf.subarray(i));
          this.scalarStart = this.base + i;
          return;
        }
        if (depth === 0 || roles[depth - 1] !== R_OTHER || !validScalar(buf, i, j))
          this.endScalar(buf, i, j, this.base + i);
        state = S_AFTER;
        i = j - 1;
      } else if (cls === C_CLOSE_OBJECT || cls === C_CLOSE_ARRAY) {
        const type = cls === C_CLOSE_OBJECT ? T_OBJECT : T_ARRAY;
        if (depth === 0 || types[depth - 1] !== type) break;
        if (state !== S_AFTER && state !== (type === T_OBJECT ? S_KEY_OR_END : S_VALUE_OR_END)) break;
        depth--;
        const role = roles[depth];
        if (role === R_ENTRY) {
          this.depth = depth;
          this.closeEntry(buf, i);
        } else if (role === R_REQ_HEADER || role === R_RESP_HEADER) this.closeHeader();
        state = depth === 0 ? S_DONE : S_AFTER;
      } else {
        if (cls === C_OPEN_OBJECT || cls === C_OPEN_ARRAY) {
          if (state !== S_VALUE && state !== S_VALUE_OR_END) break;
          const type = cls === C_OPEN_OBJECT ? T_OBJECT : T_ARRAY;
          let role = R_OTHER;
          const parent = depth > 0 ? roles[depth - 1] : R_OTHER;
          if ((parent === R_REQ_HEADERS || parent === R_RESP_HEADERS) && type === T_OBJECT)
            role = parent === R_REQ_HEADERS ? R_REQ_HEADER : R_RESP_HEADER;
          else if (depth === 0 || parent !== R_OTHER) {
            this.depth = depth;
            role = this.roleOf(type, key, this.base + i);
          }
          if (depth === types.length) {
            this.grow();
            types = this.types;
            roles = this.roles;
          }
          types[depth] = type;
          roles[depth] = role;
          depth++;
          if (role === R_ENTRY) {
            this.depth = depth;
            this.openEntry(buf, i);
          } else if (role === R_REQ_HEADER || role === R_RESP_HEADER) {
            this.headerSensitive = false;
            this.headerNamed = false;
            this.headerValueState = 0;
          }
          state = type === T_OBJECT ? S_KEY_OR_END : S_VALUE_OR_END;
          continue;
        }
        if (cls === C_COLON) {
          if (state !== S_COLON) break;
          state = S_VALUE;
          continue;
        }
        if (cls === C_COMMA) {
          if (state !== S_AFTER || depth === 0) break;
          state = types[depth - 1] === T_OBJECT ? S_KEY : S_VALUE;
          continue;
        }
        break;
      }
      // A value just ended at i. Pretty-printed, a comma, a newline and the indentation follow: take them in one step.
      if (i + 2 < len && buf[i + 1] === 0x2c && depth > 0) {
        state = types[depth - 1] === T_OBJECT ? S_KEY : S_VALUE;
        i++;
        if (buf[i + 1] === 0x0a) {
          i += 2;
          while (i <= lastWord && view.getUint32(i) === 0x20202020) i += 4;
          while (i < len && buf[i] === 0x20) i++;
          i--;
        }
      }
    }
    this.state = state;
    this.depth = depth;
    this.pendingKey = key;
    if (i < len) this.invalid(this.base + i, buf[i], this.expectedHere());
  }

  /** Returns where JSON starts in buf, or -1 when buf was all (part of) a BOM. */
  private skipBom(buf: Buffer): number {
    const BOM = [0xef, 0xbb, 0xbf];
    let i = 0;
    while (this.bomSeen < 3 && i < buf.length) {
      if (
        this.base === 0 &&
        i === 0 &&
        buf.length >= 2 &&
        ((buf[0] === 0xff && buf[1] === 0xfe) || (buf[0] === 0xfe && buf[1] === 0xff))
      )
        this.fail('is UTF-16 encoded; expected a HAR file in UTF-8 (save or convert it as UTF-8)');
      if (buf[i] === BOM[this.bomSeen]) {
        this.bomSeen++;
        i++;
        continue;
      }
      if (this.bomSeen === 0) {
        this.bomSeen = 3;
        return i;
      }
      this.invalid(this.base + i, buf[i], 'a HAR file (a JSON object with log.entries)');
    }
    return i < buf.length ? i : -1;
  }

  private wantsStringValue(key: number): boolean {
    if (this.depth === 0) return false;
    const parent = this.roles[this.depth - 1];
    if (parent === R_REQ_HEADER || parent === R_RESP_HEADER) return key === K_NAME || key === K_VALUE;
    if (parent === R_RESPONSE) return key === K_STATUS;
    if (parent === R_CREATOR) return key === K_NAME;
    return false;
  }

  /** A string starts at buf[i] and runs past the end of buf. */
  private startCarry(buf: Buffer, i: number, isKey: boolean): void {
    this.inString = true;
    this.stringIsKey = isKey;
    this.stringStart = this.base + i;
    const parent = this.depth > 0 ? this.roles[this.depth - 1] : R_OTHER;
    this.stringCapture = isKey ? ROLE_KEYED[parent] === 1 : this.wantsStringValue(this.pendingKey);
    this.capturedLength = 0;
    this.trailingBackslashes = 0;
    this.carryString(buf, i + 1, false);
  }

  /** The rest of a carried string; returns where the walk resumes, or -1 if it runs past this chunk too. */
  private continueString(buf: Buffer, from: number): number {
    const e = closingQuote(buf, from, this.trailingBackslashes);
    if (e < 0) {
      this.carryString(buf, from, true);
      return -1;
    }
    this.capturePart(buf, from, e);
    this.inString = false;
    const kept = this.capturedLength <= CAPTURE_MAX;
    const src = this.captured;
    const end = kept ? this.capturedLength : 0;
    if (this.stringIsKey) {
      const parent = this.roles[this.depth - 1];
      this.pendingKey = this.stringCapture && kept ? matchKey(parent, src, 0, end) : K_NONE;
      this.state = S_COLON;
    } else {
      if (this.depth === 0 || this.roles[this.depth - 1] !== R_OTHER)
        this.valueString(this.pendingKey, src, 0, end, kept, this.stringStart);
      this.state = S_AFTER;
    }
    return e + 1;
  }

  private carryString(buf: Buffer, from: number, continued: boolean): void {
    let k = buf.length - 1;
    let n = 0;
    while (k >= from && buf[k] === BACKSLASH) {
      n++;
      k--;
    }
    this.trailingBackslashes = k < from && continued ? this.trailingBackslashes + n : n;
    this.capturePart(buf, from, buf.length);
  }

  private capturePart(buf: Buffer, from: number, to: number): void {
    if (!this.stringCapture) return;
    const n = to - from;
    if (this.capturedLength + n <= CAPTURE_MAX) buf.copy(this.captured, this.capturedLength, from, to);
    this.capturedLength += n;
  }

  private sensitiveName(parent: number, src: Buffer, s: number, e: number): boolean {
    return parent === R_REQ_HEADER
      ? equalsAsciiFold(src, s, e, H_COOKIE) || equalsAsciiFold(src, s, e, H_AUTHORIZATION)
      : equalsAsciiFold(src, s, e, H_SET_COOKIE);
  }

  /** A string value src[s, e) in a container that matters (only when `kept`: long strings are not). */
  private valueString(key: number, src: Buffer, s: number, e: number, kept: boolean, at: number): void {
    this.roleOf(T_SCALAR, key, at);
    if (this.depth === 0) return;
    const parent = this.roles[this.depth - 1];
    if (parent === R_REQ_HEADER || parent === R_RESP_HEADER) {
      if (key === K_NAME) {
        this.headerNamed = true;
        this.headerSensitive = kept && this.sensitiveName(parent, src, s, e);
      } else if (key === K_VALUE) {
        // Only the value of a Cookie/Authorization/Set-Cookie header is looked at (the name usually comes first).
        if (this.headerNamed && !this.headerSensitive) this.headerValueState = 1;
        else
          this.headerValueState =
            kept && e - s <= CAPTURE_MAX && isRedactionPlaceholder(decodeJsonString(src, s, e)) ? 2 : 1;
      }
    } else if (parent === R_RESPONSE && key === K_STATUS) {
      this.statusRaw = kept ? decodeJsonString(src, s, e) : '?';
      this.setStatus(Number.parseInt(this.statusRaw, 10));
    } else if (parent === R_CREATOR && key === K_NAME && kept) {
      this.creatorName = decodeJsonString(src, s, e);
    }
  }

  private continueScalar(buf: Buffer, from: number): number {
    let j = from;
    while (j < buf.length && SCALAR_BYTE[buf[j]] === 1) j++;
    const joined = Buffer.concat([this.scalar!, buf.subarray(from, j)]);
    if (j === buf.length) {
      this.scalar = joined;
      return -1;
    }
    this.scalar = undefined;
    this.endScalar(joined, 0, joined.length, this.scalarStart);
    this.state = S_AFTER;
    return j;
  }

  /** A number or literal that needs a look: it is invalid, or sits where the HAR shape matters. */
  private endScalar(src: Buffer, s: number, e: number, at: number): void {
    if (!validScalar(src, s, e)) {
      const text = src.toString('latin1', s, Math.min(e, s + 24));
      this.fail(`not valid JSON at byte ${at}: expected a value, found '${text}'${this.where()}`);
    }
    const key = this.pendingKey;
    this.roleOf(T_SCALAR, key, at);
    if (key === K_STATUS && this.depth > 0 && this.roles[this.depth - 1] === R_RESPONSE) {
      this.statusRaw = src.toString('latin1', s, e);
      this.setStatus(Number(this.statusRaw));
    }
  }

  private setStatus(status: number): void {
    this.status = Number.isFinite(status) ? status : -1;
    // Bytes of an entry that will not be parsed need not be kept any longer.
    if (!isDenial(this.status) && this.retaining) {
      this.retaining = false;
      this.entryChunks = [];
    }
  }

  private openEntry(buf: Buffer, i: number): void {
    this.entryIndex++;
    if (this.firstEntryAt < 0 && this.entryIndex === 0) this.firstEntryAt = this.base + i;
    this.entryStart = this.base + i;
    this.entryStartInChunk = i;
    this.entryChunks = [buf];
    this.retaining = true;
    this.status = -1;
    this.statusRaw = undefined;
    this.entrySigns = { present: 0, redacted: 0 };
  }

  private closeHeader(): void {
    if (!this.headerSensitive) return;
    if (this.headerValueState === 1) this.entrySigns.present++;
    else this.entrySigns.redacted++;
  }

  private closeEntry(buf: Buffer, i: number): void {
    this.total++;
    const key = this.statusRaw === undefined ? 'missing' : String(this.status >= 0 ? this.status : this.statusRaw);
    this.byStatus[key] = (this.byStatus[key] ?? 0) + 1;
    const before = { ...this.signs };
    this.signs.present += this.entrySigns.present;
    this.signs.redacted += this.entrySigns.redacted;
    if (isDenial(this.status) && this.retaining) {
      this.denied++;
      const chunks = this.entryChunks;
      let bytes: Buffer;
      if (chunks.length === 1)
        bytes = this.volatileChunks
          ? Buffer.from(buf.subarray(this.entryStartInChunk, i + 1))
          : buf.subarray(this.entryStartInChunk, i + 1);
      else {
        const parts = [chunks[0].subarray(this.entryStartInChunk)];
        for (let k = 1; k < chunks.length - 1; k++) parts.push(chunks[k]);
        parts.push(buf.subarray(0, i + 1));
        bytes = Buffer.concat(parts);
      }
      this.ready.push({ bytes, index: this.entryIndex, offset: this.entryStart, signs: this.entrySigns, before });
    }
    this.retaining = false;
    this.entryChunks = [];
  }

  finish(): void {
    if (this.scalar) {
      const s = this.scalar;
      this.scalar = undefined;
      this.endScalar(s, 0, s.length, this.scalarStart);
      this.state = this.depth === 0 ? S_DONE : S_AFTER;
    }
    if (this.inString)
      this.fail(
        `is truncated: it ends at byte ${this.base} inside a string that starts at byte ${this.stringStart}${this.where()}; expected a complete HAR file`,
      );
    if (this.state !== S_DONE) {
      if (this.depth === 0 && this.state === S_VALUE)
        this.fail('is empty; expected a HAR file (a JSON object with log.entries)');
      this.fail(
        `is truncated: it ends at byte ${this.base}${this.where()} where ${this.expectedHere()} was expected; expected a complete HAR file`,
      );
    }
    if (!this.sawLog)
      this.fail('not a HAR file: expected a JSON object with a "log" object holding "entries", found no "log"');
    if (!this.sawEntries) this.fail('not a HAR file: the "log" object has no "entries" array');
  }
}

function hasBackslash(src: Buffer, s: number, e: number): boolean {
  for (let k = s; k < e; k++) if (src[k] === BACKSLASH) return true;
  return false;
}
function decodeJsonString(src: Buffer, s: number, e: number): string {
  const raw = src.toString('utf8', s, e);
  if (raw.indexOf('\\') < 0) return raw;
  try {
    return JSON.parse(`"${raw}"`) as string;
  } catch {
    return raw;
  }
}

/** What a scan of the whole input found, besides the denied entries. */
export interface ScanResult {
  total: number;
  denied: number;
  byStatus: Record<string, number>;
  signs: CredentialSigns;
  creator: string | undefined;
}

/** Denied entries found in one step of a scan, and the file's creator as known then. */
export interface Batch {
  items: DenialBytes[];
  creator: string | undefined;
}

export function resultOf(scanner: HarScanner): ScanResult {
  return {
    total: scanner.total,
    denied: scanner.denied,
    byStatus: { ...scanner.byStatus },
    signs: { ...scanner.signs },
    creator: scanner.creator,
  };
}
