// Squid's native access.log (`logformat squid`, the default):
//   time elapsed client code/status bytes method URL user hierarchy/peer type
//   1796482606.851      1 127.0.0.1 TCP_DENIED/403 3495 GET http://127.0.0.1:9/blocked/a.txt? - HIER_NONE/- text/html
// The time is Unix seconds with milliseconds; the user is the name a client
// signed in to the proxy with (Proxy-Authorization), URL-encoded, or "-".
// TCP_DENIED is Squid's own refusal by its access controls (http_access):
// with 403 the policy refused the request, with 407 it asks for a proxy
// credential (none was sent, or the one sent was refused when a user shows).
// https://wiki.squid-cache.org/Features/LogFormat
// https://wiki.squid-cache.org/SquidFaq/SquidLogs
// https://www.squid-cache.org/Doc/config/logformat/
import type { LogFormat, LogReason } from '../../model/logs.ts';
import type { Fix } from '../../model/report.ts';

const LINE =
  /^(\d{1,12})\.(\d{3}) {1,12}-?\d{1,12} (\S{1,256}) ([A-Z_]{1,64})\/(\d{3}) \d{1,20} (\S{1,64}) (\S{1,8192}) (\S{1,1024}) [A-Z_]{1,64}\/\S{1,256} \S{1,256}/;

const policy: Fix = {
  title: 'Find the http_access deny rule (and its acl) the request matched in squid.conf',
  difficulty: 'easy',
  commands: ["grep -nE '^\\s*(acl|http_access)' /etc/squid/squid.conf /etc/squid/conf.d/*.conf"],
  verify: 'No http_access deny before an allow matches the destination, the client address or the user.',
};
const signIn: Fix = {
  title: 'Send the proxy credential Squid asks for (Proxy-Authorization), and check it against its auth_param helper',
  difficulty: 'easy',
  commands: ["grep -nE '^\\s*(auth_param|acl .*proxy_auth)' /etc/squid/squid.conf", "curl -x PROXY -U USER -sI 'URL'"],
  verify: 'The request through the proxy with the credential is answered without the 407.',
};

const DENIED_403: LogReason = {
  causes: ['proxy-interference'],
  product: 'squid',
  code: 'TCP_DENIED/403',
  words: 'TCP_DENIED/403: the proxy’s access controls refused the request',
  fix: policy,
};
const DENIED_407_NONE: LogReason = {
  causes: ['credential-missing'],
  product: 'squid',
  code: 'TCP_DENIED/407',
  words: 'TCP_DENIED/407: proxy authentication required, no user signed in',
  fix: signIn,
};
const DENIED_407_USER: LogReason = {
  causes: ['credential-invalid'],
  product: 'squid',
  code: 'TCP_DENIED/407 user',
  words: 'TCP_DENIED/407 with a user: the proxy refused the credential sent',
  fix: {
    ...signIn,
    commands: [...signIn.commands!, 'printf "{{user}} PASSWORD\\n" | /usr/lib/squid/basic_ncsa_auth FILE'],
  },
};

/** The path of an absolute URL, without its query; undefined for a CONNECT's host:port and Squid's `error:…` placeholders. */
function pathOf(url: string): string | undefined {
  const m = /^[a-z][a-z\d+.-]{0,31}:\/\/[^/?#\s]{0,1024}([^?#\s]{0,8192})/i.exec(url);
  if (!m) return undefined;
  return m[1] || '/';
}

function decodeUser(user: string): string {
  try {
    return decodeURIComponent(user);
  } catch {
    return user;
  }
}

export default {
  id: 'squid-access',
  product: 'Squid',
  kind: 'access',
  description: 'Squid native access.log',
  docs: [
    'https://wiki.squid-cache.org/Features/LogFormat',
    'https://wiki.squid-cache.org/SquidFaq/SquidLogs',
    'https://www.squid-cache.org/Doc/config/logformat/',
  ],
  parse(line) {
    const m = LINE.exec(line);
    if (!m) return undefined;
    const [, seconds, millis, client, tag, status, method, url, user] = m;
    const code = Number(status);
    const path = pathOf(url);
    const principal = user !== '-' ? decodeUser(user) : undefined;
    const denied = tag === 'TCP_DENIED' || tag === 'TCP_DENIED_REPLY';
    const reason =
      denied && code === 403
        ? DENIED_403
        : denied && code === 407
          ? principal
            ? DENIED_407_USER
            : DENIED_407_NONE
          : undefined;
    return {
      kind: 'access',
      time: new Date(Number(seconds) * 1000 + Number(millis)),
      client,
      ...(principal ? { principal } : {}),
      ...(method !== '-' ? { method } : {}),
      ...(path ? { path } : {}),
      status: code,
      ...(reason ? { reason } : {}),
    };
  },
} satisfies LogFormat;
