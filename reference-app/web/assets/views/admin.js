// The admin console: products (create, edit, activate or deactivate, delete, adjust stock
// with a reason), every user's orders with the status filter and only the transitions the
// order's lifecycle allows next, and the low-stock list. Admins only: anyone else sees a
// refusal (and the API refuses them anyway).

import { api, Problem, query } from "../api.js";
import { formatMoney, majorString, parseMajor } from "../money.js";
import { ROOT } from "../root.js";
import * as session from "../session.js";
import {
  announce, busy, empty, explain, field, fieldError, formError, h, link, onLoadMore, onSubmit, shortId,
  when,
} from "../ui.js";
import { STATUS_WORDS } from "./orders.js";

const TABS = [
  ["products", "Products"],
  ["orders", "Orders"],
  ["low-stock", "Low stock"],
];

const ACTION_WORDS = {
  paid: "Mark paid",
  shipped: "Mark shipped",
  delivered: "Mark delivered",
  cancelled: "Cancel order",
};

function tabs(current) {
  return h(
    "nav",
    { "aria-label": "Admin" },
    h("ul", { class: "tabs" }, TABS.map(([path, label]) => {
      const a = link(`/admin/${path}`, label);
      if (path === current) a.setAttribute("aria-current", "page");
      return h("li", {}, a);
    })),
  );
}

export async function adminView(main, [rest = ""], q, ctx) {
  if (!session.user()) {
    main.append(h("h1", {}, "Admin"), h("p", {}, link("/sign-in?next=%2Fadmin", "Sign in"), " with an administrator account."));
    return;
  }
  if (!session.isAdmin()) {
    main.append(h("h1", {}, "Admin"), h("p", { class: "notice error" }, "This area is for administrators. Your account cannot use it."));
    return;
  }
  const parts = rest.split("/").filter(Boolean);
  if (parts.length === 0) return ctx.navigate("/admin/products", { replace: true });
  if (parts[0] === "products" && parts[1] === "new") return productForm(main, null, ctx);
  if (parts[0] === "products" && parts[1]) return productPage(main, parts[1], ctx);
  if (parts[0] === "products") return productList(main, q, ctx);
  if (parts[0] === "orders") return orderList(main, q, ctx);
  if (parts[0] === "low-stock") return lowStock(main, q, ctx);
  main.append(h("h1", {}, "Page not found"), h("p", {}, link("/admin", "Admin home")));
  return undefined;
}

function productRow(p) {
  return h(
    "tr",
    {},
    h("td", {}, link(`/admin/products/${p.id}`, p.name)),
    h("td", {}, p.sku),
    h("td", { class: "num" }, formatMoney(p.price)),
    h("td", { class: "num" }, p.stock),
    h("td", {}, p.active ? "Active" : h("span", { class: "badge" }, "Inactive")),
  );
}

function productTable(rows) {
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      {},
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Name"), h("th", { scope: "col" }, "SKU"), h("th", { scope: "col", class: "num" }, "Price"), h("th", { scope: "col", class: "num" }, "Stock"), h("th", { scope: "col" }, "State"))),
      rows,
    ),
  );
}

/** A product table fed by pages of `path` (a query without `cursor`), with "load more". */
async function pagedProducts(main, params) {
  const body = h("tbody");
  const more = h("button", { type: "button", class: "secondary" }, "Load more");
  let cursor = null;
  async function load() {
    const page = await api("GET", `/api/products${query({ ...params, cursor })}`, { auth: true });
    body.append(...page.items.map(productRow));
    cursor = page.next_cursor;
    more.hidden = !cursor;
    return page.items.length;
  }
  const n = await load();
  onLoadMore(more, load);
  main.append(productTable(body), h("div", { class: "actions" }, more));
  return n;
}

async function productList(main) {
  main.append(
    h("h1", {}, "Products"),
    tabs("products"),
    h("div", { class: "actions" }, h("a", { href: `${ROOT}/admin/products/new`, "data-link": true, class: "button" }, "New product")),
  );
  if ((await pagedProducts(main, { sort: "name", limit: 25 })) === 0) main.append(empty("No products yet."));
}

/** The product fields as the form shows them. */
function productFields(p, currency) {
  const editing = !!p;
  return [
    field({ label: "SKU", name: "sku", value: p?.sku, required: true, maxlength: 64, hint: "Letters, digits, '.', '_' and '-'; stored in capitals." }),
    field({ label: "Name", name: "name", value: p?.name, required: true, maxlength: 200 }),
    field({ label: "URL name (slug)", name: "slug", value: p?.slug, maxlength: 128, hint: "Lower-case letters, digits and '-'. Leave empty to derive it from the name." }),
    field({ label: "Description", name: "description", type: "textarea", value: p?.description }),
    field({ label: "Image URL", name: "image_url", value: p?.image_url, hint: "An absolute http(s) URL or a path on this site (/assets/…), or empty for none." }),
    field({ label: `Price (${currency})`, name: "price", inputmode: "decimal", value: p ? majorString(p.price.minor, p.price.currency) : "", required: true, hint: "For example 12.50." }),
    field({ label: "Currency", name: "currency", value: currency, required: true, maxlength: 3, hint: "ISO 4217 code, e.g. EUR." }),
    editing ? null : field({ label: "Stock", name: "stock", type: "number", value: 0, min: 0, required: true }),
    field({ label: "For sale", name: "active", type: "checkbox", value: p ? p.active : true }),
  ];
}

/** The form's values as an API body; null (with the error shown) when the price is not one. */
function productBody(form) {
  const data = new FormData(form);
  const currency = String(data.get("currency")).trim().toUpperCase();
  const minor = parseMajor(data.get("price"), currency);
  if (minor === null) {
    fieldError(form, "price", `Not a price in ${currency || "this currency"} (for example 12.50).`);
    return null;
  }
  const text = (name) => String(data.get(name) ?? "").trim();
  const body = {
    sku: text("sku"),
    name: text("name"),
    description: text("description"),
    image_url: text("image_url") || null,
    price_minor: minor,
    currency,
    active: data.get("active") === "on",
  };
  if (text("slug")) body.slug = text("slug");
  if (data.has("stock")) body.stock = Number(data.get("stock"));
  return body;
}

const FIELD_ALIASES = { price_minor: "price", price: "price" };

async function productForm(main, product, { navigate }) {
  const save = h("button", { type: "submit" }, product ? "Save changes" : "Create product");
  const form = h("form", { class: "stack", "aria-labelledby": "product-form-heading", novalidate: true }, formError(), productFields(product, product?.price.currency || "EUR"), save);
  onSubmit(form, save, async () => {
    const body = productBody(form);
    if (!body) return;
    if (product) {
      // Only what changed: a patch leaves the rest as it is.
      const patch = {};
      for (const [k, v] of Object.entries(body)) {
        const was = k === "price_minor" ? product.price.minor : k === "currency" ? product.price.currency : product[k] ?? (k === "image_url" ? null : "");
        if (v !== was) patch[k] = v;
      }
      if ("price_minor" in patch || "currency" in patch) Object.assign(patch, { price_minor: body.price_minor, currency: body.currency });
      await api("PATCH", `/api/products/${product.id}`, { auth: true, body: patch });
      navigate(`/admin/products/${product.id}`, { replace: true, message: "The product is saved." });
    } else {
      const created = await api("POST", "/api/products", { auth: true, body });
      navigate(`/admin/products/${created.id}`, { message: `${created.name} is created.` });
    }
  }, FIELD_ALIASES);
  main.append(h("h1", { id: "product-form-heading" }, product ? `Edit ${product.name}` : "New product"), tabs("products"), form);
}

async function productPage(main, id, ctx) {
  let product;
  try {
    product = await api("GET", `/api/products/${encodeURIComponent(id)}`, { auth: true });
  } catch (e) {
    if (e instanceof Problem && e.status === 404) {
      main.append(h("h1", {}, "Product not found"), h("p", {}, link("/admin/products", "All products")));
      return;
    }
    throw e;
  }
  await productForm(main, product, ctx);

  const adjust = h("button", { type: "submit" }, "Adjust stock");
  const stockForm = h(
    "form",
    { class: "stack", "aria-labelledby": "stock-heading", novalidate: true },
    h("h2", { id: "stock-heading" }, "Stock"),
    h("p", {}, `${product.stock} in stock.`),
    formError(),
    field({ label: "Change", name: "delta", type: "number", required: true, hint: "Units to add, or a negative number to remove." }),
    field({ label: "Reason", name: "reason", required: true, maxlength: 200, hint: "A delivery, a stock count, breakage… It goes to the audit log." }),
    adjust,
  );
  onSubmit(stockForm, adjust, async (data) => {
    const delta = Number(data.get("delta"));
    const reason = String(data.get("reason")).trim();
    let bad = false;
    if (!Number.isInteger(delta) || delta === 0) bad = fieldError(stockForm, "delta", "A whole number other than 0.");
    if (!reason) bad = fieldError(stockForm, "reason", "Say why the stock changes.") || bad;
    if (bad) return;
    try {
      const p = await api("POST", `/api/products/${product.id}/stock`, { auth: true, body: { delta, reason } });
      ctx.navigate(`/admin/products/${product.id}`, { replace: true, message: `Stock of ${p.name} is now ${p.stock}.` });
    } catch (err) {
      if (err.code !== "insufficient_stock") throw err;
      fieldError(stockForm, "delta", `Only ${product.stock} in stock: that would go below zero.`);
    }
  });

  const toggle = h("button", { type: "button", class: "secondary" }, product.active ? "Stop selling (deactivate)" : "Sell again (activate)");
  toggle.addEventListener("click", () => busy(toggle, async () => {
    try {
      await api("PATCH", `/api/products/${product.id}`, { auth: true, body: { active: !product.active } });
      ctx.navigate(`/admin/products/${product.id}`, { replace: true, message: product.active ? "The product is no longer for sale." : "The product is for sale again." });
    } catch (err) {
      announce(explain(err), { error: true });
    }
  }));
  const remove = h("button", { type: "button", class: "danger" }, "Delete product");
  remove.addEventListener("click", () => busy(remove, async () => {
    if (!window.confirm(`Delete ${product.name}? Orders keep their copy of it; carts lose it.`)) return;
    try {
      await api("DELETE", `/api/products/${product.id}`, { auth: true });
      ctx.navigate("/admin/products", { message: `${product.name} is deleted.` });
    } catch (err) {
      announce(explain(err), { error: true });
    }
  }));
  main.append(stockForm, h("h2", {}, "Availability"), h("div", { class: "actions" }, toggle, remove));
}

async function orderList(main, q, { navigate }) {
  const status = q.get("status") || "";
  const filter = h(
    "form",
    { class: "inline", "aria-label": "Filter orders" },
    field({ label: "Status", name: "status", value: status, options: [["", "All"], ...Object.entries(STATUS_WORDS)] }),
    h("button", { type: "submit" }, "Show"),
  );
  filter.addEventListener("submit", (e) => {
    e.preventDefault();
    navigate(`/admin/orders${query({ status: new FormData(filter).get("status") })}`);
  });
  main.append(h("h1", {}, "Orders"), tabs("orders"), filter);

  const body = h("tbody");
  const more = h("button", { type: "button", class: "secondary" }, "Older orders");
  let cursor = null;
  function row(o) {
    const actions = h("div", { class: "actions" });
    const tr = h(
      "tr",
      { dataset: { order: o.id } },
      h("td", {}, shortId(o.id)),
      h("td", {}, when(o.created_at)),
      h("td", {}, shortId(o.user_id)),
      h("td", { class: "num" }, formatMoney(o.total)),
      h("td", {}, h("span", { class: "badge" }, STATUS_WORDS[o.status])),
      h("td", {}, actions),
    );
    for (const next of o.next_statuses) {
      const b = h("button", { type: "button", class: next === "cancelled" ? "danger" : "secondary" }, ACTION_WORDS[next] || next);
      b.addEventListener("click", () => busy(b, async () => {
        try {
          const updated = await api("PUT", `/api/orders/${o.id}/status`, { auth: true, body: { status: next } });
          tr.replaceWith(row(updated));
          announce(`Order ${shortId(o.id)} is now ${STATUS_WORDS[updated.status].toLowerCase()}.`);
        } catch (err) {
          announce(explain(err), { error: true });
        }
      }));
      actions.append(b);
    }
    if (!o.next_statuses.length) actions.append(h("span", { class: "empty" }, "Final"));
    return tr;
  }
  async function load() {
    const page = await api("GET", `/api/orders${query({ status, limit: 25, cursor })}`, { auth: true });
    body.append(...page.items.map(row));
    cursor = page.next_cursor;
    more.hidden = !cursor;
    return page.items.length;
  }
  if ((await load()) === 0) {
    main.append(empty(status ? "No orders with this status." : "No orders yet."));
    return;
  }
  onLoadMore(more, load);
  main.append(
    h("div", { class: "table-wrap" }, h("table", {}, h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Order"), h("th", { scope: "col" }, "Placed"), h("th", { scope: "col" }, "Customer"), h("th", { scope: "col", class: "num" }, "Total"), h("th", { scope: "col" }, "Status"), h("th", { scope: "col" }, "Next step"))), body)),
    h("div", { class: "actions" }, more),
  );
}

async function lowStock(main, q, { navigate }) {
  const threshold = Number.parseInt(q.get("max") || "5", 10);
  const form = h(
    "form",
    { class: "inline", "aria-label": "Low stock threshold" },
    field({ label: "At most (units)", name: "max", type: "number", min: 0, value: Number.isNaN(threshold) ? 5 : threshold }),
    h("button", { type: "submit" }, "Show"),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    navigate(`/admin/low-stock${query({ max: new FormData(form).get("max") })}`);
  });
  main.append(h("h1", {}, "Low stock"), tabs("low-stock"), form);
  if ((await pagedProducts(main, { max_stock: Number.isNaN(threshold) ? 5 : Math.max(0, threshold), sort: "name", limit: 50 })) === 0) {
    main.append(empty("Nothing is running low."));
  }
}
