// The warehouse station: the live queue of a warehouse and pick-pack-ship by scanning.
// The scan field keeps the focus. Scanning an order number opens that order; scanning it
// again (or Enter) starts picking, then marks it packed; scanning a tracking number then
// ships it with the carrier chosen once for the session. No step needs the mouse.

import { ApiError, call } from "./graphql.js";
import { onLanguageChange, t } from "./i18n.js";
import { signOut } from "./session.js";
import { LiveSocket } from "./socket.js";
import {
  buildStation,
  fillCarriers,
  fillWarehouses,
  renderCurrent,
  renderFigures,
  renderQueue,
  renderSlip,
} from "./station-view.js";
import { daysBefore, startOfToday } from "./time.js";

const OPEN = new Set(["CONFIRMED", "PICKING", "PACKED"]);
const ORDER_NUMBER = /^PM\d{6}[A-Z0-9]{6}$/;
const PAGE = 100;
const CHOICE = { warehouse: "pointsmall.console.warehouse", carrier: "pointsmall.console.carrier" };
const NEXT = {
  CONFIRMED: ["StationStartPicking", "startPicking", "PICKING"],
  PICKING: ["StationMarkPacked", "markPacked", "PACKED"],
};

export function mountStation(root, { claims }) {
  const parts = buildStation(root);
  const state = {
    warehouses: [],
    warehouse: null,
    orders: new Map(),
    alerts: new Map(),
    total: 0,
    complete: true,
    current: null,
    figures: null,
  };
  const stops = [];
  let socket = null;
  let unfollow = [];
  let work = Promise.resolve();
  let figuresTimer = null;

  const zone = () => state.warehouses.find((w) => w.code === state.warehouse)?.timezone;
  const focusScan = () => parts.scan.focus();

  function render() {
    const orders = [...state.orders.values()].sort(
      (a, b) => a.shipBy.localeCompare(b.shipBy) || a.number.localeCompare(b.number),
    );
    renderQueue(parts, {
      orders,
      alerts: state.alerts,
      total: state.total,
      current: state.current?.number,
      zone: zone(),
      open: (number) => queueScan(number),
    });
    const current = state.current;
    renderCurrent(parts, {
      order: current,
      alert: current && state.alerts.get(current.number),
      zone: zone(),
      onStep: () => queueScan(""),
      onPrint: () => window.print(),
    });
    renderSlip(document.getElementById("slip"), current, zone());
    renderFigures(parts, state.figures, state.total);
  }

  // The prompt and the problem keep their key and values, to be said again in the other
  // language.
  const said = { prompt: ["prompt.scanOrder", {}], problem: null };

  function prompt(key, values = {}) {
    said.prompt = [key, values];
    parts.prompt.textContent = t(key, values);
    parts.prompt.dataset.key = key;
  }

  function promptFor(order) {
    const carrier = parts.carrier.value;
    if (order.status === "PACKED" && !carrier) {
      prompt("prompt.PACKED.noCarrier", { number: order.number });
    } else if (NEXT[order.status] || order.status === "PACKED") {
      prompt(`prompt.${order.status}`, { number: order.number, carrier });
    } else {
      prompt("prompt.other", { number: order.number, status: t(`status.${order.status}`) });
    }
  }

  function problem(key, values = {}) {
    said.problem = [key, values];
    parts.problem.textContent = `${t("problem.label")}: ${t(key, values)}`;
    parts.problem.dataset.key = key;
    parts.problem.hidden = false;
    parts.scan.classList.add("is-wrong");
    root.classList.remove("cue");
    void root.offsetWidth; // restart the cue's animation for a repeated error
    root.classList.add("cue");
  }

  function clearProblem() {
    said.problem = null;
    parts.problem.hidden = true;
    parts.problem.dataset.key = "";
    parts.scan.classList.remove("is-wrong");
  }

  function failed(error, values) {
    if (!(error instanceof ApiError)) throw error;
    if (error.code === "UNAUTHENTICATED") return; // signed out already
    if (error.code === "network") return problem("problem.network");
    if (error.code === "RATE_LIMITED") return problem("problem.RATE_LIMITED");
    problem("problem.unknown", { code: error.code, message: error.message, ...values });
  }

  // Orders arriving and moving: kept while open, dropped otherwise.
  function upsert(order) {
    const had = state.orders.has(order.number);
    if (OPEN.has(order.status)) state.orders.set(order.number, order);
    else state.orders.delete(order.number);
    if (state.complete) state.total += (OPEN.has(order.status) ? 1 : 0) - (had ? 1 : 0);
    else scheduleReload();
    if (state.current?.number === order.number) state.current = order;
    scheduleFigures();
  }

  async function loadQueue() {
    const data = await call("StationQueue", { warehouseCode: state.warehouse, first: PAGE });
    const queue = data.fulfilmentQueue;
    state.orders = new Map(queue.edges.map(({ node }) => [node.number, node]));
    state.total = queue.totalCount;
    state.complete = !queue.pageInfo.hasNextPage;
  }

  async function loadFigures() {
    const dayStart = startOfToday(zone());
    const until = new Date(Date.now() + 60_000).toISOString();
    const variables = { warehouseCode: state.warehouse, dayStart, since: daysBefore(dayStart, 30), until };
    state.figures = await call("StationFigures", variables);
  }

  function scheduleFigures() {
    clearTimeout(figuresTimer);
    figuresTimer = setTimeout(() => loadFigures().then(render, failed), 1000);
  }

  function scheduleReload() {
    clearTimeout(state.reloadTimer);
    state.reloadTimer = setTimeout(() => loadQueue().then(render, failed), 1000);
  }

  function follow() {
    for (const stop of unfollow) stop();
    const variables = { warehouseCode: state.warehouse };
    unfollow = [
      socket.subscribe("StationQueueChanged", variables, (payload) => {
        const order = payload.data?.fulfilmentQueueChanged;
        if (order) upsert(order);
        render();
        // Someone else moved the open order: say what it is now.
        if (order && state.current?.number === order.number) promptFor(order);
      }),
      socket.subscribe("StationAlerts", variables, (payload) => {
        const alert = payload.data?.fulfilmentAlerts;
        if (alert) state.alerts.set(alert.order.number, alert.kind);
        render();
      }),
    ];
  }

  async function chooseWarehouse(code) {
    state.warehouse = code;
    sessionStorage.setItem(CHOICE.warehouse, code);
    state.current = null;
    state.alerts = new Map();
    follow();
    await Promise.all([loadQueue(), loadFigures()]);
    render();
    prompt("prompt.scanOrder");
  }

  // Scans run one after another, in the order they were read.
  function queueScan(value) {
    work = work.then(() => handleScan(value)).catch(failed).finally(focusScan);
    return work;
  }

  async function handleScan(raw) {
    const value = raw.trim().toUpperCase();
    clearProblem();
    const current = state.current;
    if (!value || (current && value === current.number)) {
      if (!current) return problem("problem.nothingOpen");
      return advance(current);
    }
    if (current && current.status === "PACKED" && !ORDER_NUMBER.test(value)) {
      return ship(current, value);
    }
    return openOrder(value);
  }

  async function openOrder(number) {
    const data = await call("StationOrderByNumber", { number });
    if (!data.order) {
      return problem("problem.NOT_FOUND", { number });
    }
    state.current = data.order;
    render();
    promptFor(data.order);
  }

  async function advance(order) {
    const next = NEXT[order.status];
    if (!next) return promptFor(order);
    const [operation, field, to] = next;
    const data = await call(operation, { input: { orderNumber: order.number } });
    settle(order, data[field], { action: t(`action.${to}`) });
  }

  async function ship(order, tracking) {
    const carrier = parts.carrier.value;
    if (!carrier) return problem("problem.noCarrier");
    const input = { orderNumber: order.number, carrier, trackingNumber: tracking };
    const data = await call("StationShip", { input });
    if (settle(order, data.shipOrder, { action: t("action.SHIPPED"), tracking, carrier })) {
      state.current = null;
      render();
      prompt("prompt.shipped", { number: order.number, carrier, tracking });
    }
  }

  /** A mutation's payload: the order moved, or its error shown. True when it moved. */
  function settle(order, payload, values) {
    const error = payload.errors[0];
    if (error) {
      const shown = { number: order.number, status: t(`status.${order.status}`), ...values };
      problem(`problem.${error.code}`, { ...shown, message: error.message, code: error.code });
      if (error.code === "INVALID_TRANSITION") refresh(order.number);
      return false;
    }
    upsert(payload.order);
    state.current = payload.order;
    render();
    promptFor(payload.order);
    return true;
  }

  /** Read an order again after a refused step: someone else may have moved it. */
  async function refresh(number) {
    const data = await call("StationOrderByNumber", { number });
    if (data.order && state.current?.number === number) {
      state.current = data.order;
      render();
      promptFor(data.order);
    }
  }

  function onKey(event) {
    const target = event.target;
    const typing = target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement;
    const choosing = target instanceof HTMLSelectElement;
    if (event.key === "Escape") return focusScan();
    // The focus lost to the page (after printing, say): Enter is still the scanner's Enter.
    if (target === document.body && event.key === "Enter") {
      event.preventDefault();
      focusScan();
      return queueScan(parts.scan.value);
    }
    // A scanner types into whatever has the focus: any character outside a field goes to
    // the scan field (moved there before the character lands).
    if (!typing && !choosing && event.key.length === 1 && !event.ctrlKey && !event.metaKey && !event.altKey) {
      focusScan();
    }
  }

  function listen(target, type, handler) {
    target.addEventListener(type, handler);
    stops.push(() => target.removeEventListener(type, handler));
  }

  async function start() {
    let data;
    try {
      data = await call("StationWarehouses");
    } catch (error) {
      if (error instanceof ApiError && error.code === "FORBIDDEN") {
        return signOut("role", { role: String(claims.role) });
      }
      return failed(error);
    }
    state.warehouses = data.myWarehouses;
    if (!state.warehouses.length) {
      prompt("station.noWarehouse");
      return;
    }
    const saved = sessionStorage.getItem(CHOICE.warehouse);
    const chosen = state.warehouses.some((w) => w.code === saved) ? saved : state.warehouses[0].code;
    fillWarehouses(parts.warehouse, state.warehouses, chosen);
    socket = new LiveSocket({
      onStatus: (status) => {
        parts.live.textContent = t(status === "live" ? "queue.live" : "queue.reconnecting");
        parts.live.dataset.status = status;
      },
      onResumed: () => loadQueue().then(render, failed),
    });
    await chooseWarehouse(chosen);
    // The station is usable: its queue and figures are on screen (the benchmark reads this).
    performance.mark("pointsmall:station-ready");
  }

  fillCarriers(parts.carrier, sessionStorage.getItem(CHOICE.carrier));
  listen(parts["scan-form"], "submit", (event) => {
    event.preventDefault();
    const value = parts.scan.value;
    parts.scan.value = "";
    queueScan(value);
  });
  listen(parts.carrier, "change", () => {
    sessionStorage.setItem(CHOICE.carrier, parts.carrier.value);
    if (state.current) promptFor(state.current);
    focusScan();
  });
  listen(parts.warehouse, "change", () => {
    chooseWarehouse(parts.warehouse.value).catch(failed).finally(focusScan);
  });
  listen(document, "keydown", onKey);
  listen(window, "focus", focusScan);
  listen(window, "afterprint", focusScan);
  stops.push(onLanguageChange(() => {
    render();
    if (parts.live.dataset.status) parts.live.textContent = t(parts.live.dataset.status === "live" ? "queue.live" : "queue.reconnecting");
    prompt(...said.prompt);
    if (said.problem) parts.problem.textContent = `${t("problem.label")}: ${t(...said.problem)}`;
    focusScan();
  }));
  const ticking = setInterval(render, 30_000);
  stops.push(() => clearInterval(ticking));
  render();
  focusScan();
  start().catch(failed);

  return () => {
    for (const stop of stops) stop();
    for (const stop of unfollow) stop();
    clearTimeout(figuresTimer);
    clearTimeout(state.reloadTimer);
    socket?.close();
    renderSlip(document.getElementById("slip"), null);
  };
}
