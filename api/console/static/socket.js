// Subscriptions over graphql-transport-ws on /graphql, the protocol the apps use: one
// socket per signed-in tab, authenticated in connection_init, resubscribing after a drop.

import { documentOf } from "./graphql.js";
import { signOut, token } from "./session.js";

const PROTOCOL = "graphql-transport-ws";
const FORBIDDEN = 4403; // the server refused connection_init: the token is not valid now
const NORMAL = 1000;

function socketUrl() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/graphql`;
}

export class LiveSocket {
  /** `onStatus("live" | "reconnecting")`; `onResumed()` after a reconnect (read again). */
  constructor({ onStatus = () => {}, onResumed = () => {} } = {}) {
    this.onStatus = onStatus;
    this.onResumed = onResumed;
    this.subscriptions = new Map();
    this.ids = 0;
    this.retries = 0;
    this.closed = false;
    this.ready = false;
    this.open(false);
  }

  open(resumed) {
    const socket = new WebSocket(socketUrl(), PROTOCOL);
    this.socket = socket;
    socket.addEventListener("open", () => {
      this.send({ type: "connection_init", payload: { Authorization: `Bearer ${token()}` } });
    });
    socket.addEventListener("message", (event) => this.receive(JSON.parse(event.data), resumed));
    socket.addEventListener("close", (event) => this.dropped(event.code));
  }

  receive(message, resumed) {
    if (message.type === "connection_ack") {
      this.ready = true;
      this.retries = 0;
      this.onStatus("live");
      for (const [id, subscription] of this.subscriptions) this.start(id, subscription);
      if (resumed) this.onResumed();
    } else if (message.type === "ping") {
      this.send({ type: "pong" });
    } else if (message.type === "next") {
      this.subscriptions.get(message.id)?.onNext(message.payload);
    } else if (message.type === "error") {
      this.subscriptions.get(message.id)?.onError(message.payload);
    }
  }

  dropped(code) {
    this.ready = false;
    if (this.closed) return;
    if (code === FORBIDDEN) {
      signOut("expired");
      return;
    }
    this.onStatus("reconnecting");
    const wait = Math.min(500 * 2 ** this.retries, 10_000);
    this.retries += 1;
    setTimeout(() => !this.closed && this.open(true), wait);
  }

  send(message) {
    if (this.socket.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
  }

  async start(id, subscription) {
    const query = await documentOf(subscription.name);
    if (!this.subscriptions.has(id) || !this.ready) return;
    const payload = { query, variables: subscription.variables, operationName: subscription.name };
    this.send({ id, type: "subscribe", payload });
  }

  /** Follow an operation; `onNext(payload)` for each result. Returns a function that stops. */
  subscribe(name, variables, onNext, onError = () => {}) {
    this.ids += 1;
    const id = String(this.ids);
    const subscription = { name, variables, onNext, onError };
    this.subscriptions.set(id, subscription);
    if (this.ready) this.start(id, subscription);
    return () => {
      if (this.subscriptions.delete(id)) this.send({ id, type: "complete" });
    };
  }

  close() {
    this.closed = true;
    this.subscriptions.clear();
    this.socket.close(NORMAL);
  }
}
