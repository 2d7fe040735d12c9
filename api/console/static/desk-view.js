// What the service desk shows: its skeleton (the queue, the ticket, its forms), the queue's
// rows, the ticket's facts, conversation, order timeline and resolutions, the live alerts.
// Data goes in as text nodes only, never as markup. The forms are built once and kept:
// a re-render never loses what the agent is typing.

import { t, translate } from "./i18n.js";
import { CARRIERS } from "./carriers.js";
import { formatMoment, hoursUntil } from "./time.js";

const SKELETON = `
<div class="desk">
  <div class="controls">
    <p id="desk-live" class="live" role="status"></p>
  </div>
  <div id="desk-problem" class="problem" role="alert" hidden></div>
  <p id="desk-done" class="done" role="status"></p>
  <section class="alerts" aria-labelledby="alerts-title">
    <h3 id="alerts-title" data-i18n="alerts.title"></h3>
    <ul id="alerts" aria-live="polite"></ul>
  </section>
  <div class="desk-work">
    <section class="queue" aria-labelledby="tickets-title">
      <h3 id="tickets-title"><span data-i18n="tickets.title"></span> <span id="tickets-count"></span></h3>
      <table>
        <thead><tr>
          <th scope="col" data-i18n="tickets.number"></th>
          <th scope="col" data-i18n="tickets.subject"></th>
          <th scope="col" data-i18n="tickets.deadline"></th>
          <th scope="col" data-i18n="tickets.mark"></th>
        </tr></thead>
        <tbody id="tickets-rows"></tbody>
      </table>
      <p id="tickets-empty" class="hint" data-i18n="tickets.empty" hidden></p>
    </section>
    <section id="ticket" class="ticket" aria-labelledby="ticket-title">
      <h3 id="ticket-title" tabindex="-1"></h3>
      <p id="ticket-none" class="hint" data-i18n="ticket.none"></p>
      <div id="ticket-open" hidden>
        <dl id="ticket-facts" class="facts ticket-facts"></dl>
        <div class="ticket-columns">
          <section aria-labelledby="conversation-title">
            <h4 id="conversation-title" data-i18n="ticket.conversation"></h4>
            <ol id="conversation" class="conversation"></ol>
          </section>
          <section aria-labelledby="order-title">
            <h4 id="order-title" data-i18n="ticket.order"></h4>
            <div id="order"></div>
            <h4 id="resolutions-title" data-i18n="ticket.resolutions"></h4>
            <ul id="resolutions" class="resolutions" aria-labelledby="resolutions-title"></ul>
          </section>
        </div>
        <form id="reply-form" class="desk-form reply-public" autocomplete="off">
          <fieldset>
            <legend data-i18n="reply.legend"></legend>
            <div class="choices">
              <input type="radio" id="reply-public" name="visibility" value="public" checked>
              <label for="reply-public" data-i18n="reply.public"></label>
              <input type="radio" id="reply-internal" name="visibility" value="internal">
              <label for="reply-internal" data-i18n="reply.internal"></label>
            </div>
            <p id="reply-banner" class="internal-banner" data-i18n="reply.internalBanner" hidden></p>
            <label for="reply-text" data-i18n="reply.text"></label>
            <textarea id="reply-text" rows="3" maxlength="2000" required></textarea>
            <button id="reply-send" type="submit" class="primary"></button>
          </fieldset>
        </form>
        <form id="call-form" class="desk-form" autocomplete="off">
          <fieldset>
            <legend data-i18n="call.legend"></legend>
            <label for="call-outcome" data-i18n="call.outcome"></label>
            <input id="call-outcome" type="text" maxlength="500" required>
            <label for="call-notes" data-i18n="call.notes"></label>
            <textarea id="call-notes" rows="2" maxlength="2000"></textarea>
            <button type="submit" data-i18n="call.send"></button>
          </fieldset>
        </form>
        <form id="resolution-form" class="desk-form" autocomplete="off">
          <fieldset>
            <legend data-i18n="resolution.legend"></legend>
            <label for="resolution-kind" data-i18n="resolution.kind"></label>
            <select id="resolution-kind">
              <option value="REPLACEMENT" data-i18n="resolution.REPLACEMENT"></option>
              <option value="REFUND_POINTS" data-i18n="resolution.REFUND_POINTS"></option>
              <option value="GOODWILL" data-i18n="resolution.GOODWILL"></option>
              <option value="RETURN" data-i18n="resolution.RETURN"></option>
            </select>
            <div id="goodwill-fields" class="kind-fields" hidden>
              <label for="goodwill-points" data-i18n="resolution.points"></label>
              <input id="goodwill-points" type="number" min="1" step="1" inputmode="numeric">
              <label for="goodwill-reason" data-i18n="resolution.reason"></label>
              <input id="goodwill-reason" type="text" maxlength="500">
              <div class="choices">
                <input type="checkbox" id="goodwill-approval">
                <label for="goodwill-approval" data-i18n="resolution.approval"></label>
              </div>
            </div>
            <div id="return-fields" class="kind-fields" hidden>
              <label for="return-carrier" data-i18n="resolution.carrier"></label>
              <select id="return-carrier"></select>
              <label for="return-tracking" data-i18n="resolution.tracking"></label>
              <input id="return-tracking" type="text" maxlength="64" spellcheck="false">
            </div>
            <button type="submit" data-i18n="resolution.send"></button>
          </fieldset>
        </form>
        <form id="resolve-form" class="desk-form" autocomplete="off">
          <fieldset>
            <legend data-i18n="resolve.legend"></legend>
            <label for="resolve-summary" data-i18n="resolve.summary"></label>
            <textarea id="resolve-summary" rows="2" maxlength="2000" required></textarea>
            <button type="submit" class="primary" data-i18n="resolve.send"></button>
          </fieldset>
        </form>
      </div>
    </section>
  </div>
</div>`;

const PARTS = [
  "desk-live", "desk-problem", "desk-done", "alerts", "tickets-count", "tickets-rows",
  "tickets-empty", "ticket-title", "ticket-none", "ticket-open", "ticket-facts",
  "conversation", "order", "resolutions", "reply-form", "reply-public", "reply-internal",
  "reply-banner", "reply-text", "reply-send", "call-form", "call-outcome", "call-notes",
  "resolution-form", "resolution-kind", "goodwill-fields", "goodwill-points",
  "goodwill-reason", "goodwill-approval", "return-fields", "return-carrier", "return-tracking", "resolve-form",
  "resolve-summary",
];

function element(tag, { text, className, attributes = {} } = {}, children = []) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

/** The desk's skeleton in `root`; returns its parts by id. */
export function buildDesk(root) {
  root.innerHTML = SKELETON;
  const parts = Object.fromEntries(PARTS.map((id) => [id, root.querySelector(`#${id}`)]));
  parts["return-carrier"].replaceChildren(
    ...CARRIERS.map(([code, name]) => element("option", { text: name, attributes: { value: code } })),
  );
  translateDesk(root, parts);
  return parts;
}

/** The skeleton's words, and the reply form as public reply or internal note. */
export function translateDesk(root, parts) {
  translate(root);
  renderReplyMode(parts);
}

/** Public reply and internal note look nothing alike: the form's frame, a banner, the button. */
export function renderReplyMode(parts) {
  const internal = parts["reply-internal"].checked;
  parts["reply-form"].className = `desk-form ${internal ? "reply-internal" : "reply-public"}`;
  parts["reply-banner"].hidden = !internal;
  parts["reply-send"].textContent = t(internal ? "reply.sendInternal" : "reply.sendPublic");
}

/** "breached", "atRisk" or "" for a ticket now (its own clock moves between reads). */
export function urgencyOf(ticket, now = Date.now()) {
  if (!ticket.nextDeadline) return "";
  if (ticket.breached || hoursUntil(ticket.nextDeadline, now) < 0) return "breached";
  return ticket.atRisk ? "atRisk" : "";
}

function hoursText(ticket, now) {
  if (!ticket.nextDeadline) return t(ticket.state === "WAITING_ON_MEMBER" ? "tickets.noDeadline" : "tickets.none");
  const hours = hoursUntil(ticket.nextDeadline, now);
  const shown = Math.abs(hours).toFixed(1);
  return hours < 0 ? t("hours.over", { hours: shown }) : t("hours.left", { hours: shown });
}

function mark(urgency) {
  if (!urgency) return "";
  return element("span", { text: t(`mark.${urgency}`), className: `mark mark-${urgency}` });
}

/** The queue's rows in the server's order (earliest running deadline first). */
export function renderTickets(parts, { tickets, total, current, open }) {
  const now = Date.now();
  const rows = tickets.map((ticket) => {
    const urgency = urgencyOf(ticket, now);
    const button = element("button", {
      text: ticket.number,
      className: "order-number",
      attributes: { type: "button", "aria-label": `${t("tickets.open")} ${ticket.number}` },
    });
    button.addEventListener("click", () => open(ticket.number));
    const who = ticket.member?.displayName || ticket.member?.externalId || "";
    const row = element("tr", { className: urgency ? `row-${urgency}` : "" }, [
      element("th", { attributes: { scope: "row" } }, [button]),
      element("td", {}, [
        element("span", { text: `${t(`category.${ticket.category}`)} · ${who}`, className: "hint" }),
        element("br"),
        ticket.subject,
      ]),
      element("td", {}, [
        formatMoment(ticket.nextDeadline),
        ticket.nextDeadline ? element("br") : "",
        element("span", { text: hoursText(ticket, now), className: "left" }),
      ]),
      element("td", {}, [mark(urgency)]),
    ]);
    row.dataset.number = ticket.number;
    row.dataset.urgency = urgency;
    if (current === ticket.number) row.setAttribute("aria-current", "true");
    return row;
  });
  parts["tickets-rows"].replaceChildren(...rows);
  parts["tickets-empty"].hidden = tickets.length > 0;
  parts["tickets-count"].textContent = t("tickets.count", { count: total });
}

function fact(key, ...values) {
  return [element("dt", { text: t(key) }), ...values.map((value) => element("dd", {}, [value]))];
}

function renderFacts(parts, ticket) {
  const urgency = urgencyOf(ticket);
  const deadline = ticket.nextDeadline
    ? `${formatMoment(ticket.nextDeadline)} (${hoursText(ticket, Date.now())})`
    : hoursText(ticket, Date.now());
  const state = element("span", { className: "status" }, [
    element("span", { text: t(`state.${ticket.state}`), attributes: { id: "ticket-state" } }),
    " ",
    mark(urgency),
  ]);
  const member = ticket.member;
  const points = member?.points
    ? t("ticket.points", { balance: member.points.balance, available: member.points.available })
    : "";
  parts["ticket-facts"].replaceChildren(
    ...fact("ticket.state", state),
    ...fact("ticket.deadline", element("span", { text: deadline, attributes: { id: "ticket-deadline" } })),
    ...fact("ticket.category", `${t(`category.${ticket.category}`)} · ${t(`channel.${ticket.channel}`)}`),
    ...fact("ticket.opened", formatMoment(ticket.openedAt)),
    ...fact("ticket.assignee", ticket.assignee ?? t("ticket.unassigned")),
    ...fact(
      "ticket.member",
      `${member?.displayName ?? ""} (${member?.externalId ?? ""}) ${member?.mobile ?? ""}`.trim(),
      element("span", { text: points, attributes: { id: "member-points" } }),
    ),
  );
  const container = parts["ticket-facts"].closest(".ticket");
  container.dataset.urgency = urgency;
  container.dataset.deadline = ticket.nextDeadline ?? "";
}

function entryText(entry) {
  const lines = [];
  if (entry.kind === "STATE_CHANGE" && entry.fromState && entry.toState) {
    lines.push(t("entry.states", { from: t(`state.${entry.fromState}`), to: t(`state.${entry.toState}`) }));
  }
  if (entry.callOutcome) lines.push(t("entry.outcome", { outcome: entry.callOutcome }));
  if (entry.rating !== null && entry.rating !== undefined) lines.push(t("entry.rating", { rating: entry.rating }));
  if (entry.body) lines.push(entry.body);
  return lines;
}

function renderConversation(parts, ticket) {
  const entries = ticket.timeline.edges.map(({ node }) => {
    const who = [node.author ?? "", node.authorRole ? `(${t(`role.${node.authorRole}`)})` : ""]
      .join(" ")
      .trim();
    const head = element("p", { className: "entry-head" }, [
      element("span", { text: t(`entry.${node.kind}`), className: "entry-label" }),
      " ",
      element("span", { text: `${who} · ${formatMoment(node.createdAt)}`, className: "entry-meta" }),
    ]);
    const body = entryText(node).map((line) => element("p", { text: line, className: "entry-body" }));
    const item = element("li", { className: `entry entry-${node.kind}` }, [head, ...body]);
    item.dataset.kind = node.kind;
    return item;
  });
  parts.conversation.replaceChildren(...entries);
}

/** The order's story, oldest first: placed, confirmed, shipped, each carrier scan, the end. */
export function orderTimeline(order) {
  const steps = [
    [order.placedAt, t("order.placed"), ""],
    [order.confirmedAt, t("order.confirmed"), ""],
  ];
  const shipment = order.shipment;
  if (order.shippedAt && shipment) {
    steps.push([
      order.shippedAt,
      t("order.shipped", { carrier: shipment.carrier, tracking: shipment.trackingNumber }),
      "",
    ]);
  }
  for (const scan of shipment?.events ?? []) {
    steps.push([scan.occurredAt, `${t(`scan.${scan.status}`)} · ${scan.location}`, scan.description, "scan"]);
  }
  steps.push([order.deliveredAt, t("order.delivered"), ""], [order.cancelledAt, t("order.cancelled"), ""]);
  return steps
    .filter(([at]) => at)
    .sort((a, b) => new Date(a[0]) - new Date(b[0]));
}

function renderOrder(parts, ticket) {
  const order = ticket.order;
  if (!order) {
    parts.order.replaceChildren(element("p", { text: t("ticket.noOrder"), className: "hint" }));
    return;
  }
  const lines = element(
    "ul",
    { className: "lines" },
    order.lines.map((line) => element("li", { text: `${line.quantity} × ${line.name} (${line.sku})` })),
  );
  const timeline = element(
    "ol",
    { className: "order-timeline" },
    orderTimeline(order).map(([at, what, detail, kind]) =>
      element("li", { className: kind === "scan" ? "scan" : "" }, [
        element("time", { text: formatMoment(at), attributes: { datetime: at } }),
        " ",
        what,
        detail ? ` — ${detail}` : "",
      ]),
    ),
  );
  parts.order.replaceChildren(
    element("p", { className: "status" }, [
      element("span", { text: order.number, className: "current-number order-ref" }),
      " ",
      t(`status.${order.status}`),
      " · ",
      t("order.points", { points: order.pointsTotal }),
    ]),
    lines,
    timeline,
  );
}

/** One resolution in words (the replacement with its ship date, the return with its parcel). */
export function resolutionText(resolution) {
  const head = t("resolution.done", {
    kind: t(`resolution.${resolution.kind}`),
    status: t(`rstatus.${resolution.status}`),
  });
  const more = [];
  if (resolution.points) more.push(t("resolution.refunded", { points: resolution.points }));
  const replacement = resolution.replacementOrder;
  if (replacement) {
    more.push(t("resolution.replacement", { number: replacement.number, date: replacement.promisedShipDate ?? "—" }));
  }
  const parcel = resolution.returnParcel;
  if (parcel) {
    more.push(
      t("resolution.return", { carrier: parcel.carrier, tracking: parcel.trackingNumber, status: t(`scan.${parcel.status}`) }),
    );
  }
  return [head, ...more].join(" · ");
}

function renderResolutions(parts, ticket) {
  const items = ticket.resolutions.map((resolution) => {
    const item = element("li", { text: resolutionText(resolution) });
    item.dataset.kind = resolution.kind;
    return item;
  });
  if (!items.length) items.push(element("li", { text: t("ticket.noResolutions"), className: "hint" }));
  parts.resolutions.replaceChildren(...items);
}

/** The open ticket (or the hint to open one). The forms stay as they are. */
export function renderTicket(parts, ticket) {
  parts["ticket-none"].hidden = Boolean(ticket);
  parts["ticket-open"].hidden = !ticket;
  if (!ticket) {
    parts["ticket-title"].textContent = t("ticket.title");
    return;
  }
  parts["ticket-title"].textContent = `${ticket.number} · ${ticket.subject}`;
  // A closed ticket changes no more; a resolved one may still be answered (the member can
  // write again), not resolved twice.
  const closed = ticket.state === "CLOSED";
  for (const form of ["reply-form", "call-form", "resolution-form"]) parts[form].hidden = closed;
  parts["resolve-form"].hidden = closed || ticket.state === "RESOLVED";
  renderFacts(parts, ticket);
  renderConversation(parts, ticket);
  renderOrder(parts, ticket);
  renderResolutions(parts, ticket);
}

/** The live alerts, newest first. */
export function renderAlerts(parts, alerts) {
  const items = alerts.map((alert) =>
    element("li", { className: alert.kind.endsWith("BREACHED") ? "alert-breached" : "" }, [
      element("time", { text: formatMoment(alert.raisedAt), attributes: { datetime: alert.raisedAt } }),
      " ",
      t(`alert.${alert.kind}`, { number: alert.ticket.number }),
    ]),
  );
  if (!items.length) items.push(element("li", { text: t("alerts.none"), className: "hint" }));
  parts.alerts.replaceChildren(...items);
}
