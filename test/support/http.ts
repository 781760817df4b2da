// Small HTTP helpers for tests against a running service.
import { adminToken } from './auth.ts';

export { freePort } from '../../scripts/free-port.ts';

export interface JsonResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/** A JSON call, as an administrator unless headers name another authorization ('' for none). */
export async function call<T = any>(base: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<JsonResponse<T>> {
  const { authorization = `Bearer ${adminToken}`, ...rest } = headers;
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { ...(authorization ? { authorization } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...rest },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, body: parsed as T, headers: res.headers };
}
