// A streaming endpoint (server-sent events), declared like a route so that the
// server authenticates it, checks its scope and path the same way, and
// documents it (as text/event-stream); but it writes its own response, which
// stays open, instead of returning a JSON answer.
import type { Static, TObject, TSchema } from '@sinclair/typebox';
import type { Request, Response } from 'express';
import { compileValidator } from '../validation.ts';
import { allows, forbidden, type Identity } from './auth.ts';
import { badRequest } from './errors.ts';
import type { Scope } from './route.ts';

export interface StreamInput<P extends TObject> {
  params: Static<P>;
  /**
   * The Last-Event-ID a reconnecting client sent, when it is a whole number
   * (the ids sent are aggregate versions); anything else counts as none.
   */
  lastEventId: number | undefined;
  identity: Identity;
  correlationId: string;
  req: Request;
  res: Response;
}

export interface StreamDefinition<P extends TObject> {
  /** Express path, e.g. /api/v1/orders/:id/events */
  path: string;
  summary: string;
  tags?: string[];
  params: P;
  /** The scope a caller's token must hold (that of the resource's GET). */
  scope: Scope;
  /** The events the stream sends, by SSE event name: their data's schema, for the OpenAPI description. */
  events: Record<string, TSchema>;
  /** Answers other than 200 (the stream), for the OpenAPI description. */
  responses: Record<number, string>;
  /** Starts the stream on `res`, or throws an HttpError before writing anything. */
  open(input: StreamInput<P>): void;
}

/** A stream as the server mounts it (GET only). */
export interface StreamRoute {
  path: string;
  summary: string;
  tags?: string[];
  params: TObject;
  scope: Scope;
  events: Record<string, TSchema>;
  responses: Record<number, string>;
  open(req: Request, res: Response, correlationId: string, identity: Identity): void;
}

const WHOLE = /^[0-9]{1,15}$/;

export function streamRoute<P extends TObject>(definition: StreamDefinition<P>): StreamRoute {
  const { open, ...described } = definition;
  const params = compileValidator(definition.params, 'path');
  return {
    ...described,
    open(req, res, correlationId, identity) {
      // Checked before the input, so a caller without the scope learns nothing from validation.
      if (!allows(identity, definition.scope)) throw forbidden(identity, definition.scope);
      const checked = params({ ...req.params });
      if (!checked.ok) throw badRequest(checked.errors.join('; '), { problems: checked.errors });
      const given = req.headers['last-event-id'];
      const lastEventId = typeof given === 'string' && WHOLE.test(given.trim()) ? Number(given.trim()) : undefined;
      open({ params: checked.value, lastEventId, identity, correlationId, req, res });
    },
  };
}
