// The signed-in staff member: a bearer token pasted once and kept in sessionStorage (this
// tab only, gone when it closes). The claims are read to choose the screens and to know
// when the token expires; the server checks the token itself on every call.

const KEY = "pointsmall.console.token";
const listeners = new Set();
let expiryTimer = null;

/** The claims of a JWT (not verified: the server does that), or null if it is not one. */
export function claimsOf(token) {
  const parts = token.split(".");
  if (parts.length !== 3) return null;
  try {
    const json = atob(parts[1].replace(/-/g, "+").replace(/_/g, "/"));
    const bytes = Uint8Array.from(json, (c) => c.charCodeAt(0));
    const claims = JSON.parse(new TextDecoder().decode(bytes));
    return typeof claims === "object" && claims !== null ? claims : null;
  } catch {
    return null;
  }
}

export function isExpired(claims, now = Date.now()) {
  return typeof claims.exp === "number" && claims.exp * 1000 <= now;
}

export function token() {
  return sessionStorage.getItem(KEY);
}

export function claims() {
  const value = token();
  return value ? claimsOf(value) : null;
}

/** Keep the token for this tab; `reason` of the sign-out when it expires. */
export function signIn(value) {
  sessionStorage.setItem(KEY, value);
  watchExpiry();
}

/** Forget the token and tell the app why ("expired", "invalid", "role", "signedOut"). */
export function signOut(reason, detail = {}) {
  sessionStorage.removeItem(KEY);
  clearTimeout(expiryTimer);
  for (const listener of listeners) listener(reason, detail);
}

export function onSignOut(listener) {
  listeners.add(listener);
}

export function watchExpiry() {
  clearTimeout(expiryTimer);
  const current = claims();
  if (!current || typeof current.exp !== "number") return;
  // Timers longer than 2^31 ms fire at once: check again in a day at most.
  const wait = Math.min(current.exp * 1000 - Date.now(), 86_400_000);
  expiryTimer = setTimeout(() => {
    if (isExpired(claims() ?? {})) signOut("expired");
    else watchExpiry();
  }, Math.max(wait, 0));
}
