// What every integration (why403/express, why403/fastify, why403/web)
// exports besides its own `why403`: the denial and its response, the event
// and its sinks, the guards.
export { explainDenial, PROBLEM_JSON, type Denial, type Disclosure, type ProblemDocument } from './denial.ts';
export { jsonLinesSink, pinoSink, type DenialEvent, type DenialSink } from './events.ts';
export {
  allowClients,
  callerFromClaims,
  requireOwner,
  requireRole,
  requireScope,
  type Caller,
  type Guard,
} from './guards.ts';
