// The catalog: search, price range, sort, and "load more" over the API's cursor pages. The
// filters live in the URL, so a search can be bookmarked and the back button works.

import { api, query } from "../api.js";
import { formatMoney, parseMajor } from "../money.js";
import { empty, field, h, link, onLoadMore, productImage, stockState } from "../ui.js";

// Price filters are typed in a two-decimal currency (the demo catalog's EUR); the API takes
// minor units.
const FILTER_CURRENCY = "EUR";

export function productCard(p) {
  return h(
    "li",
    { class: "card" },
    productImage(p),
    h(
      "div",
      { class: "body" },
      h("h2", {}, link(`/products/${encodeURIComponent(p.slug)}`, p.name)),
      h("span", { class: "price" }, formatMoney(p.price)),
      stockState(p.stock),
    ),
  );
}

export async function catalogView(main, _params, q, { navigate }) {
  const text = q.get("q") || "";
  const min = q.get("min") || "";
  const max = q.get("max") || "";
  const sort = q.get("sort") || "newest";
  const error = h("p", { class: "form-error", role: "alert" });
  const form = h(
    "form",
    { class: "inline", role: "search", "aria-label": "Products" },
    field({ label: "Search", name: "q", type: "search", value: text }),
    field({ label: "Min price (€)", name: "min", inputmode: "decimal", value: min, size: 6 }),
    field({ label: "Max price (€)", name: "max", inputmode: "decimal", value: max, size: 6 }),
    field({
      label: "Sort by",
      name: "sort",
      value: sort,
      options: [
        ["newest", "Newest"],
        ["name", "Name"],
        ["price_asc", "Price, low to high"],
        ["price_desc", "Price, high to low"],
      ],
    }),
    h("button", { type: "submit" }, "Search"),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const data = new FormData(form);
    navigate(`/${query({ q: data.get("q").trim(), min: data.get("min").trim(), max: data.get("max").trim(), sort: data.get("sort") === "newest" ? "" : data.get("sort") })}`);
  });
  main.append(h("h1", {}, "Catalog"), form, error);

  const params = { q: text, sort, limit: 12 };
  for (const [name, value] of [["min_price", min], ["max_price", max]]) {
    if (!value) continue;
    const minor = parseMajor(value, FILTER_CURRENCY);
    if (minor === null) {
      error.textContent = `${value} is not a price (for example 12.50).`;
      return;
    }
    params[name] = minor;
  }
  const list = h("ul", { class: "grid", "aria-label": "Products" });
  const more = h("button", { type: "button", class: "secondary" }, "Load more");
  const page = await api("GET", `/api/products${query(params)}`);
  if (page.items.length === 0) {
    main.append(empty(text || min || max ? "No products match your search." : "The catalog is empty."));
    return;
  }
  list.append(...page.items.map(productCard));
  main.append(list);
  let cursor = page.next_cursor;
  if (cursor) {
    onLoadMore(more, async () => {
      const next = await api("GET", `/api/products${query({ ...params, cursor })}`);
      const first = list.children.length;
      list.append(...next.items.map(productCard));
      cursor = next.next_cursor;
      if (!cursor) more.remove();
      list.children[first]?.querySelector("a")?.focus();
    });
    main.append(h("div", { class: "actions" }, more));
  }
}
