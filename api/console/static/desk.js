// The service desk: the ticket queue by deadline, a ticket with the member's points, the
// order's timeline and the conversation; a public reply or an internal note, a logged call,
// the domain's resolutions and resolving; live alerts. Loaded only when an agent (or an
// admin) opens it: a warehouse tab never fetches these files.

import { ApiError, call } from "./graphql.js";
import { addWords, onLanguageChange, t } from "./i18n.js";
import { signOut } from "./session.js";
import { LiveSocket } from "./socket.js";
import { DESK_WORDS } from "./desk-words.js";
import {
  buildDesk,
  renderAlerts,
  renderReplyMode,
  renderTicket,
  renderTickets,
  translateDesk,
} from "./desk-view.js";

addWords(DESK_WORDS);

const PAGE = 100;
const ALERTS_KEPT = 20;
const QUEUE_EVERY = 60_000; // tickets arrive without a live signal of their own: read again
const TICK = 30_000; // the hours left move on between reads

/** A fresh idempotency key (crypto.getRandomValues works on plain http intranets too). */
function newKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `desk-${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

const RESOLUTIONS = {
  REFUND_POINTS: ["DeskRefund", "refundOrderPoints", () => ({})],
  REPLACEMENT: ["DeskReplacement", "sendReplacement", () => ({})],
  GOODWILL: [
    "DeskGoodwill",
    "creditGoodwill",
    (parts) => ({
      points: Number(parts["goodwill-points"].value),
      reason: parts["goodwill-reason"].value.trim(),
      requestApproval: parts["goodwill-approval"].checked || null,
    }),
  ],
  RETURN: [
    "DeskReturn",
    "startReturn",
    (parts) => ({ carrier: parts["return-carrier"].value, trackingNumber: parts["return-tracking"].value.trim() }),
  ],
};

export function mountDesk(root, { claims }) {
  const parts = buildDesk(root);
  const state = { tickets: [], total: 0, ticket: null, alerts: [] };
  const said = { problem: null, done: null };
  const stops = [];
  let socket = null;
  let busy = false;
  let click = null; // the resolution being sent: its inputs and key, kept for a retry

  function render() {
    renderTickets(parts, {
      tickets: state.tickets,
      total: state.total,
      current: state.ticket?.number,
      open: (number) => openTicket(number).catch(failed),
    });
    renderTicket(parts, state.ticket);
    renderAlerts(parts, state.alerts);
  }

  // What an action came to is said right under its form, where the agent's eye is; what
  // the desk itself met (reading the queue, opening a ticket) at the top.
  const top = parts["desk-problem"].parentElement;
  const topAnchor = parts["desk-done"].nextElementSibling;

  function sayAt(form) {
    const slots = [parts["desk-problem"], parts["desk-done"]];
    if (form) form.after(...slots);
    else for (const node of slots) top.insertBefore(node, topAnchor);
  }

  function problem(key, values = {}) {
    said.problem = [key, values];
    said.done = null;
    parts["desk-done"].textContent = "";
    parts["desk-problem"].textContent = `${t("desk.problem")}: ${t(key, values)}`;
    parts["desk-problem"].dataset.key = key;
    parts["desk-problem"].hidden = false;
  }

  function done(key, values = {}) {
    said.done = [key, values];
    parts["desk-done"].textContent = t(key, values);
    parts["desk-done"].dataset.key = key;
  }

  function clearSaid() {
    said.problem = null;
    said.done = null;
    parts["desk-problem"].hidden = true;
    parts["desk-problem"].dataset.key = "";
    parts["desk-done"].textContent = "";
    parts["desk-done"].dataset.key = "";
  }

  function failed(error) {
    if (!(error instanceof ApiError)) throw error;
    if (error.code === "UNAUTHENTICATED") return; // signed out already
    if (error.code === "network") return problem("error.network");
    if (error.code === "RATE_LIMITED") return problem("error.RATE_LIMITED");
    problem("error.unknown", { code: error.code, message: error.message });
  }

  /** A mutation's payload: its first error shown (true), or nothing wrong (false). */
  function refused(payload, number) {
    const error = payload.errors[0];
    if (!error) return false;
    const known = `error.${error.code}`;
    const key = t(known) === known ? "error.unknown" : known;
    problem(key, { number, code: error.code, message: error.message ?? error.field ?? "" });
    return true;
  }

  async function loadQueue() {
    const data = await call("DeskQueue", { first: PAGE });
    state.tickets = data.ticketQueue.edges.map(({ node }) => node);
    state.total = data.ticketQueue.totalCount;
  }

  async function loadTicket(number) {
    const data = await call("DeskTicket", { number });
    return data.ticket;
  }

  async function openTicket(number) {
    clearSaid();
    sayAt(null);
    const ticket = await loadTicket(number);
    if (!ticket) return problem("error.NOT_FOUND", { number });
    state.ticket = ticket;
    click = null;
    render();
    parts["ticket-title"].focus();
  }

  /** After an action: the ticket and the queue read again. */
  async function reread() {
    const number = state.ticket?.number;
    const [ticket] = await Promise.all([number ? loadTicket(number) : null, loadQueue()]);
    if (ticket && state.ticket?.number === number) state.ticket = ticket;
    render();
  }

  /** Run one action of the open ticket's forms, one at a time. */
  function action(form, run) {
    listen(form, "submit", (event) => {
      event.preventDefault();
      if (busy || !state.ticket) return;
      busy = true;
      form.setAttribute("aria-busy", "true");
      clearSaid();
      sayAt(form);
      run(state.ticket.number)
        .catch(failed)
        .finally(() => {
          busy = false;
          form.removeAttribute("aria-busy");
        });
    });
  }

  async function reply(number) {
    const internal = parts["reply-internal"].checked;
    const text = parts["reply-text"].value;
    const [operation, field] = internal ? ["DeskNote", "addInternalNote"] : ["DeskReply", "replyToTicket"];
    const data = await call(operation, { input: { number, text } });
    if (refused(data[field], number)) return;
    parts["reply-text"].value = "";
    done(internal ? "done.note" : "done.reply");
    await reread();
  }

  async function logCall(number) {
    const notes = parts["call-notes"].value.trim();
    const input = { number, outcome: parts["call-outcome"].value, notes: notes || null };
    const data = await call("DeskCall", { input });
    if (refused(data.logTicketCall, number)) return;
    parts["call-outcome"].value = "";
    parts["call-notes"].value = "";
    done("done.call");
    await reread();
  }

  async function resolution(number) {
    const kind = parts["resolution-kind"].value;
    const [operation, field, inputs] = RESOLUTIONS[kind];
    const details = { number, ...inputs(parts) };
    const signature = JSON.stringify([kind, details]);
    // The same click retried (after a network failure) keeps its key: sent once.
    if (click?.signature !== signature) click = { signature, key: newKey() };
    const data = await call(operation, { input: { ...details, idempotencyKey: click.key } });
    click = null;
    if (refused(data[field], number)) return;
    done("done.resolution", { kind: t(`resolution.${kind}`) });
    await reread();
  }

  async function resolve(number) {
    const data = await call("DeskResolve", { input: { number, summary: parts["resolve-summary"].value } });
    if (refused(data.resolveTicket, number)) return;
    parts["resolve-summary"].value = "";
    done("done.resolved", { number });
    await reread();
  }

  function showKindFields() {
    const kind = parts["resolution-kind"].value;
    parts["goodwill-fields"].hidden = kind !== "GOODWILL";
    parts["return-fields"].hidden = kind !== "RETURN";
    parts["goodwill-points"].required = kind === "GOODWILL";
    parts["goodwill-reason"].required = kind === "GOODWILL";
    parts["return-tracking"].required = kind === "RETURN";
  }

  function alerted(alert) {
    state.alerts = [alert, ...state.alerts].slice(0, ALERTS_KEPT);
    render();
    reread().catch(failed);
  }

  function listen(target, type, handler) {
    target.addEventListener(type, handler);
    stops.push(() => target.removeEventListener(type, handler));
  }

  function setLive(status) {
    parts["desk-live"].dataset.status = status;
    parts["desk-live"].textContent = t(status === "live" ? "desk.live" : "desk.reconnecting");
  }

  async function start() {
    try {
      await loadQueue();
    } catch (error) {
      if (error instanceof ApiError && error.code === "FORBIDDEN") {
        return signOut("role", { role: String(claims.role) });
      }
      throw error;
    }
    render();
    socket = new LiveSocket({ onStatus: setLive, onResumed: () => reread().catch(failed) });
    stops.push(
      socket.subscribe("DeskAlerts", {}, (payload) => {
        const alert = payload.data?.serviceAlerts;
        if (alert) alerted(alert);
      }),
    );
    // The desk is usable: its queue is on screen (the benchmark reads this).
    performance.mark("pointsmall:desk-ready");
  }

  action(parts["reply-form"], reply);
  action(parts["call-form"], logCall);
  action(parts["resolution-form"], resolution);
  action(parts["resolve-form"], resolve);
  for (const radio of [parts["reply-public"], parts["reply-internal"]]) {
    listen(radio, "change", () => renderReplyMode(parts));
  }
  listen(parts["resolution-kind"], "change", showKindFields);
  stops.push(
    onLanguageChange(() => {
      translateDesk(root, parts);
      render();
      if (parts["desk-live"].dataset.status) setLive(parts["desk-live"].dataset.status);
      if (said.problem) problem(...said.problem);
      if (said.done) done(...said.done);
    }),
  );
  const ticking = setInterval(render, TICK);
  const reading = setInterval(() => reread().catch(failed), QUEUE_EVERY);
  stops.push(() => clearInterval(ticking), () => clearInterval(reading));
  showKindFields();
  render();
  start().catch(failed);

  return () => {
    for (const stop of stops) stop();
    socket?.close();
  };
}
