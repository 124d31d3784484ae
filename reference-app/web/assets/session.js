// The signed-in user. The access token lives in memory only; the refresh token and the user
// are kept in localStorage, so a reload (or another tab) stays signed in. Refresh tokens are
// single use: a refresh runs under a Web Lock shared by every tab and always uses the newest
// stored token, so two tabs never present the same one (which would end the session).

import { ROOT } from "./root.js";

const KEY = "shop.session";
const LOCK = "shop.session.refresh";
const listeners = new Set();
let access = null; // { token, expiresAt }
let restoring = null;

function stored() {
  try {
    return JSON.parse(localStorage.getItem(KEY)) || null;
  } catch {
    return null;
  }
}

function store(value) {
  if (value) localStorage.setItem(KEY, JSON.stringify(value));
  else localStorage.removeItem(KEY);
  for (const f of listeners) f(value?.user || null);
}

async function post(path, body) {
  const res = await fetch(ROOT + path, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify(body),
  });
  const data = await res.json().catch(() => null);
  return { ok: res.ok, status: res.status, data };
}

function adopt(sessionView) {
  access = {
    token: sessionView.access_token,
    // Renew a little early, so a request never leaves with a token about to expire.
    expiresAt: Date.now() + Math.max(0, sessionView.expires_in - 30) * 1000,
  };
  store({ refresh_token: sessionView.refresh_token, user: sessionView.user });
}

function withLock(f) {
  return navigator.locks ? navigator.locks.request(LOCK, f) : f();
}

/** Trades the newest stored refresh token for a new session; the new access token, or null. */
export function refreshed() {
  return withLock(async () => {
    const s = stored();
    if (!s?.refresh_token) return null;
    const r = await post("/api/auth/refresh", { refresh_token: s.refresh_token });
    if (r.ok) {
      adopt(r.data);
      return access.token;
    }
    if (r.status === 401) {
      // Used, revoked or expired: this login is over.
      access = null;
      store(null);
    }
    return null;
  });
}

/** The access token to send now (renewed when it is about to expire), or null. */
export async function accessToken() {
  if (access && access.expiresAt > Date.now()) return access.token;
  if (!stored()) return null;
  return refreshed();
}

/** On page load: a stored login gets a fresh access token (or is dropped when it is over). */
export function restore() {
  if (!restoring) restoring = stored() ? refreshed() : Promise.resolve(null);
  return restoring;
}

export function user() {
  return stored()?.user || null;
}

export function isAdmin() {
  return (user()?.roles || []).includes("admin");
}

export function onChange(f) {
  listeners.add(f);
}

/** Signs in; the session, or the refusal (`{ status, data }`). */
export async function signIn(email, password) {
  const r = await post("/api/auth/login", { email, password });
  if (r.ok) adopt(r.data);
  return r;
}

/** Replaces the stored user (after a profile change). */
export function updateUser(u) {
  const s = stored();
  if (s) store({ ...s, user: u });
}

export async function signOut() {
  const s = stored();
  access = null;
  store(null);
  if (s?.refresh_token) await post("/api/auth/logout", { refresh_token: s.refresh_token }).catch(() => {});
}

// Another tab signed in or out.
window.addEventListener("storage", (e) => {
  if (e.key !== KEY) return;
  if (!e.newValue) access = null;
  for (const f of listeners) f(stored()?.user || null);
});
