// The cart and checkout. Checkout is safe against a double click and a flaky network: each
// attempt has one Idempotency-Key, made when the cart is shown and reused by every retry of
// that attempt, and it confirms the cart version the person saw (a cart changed meanwhile is
// refused rather than ordered).

import { api, Problem } from "../api.js";
import { formatMoney } from "../money.js";
import * as session from "../session.js";
import { announce, busy, empty, explain, h, link } from "../ui.js";
import { requireSignIn } from "./account.js";

function newKey() {
  return crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(16).slice(2)}`;
}

/** Places the order, retrying network failures with the same key; the order. */
async function placeOrder(cartVersion, key) {
  for (let attempt = 0; ; attempt++) {
    try {
      return await api("POST", "/api/checkout", { auth: true, idempotencyKey: key, body: { cart_version: cartVersion } });
    } catch (e) {
      const retryable = e instanceof Problem && (e.status === 0 || e.status === 502 || e.status === 503 || e.status === 504);
      if (!retryable || attempt >= 3) throw e;
      await new Promise((r) => setTimeout(r, 400 * 2 ** attempt));
    }
  }
}

export async function cartView(main, _params, _q, { navigate }) {
  if (!session.user()) return requireSignIn(main, "/cart");
  const view = await api("GET", "/api/cart", { auth: true });
  main.append(h("h1", {}, "Your cart"));
  const hasLines = view.lines.length + view.unavailable.length > 0;
  if (!hasLines) {
    main.append(empty("Your cart is empty."), h("p", {}, link("/", "Browse the catalog")));
    return;
  }

  async function change(method, path, body, message) {
    try {
      await api(method, path, { auth: true, body });
      navigate("/cart", { replace: true, message });
    } catch (e) {
      announce(explain(e), { error: true });
    }
  }

  const rows = view.lines.map((line) => {
    const p = line.product;
    const qty = h("input", { type: "number", min: 1, max: 999, value: line.quantity, id: `qty-${p.id}`, "aria-label": `Quantity of ${p.name}`, class: "qty" });
    const update = h("button", { type: "button", class: "secondary" }, "Update");
    update.addEventListener("click", () => busy(update, () => change("PATCH", `/api/cart/items/${p.id}`, { quantity: Number(qty.value) }, `Quantity of ${p.name} is now ${qty.value}.`)));
    const remove = h("button", { type: "button", class: "secondary" }, "Remove");
    remove.addEventListener("click", () => busy(remove, () => change("DELETE", `/api/cart/items/${p.id}`, undefined, `${p.name} is out of your cart.`)));
    return h(
      "tr",
      {},
      h("td", {}, link(`/products/${encodeURIComponent(p.slug)}`, p.name)),
      h("td", { class: "num" }, formatMoney(p.price)),
      h("td", {}, h("div", { class: "actions" }, qty, update)),
      h("td", { class: "num" }, formatMoney(line.line_total)),
      h("td", {}, remove),
    );
  });
  if (rows.length) {
    main.append(
      h(
        "div",
        { class: "table-wrap" },
        h(
          "table",
          {},
          h("caption", { class: "visually-hidden" }, "Cart lines"),
          h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Product"), h("th", { scope: "col", class: "num" }, "Price"), h("th", { scope: "col" }, "Quantity"), h("th", { scope: "col", class: "num" }, "Total"), h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Actions")))),
          h("tbody", {}, rows),
        ),
      ),
    );
  }

  if (view.unavailable.length) {
    const items = view.unavailable.map((line) => {
      const remove = h("button", { type: "button", class: "secondary" }, "Remove");
      remove.addEventListener("click", () => busy(remove, () => change("DELETE", `/api/cart/items/${line.product_id}`, undefined, "The unavailable product is out of your cart.")));
      return h("li", {}, `A product that is no longer for sale (${line.quantity} ×) `, remove);
    });
    main.append(
      h("h2", {}, "No longer available"),
      h("p", { class: "notice error" }, "Remove these before you check out."),
      h("ul", {}, items),
    );
  }

  if (view.total) main.append(h("p", { class: "summary" }, "Total: ", h("strong", { class: "price" }, formatMoney(view.total))));

  // One key for this attempt at this cart version; a double click or a retry reuses it.
  const key = newKey();
  const version = view.cart.version;
  const checkout = h("button", { type: "button", disabled: view.unavailable.length > 0 || view.lines.length === 0 }, "Place order");
  checkout.addEventListener("click", () => busy(checkout, async () => {
    try {
      const order = await placeOrder(version, key);
      navigate(`/orders/${order.id}`, { message: "Thank you: your order is placed." });
    } catch (e) {
      if (e instanceof Problem && e.code === "cart_changed") {
        navigate("/cart", { replace: true, message: explain(e) });
      } else {
        announce(explain(e), { error: true });
      }
    }
  }));
  const clear = h("button", { type: "button", class: "secondary" }, "Empty cart");
  clear.addEventListener("click", () => busy(clear, () => change("DELETE", "/api/cart", undefined, "Your cart is empty.")));
  main.append(h("div", { class: "actions" }, checkout, clear));
}
