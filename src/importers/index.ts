// The importers' public API: every input format into the exchange model.
export { fromRaw, parseRaw, type RawParse } from './raw.ts';
export { fromCurl, curlRequests } from './curl.ts';
export { fromCurlCmd, curlCmdRequests, tokenizeCmd, isPowerShell } from './curl-cmd.ts';
export { fromJson, fromJsonAll, parseJson, type JsonParse } from './json.ts';
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
export { readHar } from './har.ts';
