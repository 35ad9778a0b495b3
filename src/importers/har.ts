// HAR files are read as a byte stream, never parsed whole: a browser export
// of a long session runs to hundreds of megabytes, almost all of it response
// bodies of entries that were not denied. The reader's parts, in har/:
//
//   scan.ts       the byte scanner: walks the JSON between strings, reads each
//                 entry's status, keeps the bytes of denied entries only
//   sanitized.ts  whether the export was stripped of credentials, and the notes
//   entry.ts      a denied entry's bytes → Exchange (through ../record.ts)
//   segments.ts   where a large file is cut, and the scan shared with a worker
//   worker.ts     the worker thread and its handle on this thread
//   reader.ts     readHar: the exchanges one at a time, then the summary
//   types.ts      the public types
//
// docs/performance.md has the measurements behind the choices.
export { readHar } from './har/reader.ts';
export type { HarInput, HarReading, HarSummary, ReadHarOptions } from './har/types.ts';
export { HarScanner, type Batch, type CredentialSigns, type DenialBytes, type ScanResult } from './har/scan.ts';
export { isRedactionPlaceholder, REDACTED_NOTE, SANITIZED_NOTE } from './har/sanitized.ts';
export { findSeams, scanFile } from './har/segments.ts';
