// The OpenAPI 3.1 description of a service, built from its route declarations,
// so what is documented is exactly what is validated.
import type { TSchema } from '@sinclair/typebox';
import { bodyRequired, routeScopes, type Route } from './route.ts';
import type { StreamRoute } from './stream-route.ts';

const ERROR_BODY = {
  type: 'object',
  required: ['error', 'message'],
  properties: { error: { type: 'string' }, message: { type: 'string' } },
};

function strip(schema: TSchema): Record<string, unknown> {
  // TypeBox marks schemas with symbols; JSON.stringify drops them.
  return JSON.parse(JSON.stringify(schema)) as Record<string, unknown>;
}

function parameters(schema: TSchema | undefined, where: 'path' | 'query' | 'header') {
  const s = schema ? strip(schema) : undefined;
  const props = (s?.properties ?? {}) as Record<string, Record<string, unknown>>;
  const required = new Set((s?.required as string[] | undefined) ?? []);
  return Object.entries(props).map(([name, prop]) => ({
    name,
    in: where,
    required: where === 'path' || required.has(name),
    schema: prop,
    ...(prop.description ? { description: prop.description } : {}),
  }));
}

/** Answers every route of its kind may give, whatever its own declaration says. */
function commonResponses(r: Route): Record<number, string> {
  const common: Record<number, string> = {};
  if (r.params || r.query || r.body || r.headers) common[400] = 'invalid input: the body names each problem';
  if (r.body) common[413] = 'the body is too large';
  common[401] = 'no bearer token, or one that is invalid or expired';
  common[403] = 'the token lacks the scope this needs';
  if (r.method !== 'get') common[429] = 'too many writes by this identity; retry after Retry-After seconds';
  if (r.method !== 'get') common[503] = 'the event log cannot be reached, or too much work is in progress: retry after the Retry-After seconds';
  return common;
}

const openApiPath = (path: string) => path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
const operationId = (method: string, path: string) => `${method}${path.replace(/[{}]/g, '').replace(/[^A-Za-z0-9]+(.)/g, (_, c: string) => c.toUpperCase())}`;
const errorResponse = (description: string) => ({ description, content: { 'application/json': { schema: ERROR_BODY } } });

/** A server-sent event stream: 200 is text/event-stream, whose events' data is JSON (described in x-events). */
function streamOperation(s: StreamRoute) {
  const events = Object.keys(s.events).join(', ');
  return {
    summary: s.summary,
    operationId: operationId('get', openApiPath(s.path)),
    ...(s.tags ? { tags: s.tags } : {}),
    security: [{ bearerAuth: [s.scope] }],
    parameters: [
      ...parameters(s.params, 'path'),
      {
        name: 'Last-Event-ID',
        in: 'header',
        required: false,
        schema: { type: 'string', pattern: '^[0-9]{1,15}$' },
        description: 'the id of the last event received (EventSource sends it when it reconnects): only newer events are sent',
      },
    ],
    responses: {
      200: {
        description: `a text/event-stream of events (${events}), each with an id (the aggregate's version) and JSON data; a ': keep-alive' comment every 15s`,
        content: { 'text/event-stream': { schema: { type: 'string' } } },
      },
      ...Object.fromEntries(
        Object.entries({
          400: 'an invalid path parameter',
          401: 'no bearer token, or one that is invalid or expired',
          403: 'the token lacks the scope this needs',
          503: 'TOO_MANY_STREAMS: this instance holds as many streams as it may; retry after Retry-After seconds',
          ...s.responses,
        }).map(([status, description]) => [status, Number(status) < 400 ? { description } : errorResponse(description)]),
      ),
    },
    'x-events': Object.fromEntries(Object.entries(s.events).map(([name, schema]) => [name, strip(schema)])),
  };
}

export function openApiDocument(service: string, version: string, routes: Route[], streams: StreamRoute[] = []): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const path = openApiPath(r.path);
    paths[path] ??= {};
    paths[path][r.method] = {
      summary: r.summary,
      operationId: operationId(r.method, path),
      ...(r.tags ? { tags: r.tags } : {}),
      // Bearer tokens carry scopes; OpenAPI 3.1 lets a non-OAuth scheme list them as roles.
      security: routeScopes(r).map((scope) => ({ bearerAuth: [scope] })),
      parameters: [...parameters(r.params, 'path'), ...parameters(r.query, 'query'), ...parameters(r.headers, 'header')],
      ...(r.body ? { requestBody: { required: bodyRequired(r), content: { 'application/json': { schema: strip(r.body) } } } } : {}),
      responses: Object.fromEntries(
        Object.entries({ ...commonResponses(r), ...r.responses }).map(([status, description]) => [
          status,
          { description, content: { 'application/json': { schema: Number(status) >= 400 ? ERROR_BODY : {} } } },
        ]),
      ),
    };
  }
  for (const s of streams) (paths[openApiPath(s.path)] ??= {}).get = streamOperation(s);
  return {
    openapi: '3.1.0',
    info: { title: `${service} service`, version },
    components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: "a JWT whose 'scope' claim holds the scopes each operation lists" } } },
    paths,
  };
}
