// The API client: every call goes to this origin, under the root path the app is served at.
// Refusals come back as `Problem`s (the API's problem documents, or a network failure).

import { ROOT } from "./root.js";
import * as session from "./session.js";

export { ROOT };

/** An API refusal: status, stable code, human detail, and per-field errors. */
export class Problem extends Error {
  constructor(status, body) {
    super(body?.detail || body?.title || `request failed (${status})`);
    this.status = status;
    this.code = body?.code || (status === 0 ? "network" : "unknown");
    this.errors = Array.isArray(body?.errors) ? body.errors : [];
  }
}

async function send(method, path, { body, token, headers = {} } = {}) {
  const init = { method, headers: { Accept: "application/json", ...headers } };
  if (token) init.headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(ROOT + path, init);
  } catch {
    throw new Problem(0, { detail: "The shop cannot be reached. Check your connection and try again." });
  }
  const type = res.headers.get("content-type") || "";
  const data = type.includes("json") ? await res.json().catch(() => null) : null;
  if (!res.ok) throw new Problem(res.status, data);
  return data;
}

/**
 * Calls the API. `auth`: send the signed-in user's access token (refreshing it once when it
 * has expired). `idempotencyKey`: sent as `Idempotency-Key`.
 */
export async function api(method, path, { body, auth = false, idempotencyKey } = {}) {
  const headers = idempotencyKey ? { "Idempotency-Key": idempotencyKey } : {};
  if (!auth) return send(method, path, { body, headers });
  let token = await session.accessToken();
  try {
    return await send(method, path, { body, headers, token });
  } catch (e) {
    if (!(e instanceof Problem) || e.status !== 401 || !token) throw e;
    token = await session.refreshed();
    if (!token) throw e;
    return send(method, path, { body, headers, token });
  }
}

/** A query string from the entries of `params` that have a value. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== "") q.set(k, v);
  }
  const s = q.toString();
  return s ? `?${s}` : "";
}
