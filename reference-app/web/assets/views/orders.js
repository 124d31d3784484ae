// The signed-in person's orders, and an order's page (with cancel while it has not shipped).

import { api, query } from "../api.js";
import { formatMoney } from "../money.js";
import * as session from "../session.js";
import { announce, busy, empty, explain, h, link, onLoadMore, shortId, when } from "../ui.js";
import { requireSignIn } from "./account.js";

export const STATUS_WORDS = {
  pending: "Awaiting payment",
  paid: "Paid",
  shipped: "Shipped",
  delivered: "Delivered",
  cancelled: "Cancelled",
};

export async function ordersView(main) {
  if (!session.user()) return requireSignIn(main, "/orders");
  main.append(h("h1", {}, "Your orders"));
  const body = h("tbody");
  const more = h("button", { type: "button", class: "secondary" }, "Older orders");
  let cursor = null;
  async function load() {
    const page = await api("GET", `/api/orders${query({ limit: 20, cursor })}`, { auth: true });
    body.append(
      ...page.items.map((o) =>
        h("tr", {}, h("td", {}, link(`/orders/${o.id}`, `Order ${shortId(o.id)}`)), h("td", {}, when(o.created_at)), h("td", {}, STATUS_WORDS[o.status]), h("td", { class: "num" }, formatMoney(o.total))),
      ),
    );
    cursor = page.next_cursor;
    more.hidden = !cursor;
    return page.items.length;
  }
  if ((await load()) === 0) {
    main.append(empty("You have no orders yet."), h("p", {}, link("/", "Browse the catalog")));
    return;
  }
  onLoadMore(more, load);
  main.append(
    h("div", { class: "table-wrap" }, h("table", {}, h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Order"), h("th", { scope: "col" }, "Placed"), h("th", { scope: "col" }, "Status"), h("th", { scope: "col", class: "num" }, "Total"))), body)),
    h("div", { class: "actions" }, more),
  );
}

export async function orderView(main, [id], _q, { navigate }) {
  if (!session.user()) return requireSignIn(main, `/orders/${id}`);
  const o = await api("GET", `/api/orders/${encodeURIComponent(id)}`, { auth: true });
  main.append(
    h("h1", {}, `Order ${shortId(o.id)}`),
    h("dl", { class: "facts" }, h("dt", {}, "Status"), h("dd", {}, h("span", { class: "badge", id: "order-status" }, STATUS_WORDS[o.status])), h("dt", {}, "Placed"), h("dd", {}, when(o.created_at)), h("dt", {}, "Total"), h("dd", { class: "price" }, formatMoney(o.total))),
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        {},
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Product"), h("th", { scope: "col" }, "SKU"), h("th", { scope: "col", class: "num" }, "Price"), h("th", { scope: "col", class: "num" }, "Quantity"), h("th", { scope: "col", class: "num" }, "Total"))),
        h("tbody", {}, o.lines.map((l) => h("tr", {}, h("td", {}, l.name), h("td", {}, l.sku), h("td", { class: "num" }, formatMoney(l.unit_price)), h("td", { class: "num" }, l.quantity), h("td", { class: "num" }, formatMoney(l.line_total))))),
      ),
    ),
  );
  if (o.next_statuses.includes("cancelled")) {
    const cancel = h("button", { type: "button", class: "danger" }, "Cancel order");
    cancel.addEventListener("click", () => busy(cancel, async () => {
      try {
        await api("POST", `/api/orders/${o.id}/cancel`, { auth: true });
        navigate(`/orders/${o.id}`, { replace: true, message: "Your order is cancelled." });
      } catch (e) {
        announce(explain(e), { error: true });
      }
    }));
    main.append(h("div", { class: "actions" }, cancel));
  }
  main.append(h("p", {}, link("/orders", "All your orders")));
}
