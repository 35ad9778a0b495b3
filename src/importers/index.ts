// The importers' public API: every input format into the exchange model.
// Each format has an importer that returns the one shape (imported.ts):
// { exchanges, requests, summary }. The from* functions are the single-item
// conveniences over them (one exchange, or one request for curl).
export { type Imported, type ImportSummary, summarize } from './imported.ts';
export { importRaw, fromRaw, parseRaw, type RawParse } from './raw.ts';
export { importCurl, fromCurl, curlRequests } from './curl.ts';
export { importCurlCmd, fromCurlCmd, curlCmdRequests, tokenizeCmd, isPowerShell } from './curl-cmd.ts';
export { importJson, fromJson, fromJsonAll, parseJson, type JsonParse } from './json.ts';
export { exchangeOf, readRecord, type RecordOptions, type RecordParts } from './record.ts';
export {
  detectFormat,
  importText,
  importFile,
  type InputFormat,
  type Import,
  type TextImport,
  type HarImport,
  type ImportOptions,
} from './detect.ts';
export { readHar, type HarReading, type HarSummary } from './har.ts';
