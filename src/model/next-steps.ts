// For each cause, the one step that confirms it or rules it out when the
// evidence cannot: a probe `why403 check` runs, a command, a log line. The
// engine names one or two of them when a diagnosis is thin (Report.thin), and
// offers a cause's step as its "What now" when no rule gave that cause a fix.
// `{{url}}` and `{{method}}` are filled from the request.
import type { Fix } from './report.ts';
import type { CauseId } from './vocabulary.ts';

const decode: Fix = {
  title: 'Decode the credential and compare its issuer, audience and times with the server’s',
  difficulty: 'easy',
  commands: ['why403 token "$TOKEN"'],
  verify: 'The token’s issuer and audience are the service’s, and its window holds the server’s Date.',
};

const fresh: Fix = {
  title: 'Retry with a freshly issued credential: if it is accepted, the old one was the problem',
  difficulty: 'easy',
  commands: [
    "why403 check '{{url}}' -X {{method}} -H \"Authorization: Bearer $TOKEN\" --token-cmd 'COMMAND THAT PRINTS A NEW TOKEN'",
  ],
  verify: 'The fresh credential is accepted where the old one was refused.',
};

const compare: Fix = {
  title: 'Compare with an identity that is allowed: if it succeeds, the refusal follows the identity',
  difficulty: 'easy',
  commands: ['why403 check \'{{url}}\' -X {{method}} -H "Authorization: $TOKEN" --as "Authorization: $ALLOWED_TOKEN"'],
  verify: 'The allowed identity gets through where this one is refused.',
};

const console_: Fix = {
  title: 'Look at the account, project or resource in the service’s console or admin page',
  difficulty: 'medium',
  verify: 'The console shows the state (suspended, locked, not enabled) the response hinted at, or rules it out.',
};

const network: Fix = {
  title:
    'Send the same request from another network, or without the proxy: if it passes, the address or the path was refused',
  difficulty: 'easy',
  commands: ["why403 check '{{url}}' -X {{method}}     # with HTTPS_PROXY set, its proxy probe sends it direct too"],
  verify: 'From elsewhere the answer differs.',
};

const serverLog: Fix = {
  title: 'Read the server’s error log for this request: web servers write the reason there',
  difficulty: 'medium',
  commands: ["sudo grep -F '{{path}}' /var/log/nginx/error.log /var/log/apache2/error.log 2>/dev/null | tail -n 5"],
  verify: 'The log line names the rule, the file permission or the missing index.',
};

const unsafeProbes: Fix = {
  title: 'Let check compare methods and CSRF tokens',
  difficulty: 'easy',
  commands: ["why403 check --allow-unsafe '{{url}}' -X {{method}}     # the method and csrf probes"],
  verify: 'The method probe or the csrf probe confirms one of them.',
};

export const NEXT_STEP: Readonly<Record<Exclude<CauseId, 'unknown'>, Fix>> = {
  'credential-missing': {
    title: 'Check that the request really carries its credential',
    difficulty: 'easy',
    commands: ["curl -sv '{{url}}' -H \"Authorization: Bearer $TOKEN\" -o /dev/null 2>&1 | grep -i '^> authorization'"],
    verify: 'curl shows the header it sends; if it is there, the server reads the credential from somewhere else.',
  },
  'credential-malformed': decode,
  'credential-expired': fresh,
  'credential-not-yet-valid': decode,
  'clock-skew': decode,
  'credential-invalid': fresh,
  'wrong-audience': decode,
  'insufficient-scope': compare,
  'insufficient-role': compare,
  'explicit-deny': compare,
  'resource-policy': compare,
  'not-owner': compare,
  'field-restricted': compare,
  'account-state': console_,
  'resource-state': console_,
  'feature-disabled': console_,
  'ip-restricted': network,
  'waf-block': network,
  'rate-limited': {
    title: 'Read the rate-limit headers and retry once after the time they give',
    difficulty: 'easy',
    commands: ["curl -sI '{{url}}' | grep -i -E '^(retry-after|x-rate-?limit|ratelimit)'"],
    verify: 'After the reset the same request passes.',
  },
  csrf: unsafeProbes,
  cors: {
    title: 'Send the preflight a browser sends and read what it allows',
    difficulty: 'easy',
    commands: ["why403 check '{{url}}' --origin https://your-app.example"],
    verify: 'The preflight’s Access-Control-Allow-Origin names your origin, or does not.',
  },
  'filesystem-permission': serverLog,
  'directory-listing': serverLog,
  'method-not-allowed': unsafeProbes,
  'path-forbidden': serverLog,
  'wrong-endpoint': {
    title: 'Check the method and path against the API’s reference, and ask the server which methods it allows',
    difficulty: 'easy',
    commands: ["curl -si -X OPTIONS '{{url}}' | grep -i '^allow'"],
    verify: 'The request matches a documented operation.',
  },
  'conditional-access': console_,
  'proxy-interference': network,
};

/** When nothing points anywhere: let check's probes look, and read the server's log. */
export const NOTHING_KNOWN_STEPS: readonly Fix[] = [
  {
    title: 'Run check against the live endpoint: its probes vary only what you sent and read what changes',
    difficulty: 'easy',
    commands: ["why403 check '{{url}}' -X {{method}}"],
    verify: 'The probes confirm a cause or rule causes out.',
  },
  serverLog,
];
