// What the warehouse station shows: its skeleton, the queue, the open order, the figures,
// the packing slip. Data goes in as text nodes only, never as markup.

import { t, translate } from "./i18n.js";
import { CARRIERS } from "./carriers.js";
import { formatMoment, hoursUntil } from "./time.js";

const SKELETON = `
<div class="station">
  <div class="controls">
    <div class="field">
      <label for="warehouse" data-i18n="station.warehouse"></label>
      <select id="warehouse"></select>
    </div>
    <div class="field">
      <label for="carrier" data-i18n="station.carrier"></label>
      <select id="carrier"></select>
    </div>
    <p id="live" class="live" role="status"></p>
  </div>
  <form id="scan-form" class="scan" autocomplete="off">
    <label for="scan" data-i18n="station.scan"></label>
    <input id="scan" name="scan" type="text" autocomplete="off" spellcheck="false"
      autocapitalize="characters" aria-describedby="prompt scan-hint">
    <span id="scan-hint" class="hint" data-i18n="station.scanHint"></span>
  </form>
  <p id="prompt" class="prompt" aria-live="polite"></p>
  <div id="problem" class="problem" role="alert" hidden></div>
  <section class="figures" aria-labelledby="figures-title">
    <h3 id="figures-title" data-i18n="figures.title"></h3>
    <dl id="figures"></dl>
  </section>
  <div class="work">
    <section id="current" class="current" aria-labelledby="current-title">
      <h3 id="current-title" data-i18n="current.title"></h3>
      <div id="current-body"></div>
    </section>
    <section class="queue" aria-labelledby="queue-title">
      <h3 id="queue-title"><span data-i18n="queue.title"></span> <span id="queue-count"></span></h3>
      <table>
        <thead><tr>
          <th scope="col" data-i18n="queue.number"></th>
          <th scope="col" data-i18n="queue.status"></th>
          <th scope="col" data-i18n="queue.shipBy"></th>
          <th scope="col" data-i18n="queue.left"></th>
          <th scope="col" data-i18n="queue.mark"></th>
        </tr></thead>
        <tbody id="queue-rows"></tbody>
      </table>
      <p id="queue-empty" class="hint" data-i18n="queue.empty" hidden></p>
    </section>
  </div>
</div>`;

function element(tag, { text, className, attributes = {} } = {}, children = []) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

/** The station's skeleton in `root`; returns its parts by id. */
export function buildStation(root) {
  root.innerHTML = SKELETON;
  translate(root);
  const byId = (id) => root.querySelector(`#${id}`);
  return Object.fromEntries(
    [
      "warehouse", "carrier", "live", "scan-form", "scan", "prompt", "problem", "figures",
      "current-body", "queue-count", "queue-rows", "queue-empty",
    ].map((id) => [id, byId(id)]),
  );
}

export function fillWarehouses(select, warehouses, chosen) {
  select.replaceChildren(
    ...warehouses.map((w) => element("option", { text: `${w.code} · ${w.name}`, attributes: { value: w.code } })),
  );
  select.value = chosen;
}

export function fillCarriers(select, chosen) {
  const none = element("option", { text: "—", attributes: { value: "" } });
  const options = CARRIERS.map(([code, name]) => element("option", { text: name, attributes: { value: code } }));
  select.replaceChildren(none, ...options);
  select.value = chosen ?? "";
}

/** How urgent an order is now: "breached", "atRisk" or "". */
export function urgencyOf(order, alert, now = Date.now()) {
  if (!order.shipBy) return "";
  if (hoursUntil(order.shipBy, now) < 0 || alert === "BREACHED") return "breached";
  return order.atRisk || alert === "AT_RISK" ? "atRisk" : "";
}

function hoursText(order, now) {
  if (!order.shipBy) return "";
  const hours = hoursUntil(order.shipBy, now);
  const shown = Math.abs(hours).toFixed(1);
  return hours < 0 ? t("hours.over", { hours: shown }) : t("hours.left", { hours: shown });
}

function mark(urgency) {
  if (!urgency) return "";
  return element("span", { text: t(`mark.${urgency}`), className: `mark mark-${urgency}` });
}

/** The queue's rows, earliest deadline first; `open(number)` when a row's button is used. */
export function renderQueue(parts, { orders, alerts, total, current, zone, open }) {
  const now = Date.now();
  const rows = orders.map((order) => {
    const urgency = urgencyOf(order, alerts.get(order.number), now);
    const button = element("button", {
      text: order.number,
      className: "order-number",
      attributes: { type: "button", "aria-label": `${t("button.open")} ${order.number}` },
    });
    button.addEventListener("click", () => open(order.number));
    const row = element("tr", { className: urgency ? `row-${urgency}` : "" }, [
      element("th", { attributes: { scope: "row" } }, [button]),
      element("td", { text: t(`status.${order.status}`) }),
      element("td", { text: formatMoment(order.shipBy, zone) }),
      element("td", { text: hoursText(order, now) }),
      element("td", {}, [mark(urgency)]),
    ]);
    row.dataset.number = order.number;
    if (current === order.number) row.setAttribute("aria-current", "true");
    return row;
  });
  parts["queue-rows"].replaceChildren(...rows);
  parts["queue-empty"].hidden = orders.length > 0;
  parts["queue-count"].textContent = t("queue.count", { count: total });
}

function addressText(address) {
  const place = [address.province, address.city, address.district].filter(Boolean).join(" ");
  const street = [address.line1, address.line2].filter(Boolean).join(" ");
  return [place, street, address.postalCode].filter(Boolean).join(" · ");
}

/** The lines a warehouse picks and packs: a digital line (an e-voucher, a top-up) has
 * reached the member already and is only counted. */
function parcels(order) {
  return order.lines.filter((line) => (line.kind ?? "PHYSICAL") === "PHYSICAL");
}

function linesList(order) {
  const items = parcels(order).map((line) =>
    element("li", { text: `${line.quantity} × ${line.name} (${line.sku})` }),
  );
  const digital = order.lines.length - parcels(order).length;
  if (digital) items.push(element("li", { text: t("current.digital", { count: digital }), className: "hint" }));
  return element("ul", { className: "lines" }, items);
}

const STEPS = [
  ["CONFIRMED", "button.pick"],
  ["PICKING", "button.pack"],
  ["PACKED", "button.ship"],
];

/** The open order with a button for its next step and one to print its slip. */
export function renderCurrent(parts, { order, alert, zone, onStep, onPrint }) {
  const body = parts["current-body"];
  if (!order) {
    body.replaceChildren(element("p", { text: t("current.none"), className: "hint" }));
    return;
  }
  const urgency = urgencyOf(order, alert);
  const status = element("p", { className: "status" }, [
    element("span", { text: t(`status.${order.status}`), className: `status-${order.status}` }),
    " ",
    mark(urgency),
  ]);
  const facts = element("dl", { className: "facts" }, [
    element("dt", { text: t("current.shipBy") }),
    element("dd", { text: `${formatMoment(order.shipBy, zone)} (${hoursText(order, Date.now())})` }),
    element("dt", { text: t("current.address") }),
    element("dd", { text: `${order.shippingAddress.recipient} ${order.shippingAddress.phone}` }),
    element("dd", { text: addressText(order.shippingAddress) }),
  ]);
  const actions = element("div", { className: "actions" });
  const step = STEPS.find(([status]) => status === order.status);
  if (step) {
    const button = element("button", { text: t(step[1]), className: "primary", attributes: { type: "button" } });
    button.addEventListener("click", onStep);
    actions.append(button);
  }
  const print = element("button", { text: t("button.print"), attributes: { type: "button" } });
  print.addEventListener("click", onPrint);
  actions.append(print);
  body.replaceChildren(
    element("p", { text: order.number, className: "current-number" }),
    status,
    facts,
    element("h4", { text: t("current.lines") }),
    linesList(order),
    actions,
  );
}

/** The packing slip, shown only when printing: address, lines, the number in large type. */
export function renderSlip(slip, order, zone) {
  if (!order) {
    slip.replaceChildren();
    return;
  }
  const address = order.shippingAddress;
  const table = element("table", {}, [
    element("thead", {}, [
      element("tr", {}, ["slip.sku", "slip.name", "slip.quantity"].map((k) => element("th", { text: t(k) }))),
    ]),
    element(
      "tbody",
      {},
      parcels(order).map((line) =>
        element("tr", {}, [
          element("td", { text: line.sku }),
          element("td", { text: line.name }),
          element("td", { text: String(line.quantity) }),
        ]),
      ),
    ),
  ]);
  slip.replaceChildren(
    element("h2", { text: t("slip.title") }),
    element("p", { text: t("slip.order") }),
    element("p", { text: `*${order.number}*`, className: "slip-number" }),
    element("p", { text: `${t("slip.recipient")}: ${address.recipient} ${address.phone}` }),
    element("p", { text: addressText(address) }),
    element("p", { text: `${t("slip.shipBy")}: ${formatMoment(order.shipBy, zone)}` }),
    element("h3", { text: t("slip.lines") }),
    table,
  );
}

/** Today's figures: confirmed and shipped today, open now, at risk, breached, on time. */
export function renderFigures(parts, figures, open) {
  const rate = figures?.recent.onTimeRate;
  const entries = [
    ["figures.confirmed", figures?.today.ordersConfirmed],
    ["figures.shipped", figures?.today.ordersShipped],
    ["figures.open", open],
    ["figures.atRisk", figures?.recent.openAtRisk],
    ["figures.breached", figures?.recent.openBreached],
    ["figures.onTime", rate === null || rate === undefined ? null : `${(rate * 100).toFixed(1)}%`],
  ];
  parts.figures.replaceChildren(
    ...entries.map(([key, value]) =>
      element("div", { className: "figure" }, [
        element("dt", { text: t(key) }),
        element("dd", { text: value === null || value === undefined ? t("figures.none") : String(value) }),
      ]),
    ),
  );
}
