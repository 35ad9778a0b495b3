// The library API. The CLI is a thin layer over these functions.
//
//   import { diagnose, fromRaw, renderTerminal } from 'why403';
//   const report = await diagnose(fromRaw(text));

// Diagnosis
export { diagnoseWith } from './engine/diagnose.ts';
export { diagnose, type DiagnoseOptions } from './diagnose.ts';
export { loadRules } from './rules/registry.ts';
export { defineProducer, defineCause, signals, ev } from './rules/define.ts';
export type { Rule, RuleMeta, RuleOutput, CauseClaim, ProducerClaim, Context } from './model/rule.ts';

// Inputs → exchanges. Every importer returns { exchanges, requests, summary }
// (fromHar streams them); fromRaw, fromJson, fromCurl and fromCurlCmd are the
// single-item conveniences.
export { readHar as fromHar, type HarSummary, type HarReading } from './importers/har.ts';
export { importRaw, fromRaw } from './importers/raw.ts';
export { importCurl, fromCurl } from './importers/curl.ts';
export { importCurlCmd, fromCurlCmd } from './importers/curl-cmd.ts';
export { importJson, fromJson } from './importers/json.ts';
export { importFile, importText, detectFormat, type Import, type InputFormat } from './importers/detect.ts';
export type { Imported, ImportSummary } from './importers/imported.ts';

// Live requests and applications
export { checkRequest, type CheckOptions } from './check.ts';
export { sendRequest, type SendOptions } from './live/send.ts';
export { diagnoseResponse, exchangeFromFetch, type RequestLike, type FetchDiagnoseOptions } from './adapters/fetch.ts';

// Scans (`why403 scan`): a state file, a run over it, what it found
export { Scan, ListDeniedError, type ScanProgress, type ScanRunResult, type ScanRunOptions } from './scan/run.ts';
export { describeStop, type ScanStop } from './scan/stop.ts';
export { ScanState } from './scan/state.ts';
export {
  storeConfig,
  restoreConfig,
  type ScanSettings,
  type ScanConfig,
  type Source as ScanSource,
} from './scan/config.ts';
export { summarize as summarizeScan, writeForbidden, SCAN_SCHEMA, type ScanSummary } from './scan/summary.ts';
export { diffScans, SCAN_DIFF_SCHEMA, type ScanDiff } from './scan/diff.ts';

// Credentials
export { inspectExchangeCredentials, inspectToken, type InspectOptions } from './inspect.ts';
export { observeExchangeCredentials, observeToken } from './credentials/index.ts';
export { judgeCredential } from './engine/credential.ts';

// Output
export { renderTerminal, type TerminalOptions } from './render/terminal.ts';
export { renderMarkdown } from './render/markdown.ts';
export { renderJson, renderJsonLine } from './render/json.ts';
export { exitCodeFor } from './render/exit-code.ts';

// Errors and types
export { Why403Error, UsageError, InputError, NetworkError } from './errors.ts';
export type * from './model/exchange.ts';
export type * from './model/report.ts';
export type * from './model/credential.ts';
export type * from './model/vocabulary.ts';
export { CAUSE_IDS, LAYERS, PRODUCTS } from './model/vocabulary.ts';
export { REPORT_SCHEMA } from './model/report.ts';
