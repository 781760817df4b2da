// One way to turn a command's outcome into an HTTP answer, for every write
// endpoint: pending -> 202 with where to poll; rejected -> the status its code
// maps to; decided (accepted, or unchanged) -> what the route answers with,
// usually the resource as it now stands.
//
// Each service maps its deciders' closed set of rejection codes to statuses
// with `satisfies RejectionStatuses<Code>`, so the compiler refuses a map that
// misses a code. A code outside the map can only come from another version of
// the code (the log is shared): that is a server error, not a guess.
import type { CommandOutcome, DecidedOutcome } from './command-request.ts';
import { HttpError } from './errors.ts';
import type { RouteResponse } from './route.ts';

/** What a refused command may answer: the request is bad, names what is not there, or conflicts with the state. */
export type RejectionStatus = 400 | 404 | 409 | 422;
export type RejectionStatuses<Code extends string> = Readonly<Record<Code, RejectionStatus>>;

export interface CommandAnswer<Code extends string> {
  rejections: RejectionStatuses<Code>;
  /** Where the caller finds the resource (and polls while the outcome is pending). */
  location: string;
  /** Identifying fields a pending answer carries beside its status and command id. */
  pending?: Record<string, unknown>;
  decided(outcome: DecidedOutcome): RouteResponse;
  /** Words a refusal's message in the request's terms (the decider speaks the command's). */
  rejectionMessage?(message: string): string;
}

export class UnknownRejectionCode extends Error {}

export function rejectionError<Code extends string>(code: string, message: string, rejections: RejectionStatuses<Code>, details: Record<string, unknown> = {}): HttpError {
  if (!Object.hasOwn(rejections, code)) throw new UnknownRejectionCode(`rejection code ${code} has no HTTP status: ${message}`);
  return new HttpError(rejections[code as Code], code, message, details);
}

/** 202: the command is on the log, its outcome not yet applied; poll the location. */
export function pendingAnswer(commandId: string, location: string, fields: Record<string, unknown> = {}): RouteResponse {
  return { status: 202, headers: { location }, body: { ...fields, status: 'PENDING', commandId, poll: location } };
}

export function answerCommand<Code extends string>(outcome: CommandOutcome, answer: CommandAnswer<Code>): RouteResponse {
  switch (outcome.status) {
    case 'pending':
      return pendingAnswer(outcome.commandId, answer.location, answer.pending);
    case 'rejected':
      throw rejectionError(outcome.code, answer.rejectionMessage?.(outcome.message) ?? outcome.message, answer.rejections);
    case 'accepted':
    case 'unchanged':
      return answer.decided(outcome);
  }
}
