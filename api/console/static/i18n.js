// The console's words in Chinese (the default) and English, and the switch between them.
// The choice is a preference of the device, not of the session: it is kept in localStorage.

const WORDS = {
  "zh-CN": {
    "skip": "跳到主要内容",
    "loading": "正在加载…",
    "app.title": "积分商城 · 员工工作台",
    "lang.other": "English",
    "lang.switch": "Switch to English",
    "signOut": "退出",
    "who": "{role} · {subject}",
    "role.warehouse": "仓库员工",
    "role.admin": "管理员",
    "role.agent": "客服",
    "modules.label": "工作台",
    "signin.title": "员工登录",
    "signin.token": "员工令牌",
    "signin.hint": "粘贴一次即可：令牌只保存在这个浏览器标签页中，关闭标签页即失效。",
    "signin.submit": "登录",
    "signin.expired": "登录已过期，请粘贴新的令牌。",
    "signin.invalid": "这不是有效的员工令牌，请检查后重新粘贴。",
    "signin.role": "这个令牌（{role}）不能使用员工工作台。请使用仓库员工、客服或管理员的令牌。",
    "signin.signedOut": "已退出。",
    "signin.offline": "暂时连不上服务器，请稍后再试。",
    "station.title": "仓库工作台",
    "desk.title": "客服工作台",
    "station.warehouse": "仓库",
    "station.carrier": "承运商",
    "station.scan": "扫描",
    "station.scanHint": "扫码枪或键盘输入后按 Enter",
    "station.noWarehouse": "这个令牌没有可用的仓库。",
    "prompt.scanOrder": "扫描订单号开始。",
    "prompt.CONFIRMED": "订单 {number}：再扫一次或按 Enter 开始拣货。",
    "prompt.PICKING": "订单 {number} 拣货中：再扫一次或按 Enter 标记已打包。",
    "prompt.PACKED": "订单 {number} 已打包：扫描 {carrier} 运单号发货。",
    "prompt.PACKED.noCarrier": "订单 {number} 已打包：先选择承运商，再扫描运单号发货。",
    "prompt.shipped": "✓ 订单 {number} 已由 {carrier} 发出，运单号 {tracking}。扫描下一个订单号。",
    "prompt.other": "订单 {number} 状态为 {status}，无需处理。扫描下一个订单号。",
    "problem.NOT_FOUND": "找不到订单 {number}，或它不属于你的仓库。",
    "problem.INVALID_TRANSITION": "订单 {number} 现在是「{status}」，不能{action}。",
    "problem.DUPLICATE_TRACKING_NUMBER": "运单号 {tracking} 已用于 {carrier} 的另一个包裹。",
    "problem.INVALID_INPUT": "无法识别的输入：{message}",
    "problem.RATE_LIMITED": "操作太频繁，请稍候再试。",
    "problem.network": "连不上服务器，请重试。",
    "problem.noCarrier": "请先选择承运商。",
    "problem.nothingOpen": "还没有打开订单：请先扫描订单号。",
    "problem.unknown": "出错了（{code}）：{message}",
    "problem.label": "错误",
    "action.PICKING": "开始拣货",
    "action.PACKED": "标记已打包",
    "action.SHIPPED": "发货",
    "button.pick": "开始拣货",
    "button.pack": "标记已打包",
    "button.ship": "发货",
    "button.print": "打印装箱单",
    "button.open": "打开",
    "tracking.label": "运单号",
    "status.AWAITING_PAYMENT": "待支付",
    "status.CONFIRMED": "待拣货",
    "status.PICKING": "拣货中",
    "status.PACKED": "已打包",
    "status.SHIPPED": "已发货",
    "status.DELIVERED": "已送达",
    "status.CANCELLED": "已取消",
    "queue.title": "待处理订单",
    "queue.count": "共 {count} 单",
    "queue.empty": "没有待处理的订单。",
    "queue.number": "订单号",
    "queue.status": "状态",
    "queue.shipBy": "发货截止",
    "queue.left": "剩余",
    "queue.mark": "提醒",
    "queue.live": "实时更新",
    "queue.reconnecting": "正在重新连接…",
    "hours.left": "{hours} 小时",
    "hours.over": "已超时 {hours} 小时",
    "mark.atRisk": "有风险",
    "mark.breached": "已超时",
    "current.title": "当前订单",
    "current.none": "扫描订单号后在此显示。",
    "current.lines": "商品",
    "current.digital": "另有 {count} 件电子商品已发放给会员，无需拣货",
    "current.address": "收货地址",
    "current.shipBy": "发货截止",
    "figures.title": "今日数据",
    "figures.confirmed": "今日确认",
    "figures.shipped": "今日已发",
    "figures.open": "待处理",
    "figures.atRisk": "有风险",
    "figures.breached": "已超时",
    "figures.onTime": "准时率（30 天）",
    "figures.none": "—",
    "slip.title": "装箱单",
    "slip.order": "订单号",
    "slip.recipient": "收件人",
    "slip.lines": "商品清单",
    "slip.sku": "货号",
    "slip.name": "品名",
    "slip.quantity": "数量",
    "slip.shipBy": "发货截止",
  },
  en: {
    "skip": "Skip to the main content",
    "loading": "Loading…",
    "app.title": "pointsmall · Staff console",
    "lang.other": "中文",
    "lang.switch": "切换到中文",
    "signOut": "Sign out",
    "who": "{role} · {subject}",
    "role.warehouse": "Warehouse staff",
    "role.admin": "Admin",
    "role.agent": "Service agent",
    "modules.label": "Workspaces",
    "signin.title": "Staff sign-in",
    "signin.token": "Staff token",
    "signin.hint": "Paste it once: the token is kept in this browser tab only and is gone when the tab closes.",
    "signin.submit": "Sign in",
    "signin.expired": "Your sign-in has expired: paste a new token.",
    "signin.invalid": "This is not a valid staff token: check it and paste it again.",
    "signin.role": "This token ({role}) cannot use the staff console. Use a warehouse staff, service agent or admin token.",
    "signin.signedOut": "Signed out.",
    "signin.offline": "The server cannot be reached just now: try again shortly.",
    "station.title": "Warehouse station",
    "desk.title": "Service desk",
    "station.warehouse": "Warehouse",
    "station.carrier": "Carrier",
    "station.scan": "Scan",
    "station.scanHint": "Scanner or keyboard, then Enter",
    "station.noWarehouse": "This token names no warehouse you can use.",
    "prompt.scanOrder": "Scan an order number to start.",
    "prompt.CONFIRMED": "Order {number}: scan it again or press Enter to start picking.",
    "prompt.PICKING": "Order {number} is being picked: scan it again or press Enter when packed.",
    "prompt.PACKED": "Order {number} is packed: scan the {carrier} tracking number to ship it.",
    "prompt.PACKED.noCarrier": "Order {number} is packed: choose the carrier, then scan the tracking number.",
    "prompt.shipped": "✓ Order {number} shipped with {carrier}, tracking number {tracking}. Scan the next order.",
    "prompt.other": "Order {number} is {status}: nothing to do. Scan the next order.",
    "problem.NOT_FOUND": "No order {number}, or it is not one of your warehouses' orders.",
    "problem.INVALID_TRANSITION": "Order {number} is {status}: it cannot be moved to “{action}”.",
    "problem.DUPLICATE_TRACKING_NUMBER": "Tracking number {tracking} is already on another {carrier} parcel.",
    "problem.INVALID_INPUT": "Not understood: {message}",
    "problem.RATE_LIMITED": "Too many actions: wait a moment and try again.",
    "problem.network": "The server cannot be reached: try again.",
    "problem.noCarrier": "Choose the carrier first.",
    "problem.nothingOpen": "No order is open: scan an order number first.",
    "problem.unknown": "Something went wrong ({code}): {message}",
    "problem.label": "Error",
    "action.PICKING": "picking",
    "action.PACKED": "packed",
    "action.SHIPPED": "shipped",
    "button.pick": "Start picking",
    "button.pack": "Mark packed",
    "button.ship": "Ship",
    "button.print": "Print packing slip",
    "button.open": "Open",
    "tracking.label": "Tracking number",
    "status.AWAITING_PAYMENT": "Awaiting payment",
    "status.CONFIRMED": "To pick",
    "status.PICKING": "Picking",
    "status.PACKED": "Packed",
    "status.SHIPPED": "Shipped",
    "status.DELIVERED": "Delivered",
    "status.CANCELLED": "Cancelled",
    "queue.title": "Orders to ship",
    "queue.count": "{count} in all",
    "queue.empty": "No orders waiting.",
    "queue.number": "Order",
    "queue.status": "Status",
    "queue.shipBy": "Ship by",
    "queue.left": "Left",
    "queue.mark": "Alert",
    "queue.live": "Live",
    "queue.reconnecting": "Reconnecting…",
    "hours.left": "{hours} h",
    "hours.over": "{hours} h over",
    "mark.atRisk": "At risk",
    "mark.breached": "Breached",
    "current.title": "Current order",
    "current.none": "Scan an order number to show it here.",
    "current.lines": "Items",
    "current.digital": "{count} digital item(s) already delivered to the member: nothing to pick",
    "current.address": "Ship to",
    "current.shipBy": "Ship by",
    "figures.title": "Today",
    "figures.confirmed": "Confirmed today",
    "figures.shipped": "Shipped of those",
    "figures.open": "Open",
    "figures.atRisk": "At risk",
    "figures.breached": "Breached",
    "figures.onTime": "On time (30 days)",
    "figures.none": "—",
    "slip.title": "Packing slip",
    "slip.order": "Order",
    "slip.recipient": "Recipient",
    "slip.lines": "Items",
    "slip.sku": "SKU",
    "slip.name": "Item",
    "slip.quantity": "Qty",
    "slip.shipBy": "Ship by",
  },
};

/** More words, of a workspace loaded later: `{ "zh-CN": {...}, en: {...} }`. */
export function addWords(words) {
  for (const [lang, entries] of Object.entries(words)) Object.assign(WORDS[lang], entries);
}

const KEY = "pointsmall.console.lang";
const listeners = new Set();
let current = readChoice();

function readChoice() {
  try {
    const saved = localStorage.getItem(KEY);
    return saved in WORDS ? saved : "zh-CN";
  } catch {
    return "zh-CN";
  }
}

export function language() {
  return current;
}

/** The text of `key` in the current language, with `{name}` filled from `values`. */
export function t(key, values = {}) {
  const text = WORDS[current][key] ?? WORDS["zh-CN"][key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ""));
}

/** Fill every element under `root` that names a key in data-i18n. */
export function translate(root = document) {
  for (const element of root.querySelectorAll("[data-i18n]")) {
    element.textContent = t(element.dataset.i18n);
  }
}

export function onLanguageChange(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function switchLanguage() {
  current = current === "zh-CN" ? "en" : "zh-CN";
  try {
    localStorage.setItem(KEY, current);
  } catch {
    // A browser that keeps nothing still switches for this page.
  }
  apply();
  for (const listener of listeners) listener(current);
}

/** The page's language, its words, and the switch button naming the other language. */
export function apply() {
  document.documentElement.lang = current;
  document.title = t("app.title");
  translate();
  const button = document.getElementById("lang");
  button.textContent = t("lang.other");
  button.lang = current === "zh-CN" ? "en" : "zh-CN";
  button.setAttribute("aria-label", t("lang.switch"));
}
