// The client-side router: every page of the storefront and the admin console is a view
// rendered into <main> from the path; links with `data-link` are followed without a reload.

import { ROOT, pageUrl } from "./root.js";
import * as session from "./session.js";
import { announce, explain, h, link, loading } from "./ui.js";
import { catalogView } from "./views/catalog.js";
import { productView } from "./views/product.js";
import { registerView, signInView } from "./views/auth.js";
import { accountView } from "./views/account.js";
import { cartView } from "./views/cart.js";
import { orderView, ordersView } from "./views/orders.js";
import { adminView } from "./views/admin.js";

const routes = [
  [/^\/$/, catalogView],
  [/^\/products\/([^/]+)$/, productView],
  [/^\/cart$/, cartView],
  [/^\/orders$/, ordersView],
  [/^\/orders\/([^/]+)$/, orderView],
  [/^\/account$/, accountView],
  [/^\/sign-in$/, signInView],
  [/^\/register$/, registerView],
  [/^\/admin(?:\/(.*))?$/, adminView],
];

const main = document.getElementById("main");

// At phone width a table becomes one card per row (style.css), each cell preceded by its
// column's name: the cells learn their names here, whenever rows are added (pages, "load
// more"). Explicit roles keep the table's meaning for screen readers once its display changes.
function labelTables() {
  for (const table of main.querySelectorAll("table")) {
    const names = [...table.querySelectorAll("thead th")].map((th) => th.textContent.trim());
    table.setAttribute("role", "table");
    for (const part of table.querySelectorAll("thead, tbody")) part.setAttribute("role", "rowgroup");
    for (const th of table.querySelectorAll("thead th")) th.setAttribute("role", "columnheader");
    for (const row of table.querySelectorAll("tr")) {
      row.setAttribute("role", "row");
      [...row.querySelectorAll(":scope > td")].forEach((cell, i) => {
        cell.setAttribute("role", "cell");
        if (names[i]) cell.dataset.label = names[i];
      });
    }
  }
}
new MutationObserver(labelTables).observe(main, { childList: true, subtree: true });

function currentPath() {
  let p = location.pathname;
  if (ROOT && p.startsWith(ROOT)) p = p.slice(ROOT.length);
  return p || "/";
}

/** Goes to `path` (inside the app) and renders it; `message` is announced once there. */
export function navigate(path, { replace = false, message } = {}) {
  const url = pageUrl(path);
  if (replace) history.replaceState({}, "", url);
  else history.pushState({}, "", url);
  render(message);
}

function renderNav() {
  const nav = document.getElementById("nav");
  const user = session.user();
  const items = [link("/", "Catalog"), link("/cart", "Cart")];
  if (user) items.push(link("/orders", "Orders"), link("/account", "Account"));
  else items.push(link("/sign-in", "Sign in"), link("/register", "Register"));
  if (session.isAdmin()) items.push(link("/admin", "Admin"));
  nav.replaceChildren(...items.map((a) => h("li", {}, a)));
  const here = currentPath();
  for (const a of nav.querySelectorAll("a")) {
    const path = a.getAttribute("href").slice(ROOT.length) || "/";
    const current = path === "/" ? here === "/" : here === path || here.startsWith(`${path}/`);
    if (current) a.setAttribute("aria-current", "page");
  }
}

let rendering = 0;

async function render(message) {
  const mine = ++rendering;
  const path = currentPath();
  const query = new URLSearchParams(location.search);
  renderNav();
  announce(message || "");
  const found = routes.find(([re]) => re.test(path));
  main.replaceChildren(loading());
  if (!found) {
    main.replaceChildren(h("h1", {}, "Page not found"), h("p", {}, link("/", "Back to the catalog")));
    return;
  }
  const [re, view] = found;
  const params = re.exec(path).slice(1).map((p) => (p === undefined ? p : decodeURIComponent(p)));
  try {
    const content = document.createElement("div");
    await view(content, params, query, { navigate });
    if (mine !== rendering) return; // a newer navigation won
    main.replaceChildren(...content.childNodes);
  } catch (e) {
    if (mine !== rendering) return;
    main.replaceChildren(h("h1", {}, "Something went wrong"), h("p", { class: "notice error" }, explain(e)));
  }
  const heading = main.querySelector("h1");
  document.title = heading ? `${heading.textContent} · Shop` : "Shop";
  if (message !== undefined || history.state) main.focus({ preventScroll: true });
}

document.addEventListener("click", (e) => {
  const a = e.target.closest("a[data-link]");
  if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const url = new URL(a.href);
  if (url.origin !== location.origin) return;
  e.preventDefault();
  let path = url.pathname;
  if (ROOT && path.startsWith(ROOT)) path = path.slice(ROOT.length);
  navigate((path || "/") + url.search);
});

// The skip link moves focus to the page's content without leaving it.
document.getElementById("skip-link").addEventListener("click", (e) => {
  e.preventDefault();
  main.focus();
});

window.addEventListener("popstate", () => render());
session.onChange(() => renderNav());
session.restore().finally(() => render());
