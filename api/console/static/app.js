// The console's shell: the language, the sign-in screen, and the workspace the signed-in
// staff member's role opens (modules.js). A screen is always shown: loading, sign-in with
// the reason (expired, invalid, wrong role), or a workspace; never a blank page.

import { apply, onLanguageChange, switchLanguage, t } from "./i18n.js";
import { modulesFor } from "./modules.js";
import { claims, claimsOf, isExpired, onSignOut, signIn, signOut, watchExpiry } from "./session.js";

const screens = ["screen-loading", "screen-signin", "screen-work"];
let unmount = null;
let active = null;
let signInDetail = {};

function show(id) {
  for (const screen of screens) document.getElementById(screen).hidden = screen !== id;
}

function showSignIn(reason, detail = {}) {
  stopWork();
  const message = document.getElementById("signin-reason");
  message.hidden = !reason;
  message.dataset.reason = reason ?? "";
  signInDetail = detail;
  message.textContent = reason ? t(`signin.${reason}`, detail) : "";
  document.getElementById("sign-out").hidden = true;
  document.getElementById("who").hidden = true;
  document.getElementById("modules").hidden = true;
  show("screen-signin");
  document.getElementById("token").focus();
}

function stopWork() {
  if (unmount) unmount();
  unmount = null;
  document.getElementById("screen-work").replaceChildren();
}

/** Open the workspace for the tab's token, or say on the sign-in screen why not. */
function start() {
  const current = claims();
  if (!current) return showSignIn(null);
  if (isExpired(current)) return signOut("expired");
  const modules = modulesFor(current.role);
  if (!modules.length) return signOut("role", { role: String(current.role ?? "?") });
  watchExpiry();
  showWho(current, modules);
  open(modules.find((module) => module.id === active) ?? modules[0], current);
}

function showWho(current, modules) {
  const who = document.getElementById("who");
  who.textContent = t("who", { role: t(`role.${current.role}`), subject: current.sub ?? "" });
  who.hidden = false;
  document.getElementById("sign-out").hidden = false;
  const nav = document.getElementById("modules");
  nav.setAttribute("aria-label", t("modules.label"));
  nav.replaceChildren(
    ...modules.map((module) => {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = t(module.title);
      button.dataset.module = module.id;
      button.setAttribute("aria-pressed", String(module.id === active));
      button.addEventListener("click", () => open(module, claims()));
      return button;
    }),
  );
  nav.hidden = modules.length < 2;
}

function open(module, current) {
  stopWork();
  active = module.id;
  for (const button of document.querySelectorAll("#modules button")) {
    button.setAttribute("aria-pressed", String(button.dataset.module === active));
  }
  show("screen-work");
  const element = document.getElementById("screen-work");
  unmount = module.mount(element, { claims: current });
}

function submitToken(event) {
  event.preventDefault();
  const field = document.getElementById("token");
  const value = field.value.trim().replace(/^Bearer\s+/i, "");
  const found = claimsOf(value);
  if (!found) return showSignIn("invalid");
  field.value = "";
  signIn(value);
  start();
}

function boot() {
  apply();
  document.getElementById("lang").addEventListener("click", () => switchLanguage());
  document.getElementById("sign-out").addEventListener("click", () => signOut("signedOut"));
  document.getElementById("signin-form").addEventListener("submit", submitToken);
  onSignOut((reason, detail) => showSignIn(reason, detail));
  // Each workspace re-renders its own words; the shell renders its own.
  onLanguageChange(() => {
    const reason = document.getElementById("signin-reason");
    if (reason.dataset.reason) reason.textContent = t(`signin.${reason.dataset.reason}`, signInDetail);
    const current = claims();
    if (current && !document.getElementById("screen-work").hidden) {
      showWho(current, modulesFor(current.role));
    }
  });
  start();
}

boot();
