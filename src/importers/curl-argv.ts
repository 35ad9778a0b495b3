// curl's command-line grammar, as far as telling an option from its value
// goes: which short letters exist and which take a value, and which long
// options take one. curlconverter does the real parsing (curl.ts); this is
// for what it cannot tell us — the option a crash was about, and whether a
// -H gave a Cookie header — and for naming a mistyped option.

/** curl's short options: true when the option takes a value. */
const SHORT: Record<string, boolean> = {
  '0': false,
  '1': false,
  '2': false,
  '3': false,
  '4': false,
  '6': false,
  a: false,
  A: true,
  b: true,
  B: false,
  c: true,
  C: true,
  d: true,
  D: true,
  e: true,
  E: true,
  f: false,
  F: true,
  g: false,
  G: false,
  h: false,
  H: true,
  i: false,
  I: false,
  j: false,
  J: false,
  k: false,
  K: true,
  l: false,
  L: false,
  m: true,
  M: false,
  n: false,
  N: false,
  o: true,
  O: false,
  p: false,
  P: true,
  q: false,
  Q: true,
  r: true,
  R: false,
  s: false,
  S: false,
  t: true,
  T: true,
  u: true,
  U: true,
  v: false,
  V: false,
  w: true,
  x: true,
  X: true,
  Y: true,
  y: true,
  z: true,
  Z: false,
  '#': false,
  ':': false,
};

/** curl's long options that take a value. */
const LONG_WITH_VALUE = new Set(
  `url dns-ipv4-addr dns-ipv6-addr random-file egd-file oauth2-bearer connect-timeout doh-url ciphers dns-interface dns-servers
trace trace-ascii limit-rate rate create-file-mode max-redirs stderr aws-sigv4 interface krb haproxy-clientip max-filesize socks5
retry retry-delay retry-max-time ftp-account ftp-method local-port socks4 socks4a ftp-alternative-to-user ftp-ssl-ccc-mode libcurl
keepalive-time socks5-hostname noproxy proxy1.0 tftp-blksize mail-from mail-rcpt proto proto-redir resolve delegation mail-auth
unix-socket proxy-service-name service-name proto-default expect100-timeout connect-to abstract-unix-socket tls-max
happy-eyeballs-timeout-ms tls13-ciphers proxy-tls13-ciphers user-agent cookie alt-svc hsts cookie-jar continue-at data data-raw
data-ascii data-binary data-urlencode json url-query dump-header referer cert cacert cert-type key key-type pass engine capath
pubkey hostpubmd5 hostpubsha256 crlfile tlsuser tlspassword tlsauthtype pinnedpubkey proxy-pinnedpubkey proxy-tlsuser
proxy-tlspassword proxy-tlsauthtype proxy-cert proxy-cert-type proxy-key proxy-key-type proxy-pass proxy-ciphers proxy-crlfile
login-options proxy-cacert proxy-capath etag-save etag-compare curves form form-string request-target header proxy-header
config max-time output output-dir ftp-port quote range telnet-option upload-file user proxy-user write-out proxy preproxy
request speed-limit speed-time time-cond parallel-max port variable expand-url expand-header expand-data ip-tos vlan-priority
sasl-authzid socks5-gssapi-service`.split(/\s+/),
);

export interface ScannedOption {
  /** As written: "-H", "--header", "-k" (one entry per letter of "-sSk"). */
  option: string;
  value?: string;
  /** A short letter curl does not have. */
  unknown?: boolean;
}

/** The options of an argv (argv[0] is "curl"), each with its value. Stops at "--". */
export function scanOptions(argv: string[]): ScannedOption[] {
  const out: ScannedOption[] = [];
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') break;
    if (a.startsWith('--')) {
      const name = a.slice(2);
      if (LONG_WITH_VALUE.has(name)) out.push({ option: a, value: argv[++i] });
      else out.push({ option: a });
      continue;
    }
    if (!a.startsWith('-') || a === '-') continue;
    // A cluster of short options ("-sSLk", "-XPOST"); Array.from keeps a non-BMP letter whole.
    const letters = Array.from(a.slice(1));
    for (let j = 0; j < letters.length; j++) {
      const c = letters[j]!;
      if (!Object.hasOwn(SHORT, c)) {
        out.push({ option: `-${c}`, unknown: true });
        break;
      }
      if (SHORT[c]) {
        const rest = letters.slice(j + 1).join('');
        out.push({ option: `-${c}`, value: rest || argv[++i] });
        break;
      }
      out.push({ option: `-${c}` });
    }
  }
  return out;
}

/**
 * The words of a command line as a splitter reads them, a piece at a time: `add` appends to the current
 * word, `start` begins one with nothing yet (an empty quoted argument is still an argument), and `end`
 * closes it at white space. `done` closes the last one and gives them all.
 */
export class Words {
  private readonly words: string[] = [];
  private cur = '';
  private started = false;

  add(text: string): void {
    this.cur += text;
    this.started = true;
  }

  start(): void {
    this.started = true;
  }

  end(): void {
    if (this.started) this.words.push(this.cur);
    this.cur = '';
    this.started = false;
  }

  done(): string[] {
    this.end();
    return this.words;
  }
}

/**
 * A shell line split into words well enough for the scans above: '…', "…"
 * (with \" \\ \$ inside), $'…' (with \' \\ \n inside) and \-escapes; a
 * backslash before a line break joins the lines. Not a shell: expansions
 * stay as written. curlconverter's tokenizer is the real one.
 */
export function roughArgv(command: string): string[] {
  const words = new Words();
  const s = command;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\' && s[i + 1] === '\n') {
      i++;
      continue;
    }
    if (/\s/.test(c)) {
      words.end();
      continue;
    }
    words.start();
    if (c === "'") {
      const end = s.indexOf("'", i + 1);
      words.add(s.slice(i + 1, end < 0 ? undefined : end));
      i = end < 0 ? s.length : end;
    } else if (c === '$' && s[i + 1] === "'") {
      let j = i + 2;
      for (; j < s.length && s[j] !== "'"; j++) {
        if (s[j] === '\\' && j + 1 < s.length) {
          j++;
          words.add(s[j] === 'n' ? '\n' : s[j] === 't' ? '\t' : s[j] === 'r' ? '\r' : s[j]!);
        } else words.add(s[j]!);
      }
      i = j;
    } else if (c === '"') {
      let j = i + 1;
      for (; j < s.length && s[j] !== '"'; j++) {
        if (s[j] === '\\' && /["\\$`]/.test(s[j + 1] ?? '')) j++;
        words.add(s[j]!);
      }
      i = j;
    } else if (c === '\\' && i + 1 < s.length) {
      words.add(s[++i]!);
    } else words.add(c);
  }
  return words.done();
}
