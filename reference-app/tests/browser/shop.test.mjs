// The storefront, the admin console and the API docs in headless Chromium, as a person uses
// them; every page visited is checked for console errors, requests to other origins and
// serious accessibility violations (axe-core). Screenshots go to target/browser-screenshots.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import {
  ADMIN_EMAIL, ADMIN_PASSWORD, apiCall, assertClean, launch, startApp, tokenFor, watchedPage,
} from "./harness.mjs";

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

async function stockOf(app, slug) {
  const r = await apiCall(app, "GET", `/api/products/${slug}`);
  return r.data.stock;
}

/** Waits for the status area to say `text`. */
async function said(page, text) {
  await page.locator("#status").getByText(text).waitFor();
}

/** Signs in on the sign-in page the browser shows. */
async function signIn(page, email, password) {
  await page.getByLabel("Email", { exact: true }).fill(email);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await said(page, "Welcome back");
}

/** The shopper's whole story; `shots` names screenshots (or skips them). */
async function shopperStory(app, page, { shots = false } = {}) {
  const email = `shopper-${Date.now()}-${Math.random().toString(16).slice(2)}@example.com`;
  const password = "a shopper passphrase";
  const mugBefore = await stockOf(app, "classic-mug");
  const teapotBefore = await stockOf(app, "sand-teapot");

  await page.goto(`${app.base}/`);
  await page.getByRole("heading", { name: "Catalog" }).waitFor();
  await page.check();
  if (shots) await page.shot("storefront");

  await page.getByRole("link", { name: "Register" }).click();
  await page.getByLabel("Name", { exact: true }).fill("Sam Shopper");
  await page.getByLabel("Email", { exact: true }).fill(email);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.check();
  await page.getByRole("button", { name: "Create account" }).click();
  await said(page, "Welcome, Sam Shopper");

  // The catalog pages: "load more" appends the next cursor page; a price range and a sort
  // come back as the API answers them.
  const cards = page.getByRole("list", { name: "Products" }).getByRole("listitem");
  const shown = await cards.count();
  await page.getByRole("button", { name: "Load more" }).click();
  await page.waitForFunction((n) => document.querySelectorAll("ul.grid > li").length > n, shown);
  await page.getByLabel("Min price (€)").fill("10");
  await page.getByLabel("Max price (€)").fill("20.50");
  await page.getByLabel("Sort by").selectOption("price_asc");
  await page.getByRole("button", { name: "Search" }).click();
  await page.waitForURL(/sort=price_asc/);
  const expected = await apiCall(app, "GET", "/api/products?min_price=1000&max_price=2050&sort=price_asc&limit=12");
  const names = await page.getByRole("list", { name: "Products" }).getByRole("heading").allTextContents();
  assert.deepEqual(names, expected.data.items.map((p) => p.name), "the filtered, sorted page");
  assert.ok(names.length > 1);

  // Search, then open a product by its slug.
  await page.getByLabel("Search").fill("mug");
  await page.getByRole("button", { name: "Search" }).click();
  await page.getByRole("link", { name: "Classic Mug", exact: true }).click();
  await page.getByRole("heading", { name: "Classic Mug", level: 1 }).waitFor();
  assert.ok(page.url().endsWith("/products/classic-mug"), page.url());

  // A review.
  await page.getByLabel("Rating").selectOption("4");
  await page.getByLabel("Title", { exact: true }).fill("Sturdy and warm");
  await page.getByLabel("Review", { exact: true }).fill("Holds a large tea; survives the dishwasher.");
  await page.getByRole("button", { name: "Post review" }).click();
  await page.getByText("4.0 out of 5 from 1 review").waitFor();
  await page.getByRole("heading", { name: "Sturdy and warm" }).waitFor();
  await page.check();
  if (shots) await page.shot("product");

  // Two products in the cart.
  await page.getByRole("button", { name: "Add to cart" }).click();
  await said(page, "Classic Mug is in your cart.");
  await page.goto(`${app.base}/?q=teapot`);
  await page.getByRole("link", { name: "Sand Teapot", exact: true }).click();
  await page.getByRole("button", { name: "Add to cart" }).click();
  await said(page, "Sand Teapot is in your cart.");

  // The cart: change a quantity.
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Cart" }).click();
  await page.getByRole("heading", { name: "Your cart" }).waitFor();
  await page.getByLabel("Quantity of Classic Mug").fill("2");
  await page.getByRole("row", { name: /Classic Mug/ }).getByRole("button", { name: "Update" }).click();
  await said(page, "Quantity of Classic Mug is now 2.");
  await page.check();
  if (shots) await page.shot("cart");

  // Checkout with a double click: one order.
  await page.getByRole("button", { name: "Place order" }).dblclick();
  await said(page, "Thank you: your order is placed.");
  await page.getByRole("heading", { name: /^Order / }).waitFor();
  const token = await tokenFor(app, email, password);
  const orders = await apiCall(app, "GET", "/api/orders", { token });
  assert.equal(orders.data.items.length, 1, "a double click placed exactly one order");
  assert.equal(await stockOf(app, "classic-mug"), mugBefore - 2);
  assert.equal(await stockOf(app, "sand-teapot"), teapotBefore - 1);
  await page.check();

  // The order list, the account page, and the admin console's refusal.
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Orders" }).click();
  await page.getByRole("heading", { name: "Your orders" }).waitFor();
  await page.check();
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Account" }).click();
  await page.getByRole("heading", { name: "Your account" }).waitFor();
  await page.check();
  // A new name and a new password; then signed out, and back in with the new password.
  await page.getByLabel("Name", { exact: true }).fill("Sam Buyer");
  await page.getByRole("button", { name: "Save name" }).click();
  await said(page, "Your name is saved.");
  const newPassword = "another shopper passphrase";
  await page.getByLabel("Current password").fill(password);
  await page.getByLabel("New password").fill(newPassword);
  await page.getByRole("button", { name: "Change password" }).click();
  await said(page, "Your password is changed.");
  await page.getByRole("button", { name: "Sign out" }).click();
  await said(page, "You are signed out.");
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Sign in" }).click();
  await page.getByLabel("Email", { exact: true }).fill(email);
  await page.getByLabel("Password", { exact: true }).fill(newPassword);
  await page.getByRole("button", { name: "Sign in" }).click();
  await said(page, "Welcome back, Sam Buyer.");
  await page.goto(`${app.base}/admin`);
  await page.getByText("This area is for administrators.").waitFor();
  await page.check();

  // Back to the order (a reload: the session survives it) and cancel it: stock comes back.
  await page.goto(`${app.base}/orders/${orders.data.items[0].id}`);
  await page.getByRole("button", { name: "Cancel order" }).click();
  await said(page, "Your order is cancelled.");
  await page.locator("#order-status").getByText("Cancelled").waitFor();
  assert.equal(await stockOf(app, "classic-mug"), mugBefore);
  assert.equal(await stockOf(app, "sand-teapot"), teapotBefore);
  await page.check();
}

describe("storefront", () => {
  test("a shopper registers, searches, reviews, fills a cart, checks out once and cancels", async () => {
    const app = await startApp();
    const page = await watchedPage(browser, app.origin);
    try {
      await shopperStory(app, page, { shots: true });
      assertClean(assert, page);
    } finally {
      await page.context().close();
      await app.stop();
    }
  });

  test("under ROOT_PATH=/shop the same story works", async () => {
    const app = await startApp({ root: "/shop" });
    const page = await watchedPage(browser, app.origin);
    try {
      await shopperStory(app, page);
      assert.ok(page.url().startsWith(`${app.origin}/shop/`), page.url());
      assertClean(assert, page);
    } finally {
      await page.context().close();
      await app.stop();
    }
  });

  test("at phone width (390 px) no page scrolls sideways or cuts anything off", async () => {
    const app = await startApp();
    // A customer with an order and a cart line, placed through the API.
    const email = "phone@example.com";
    const password = "a phone passphrase";
    await apiCall(app, "POST", "/api/auth/register", { body: { email, password, display_name: "Phone Shopper With A Long Name" } });
    const token = await tokenFor(app, email, password);
    const mug = (await apiCall(app, "GET", "/api/products/classic-mug")).data;
    await apiCall(app, "POST", "/api/cart/items", { token, body: { product_id: mug.id, quantity: 2 } });
    const order = await apiCall(app, "POST", "/api/checkout", { token, headers: { "Idempotency-Key": "phone-1" } });
    assert.equal(order.status, 201);
    await apiCall(app, "POST", "/api/cart/items", { token, body: { product_id: mug.id, quantity: 1 } });

    const page = await watchedPage(browser, app.origin, { viewport: { width: 390, height: 844 } });
    /** Visits `path`, waits for `ready` (a locator), checks that nothing sticks out. */
    const visit = async (path, ready) => {
      await page.goto(`${app.base}${path}`);
      await ready().waitFor();
      await page.waitForLoadState("networkidle");
      const { scroll, offenders } = await page.evaluate(() => {
        const width = document.documentElement.clientWidth;
        const offenders = [];
        for (const el of document.querySelectorAll("body *")) {
          // Helpers for screen readers and the skip link are off screen on purpose.
          if (el.closest(".skip-link, .visually-hidden, thead")) continue;
          const r = el.getBoundingClientRect();
          if (r.width === 0 || r.height === 0 || getComputedStyle(el).visibility === "hidden") continue;
          if (r.right > width + 1 || r.left < -1) {
            const name = `${el.tagName.toLowerCase()}${el.className ? `.${el.className}` : ""} "${(el.textContent || "").trim().slice(0, 30)}"`;
            offenders.push(`${name} spans ${Math.round(r.left)}..${Math.round(r.right)} of ${width}`);
          }
        }
        return { scroll: document.documentElement.scrollWidth - window.innerWidth, offenders };
      });
      assert.ok(scroll <= 0, `${path}: no horizontal scrolling (${scroll}px wider)`);
      assert.deepEqual(offenders.slice(0, 5), [], `${path}: nothing cut off`);
      await page.check();
    };
    const heading = (name) => () => page.getByRole("heading", { name, exact: true });
    try {
      await visit("/", heading("Catalog"));
      await visit("/products/classic-mug", () => page.getByRole("button", { name: "Add to cart" }));
      page.expectRefusal("GET", "/products/no-such-thing", 404);
      page.expectRefusal("GET", "/api/products/no-such-thing", 404);
      await visit("/products/no-such-thing", heading("Product not found"));
      page.expectRefusal("GET", "/no/such/page", 404);
      await visit("/no/such/page", heading("Page not found"));
      await visit("/register", heading("Create an account"));
      await visit("/sign-in", heading("Sign in"));
      await signIn(page, email, password);
      await visit("/cart", () => page.getByRole("button", { name: "Place order" }));
      await visit("/orders", heading("Your orders"));
      await visit(`/orders/${order.data.id}`, () => page.getByRole("button", { name: "Cancel order" }));
      await visit("/account", heading("Your account"));
      await page.getByRole("button", { name: "Sign out" }).click();
      await said(page, "You are signed out.");
      await visit("/sign-in", heading("Sign in"));
      await signIn(page, ADMIN_EMAIL, ADMIN_PASSWORD);
      await visit("/admin/products", () => page.getByRole("link", { name: "Classic Mug" }));
      await visit(`/admin/products/${mug.id}`, () => page.getByRole("button", { name: "Save changes" }));
      await visit("/admin/products/new", heading("New product"));
      await visit("/admin/orders", () => page.getByRole("button", { name: "Mark paid" }));
      await visit("/admin/low-stock", heading("Low stock"));
      await page.shot("phone-admin-orders");
      assertClean(assert, page);
    } finally {
      await page.context().close();
      await app.stop();
    }
  });
});

describe("admin console", () => {
  test("an admin creates a product (fixing a bad field), adjusts stock, moves an order along, edits, deactivates and deletes", async () => {
    const app = await startApp();
    // A customer's pending order, placed through the API.
    await apiCall(app, "POST", "/api/auth/register", { body: { email: "buyer@example.com", password: "a buyer passphrase", display_name: "Buyer" } });
    const buyer = await tokenFor(app, "buyer@example.com", "a buyer passphrase");
    const mug = (await apiCall(app, "GET", "/api/products/classic-mug")).data;
    await apiCall(app, "POST", "/api/cart/items", { token: buyer, body: { product_id: mug.id, quantity: 1 } });
    const placed = await apiCall(app, "POST", "/api/checkout", { token: buyer, headers: { "Idempotency-Key": "admin-story" } });
    assert.equal(placed.status, 201);
    const short = placed.data.id.slice(-8);

    const page = await watchedPage(browser, app.origin);
    try {
      await page.goto(`${app.base}/sign-in`);
      await signIn(page, ADMIN_EMAIL, ADMIN_PASSWORD);
      await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Admin" }).click();
      await page.getByRole("heading", { name: "Products" }).waitFor();
      await page.check();

      // A product with a bad field: the error appears next to that field.
      await page.getByRole("link", { name: "New product" }).click();
      page.expectRefusal("POST", "/api/products", 422);
      await page.getByLabel("SKU").fill("bad sku!");
      await page.getByLabel("Name", { exact: true }).fill("Browser lamp");
      await page.getByLabel("Description").fill("Lights the tests.");
      await page.getByLabel(/^Price/).fill("24.90");
      await page.getByLabel("Stock").fill("3");
      await page.getByRole("button", { name: "Create product" }).click();
      const skuField = page.locator('[data-field="sku"]');
      await skuField.locator(".field-error").filter({ hasText: /./ }).waitFor();
      assert.equal(await page.getByLabel("SKU").getAttribute("aria-invalid"), "true");
      await page.check();
      await page.getByLabel("SKU").fill("BT-LAMP");
      await page.getByRole("button", { name: "Create product" }).click();
      await said(page, "Browser lamp is created.");

      // Stock, with the reason.
      await page.getByLabel("Change").fill("5");
      await page.getByLabel("Reason").fill("delivery from the workshop");
      await page.getByRole("button", { name: "Adjust stock" }).click();
      await said(page, "Stock of Browser lamp is now 8.");
      assert.equal(await stockOf(app, "browser-lamp"), 8);
      await page.check();

      // The order: only the transitions its lifecycle allows are offered.
      const adminNav = page.getByRole("navigation", { name: "Admin" });
      await adminNav.getByRole("link", { name: "Orders", exact: true }).click();
      await page.getByRole("heading", { name: "Orders" }).waitFor();
      const row = page.getByRole("row", { name: new RegExp(short) });
      const offered = async () => (await row.getByRole("button").allTextContents()).sort();
      assert.deepEqual(await offered(), ["Cancel order", "Mark paid"]);
      await row.getByRole("button", { name: "Mark paid" }).click();
      await said(page, `Order ${short} is now paid.`);
      assert.deepEqual(await offered(), ["Cancel order", "Mark shipped"]);
      await row.getByRole("button", { name: "Mark shipped" }).click();
      await said(page, `Order ${short} is now shipped.`);
      assert.deepEqual(await offered(), ["Mark delivered"], "a shipped order cannot be cancelled");
      await page.check();
      await page.shot("admin-orders");
      const order = await apiCall(app, "GET", `/api/orders/${placed.data.id}`, { token: buyer });
      assert.equal(order.data.status, "shipped");

      // The low-stock list names the lamp's neighbours by their stock.
      await adminNav.getByRole("link", { name: "Low stock" }).click();
      await page.getByRole("heading", { name: "Low stock" }).waitFor();
      await page.check();

      // Edit the lamp's price; a customer puts it in their cart; then it stops being sold.
      const lampId = (await apiCall(app, "GET", "/api/products/browser-lamp")).data.id;
      await page.goto(`${app.base}/admin/products/${lampId}`);
      await page.getByLabel(/^Price/).fill("19.90");
      await page.getByRole("button", { name: "Save changes" }).click();
      await said(page, "The product is saved.");
      assert.equal((await apiCall(app, "GET", "/api/products/browser-lamp")).data.price.minor, 1990);
      await apiCall(app, "POST", "/api/cart/items", { token: buyer, body: { product_id: lampId, quantity: 1 } });
      await page.getByRole("button", { name: "Stop selling (deactivate)" }).click();
      await said(page, "The product is no longer for sale.");
      const admin = await tokenFor(app, ADMIN_EMAIL, ADMIN_PASSWORD);
      assert.equal((await apiCall(app, "GET", `/api/products/${lampId}`, { token: admin })).data.active, false);

      // The customer's cart shows the line as no longer available and will not check out.
      const shopper = await watchedPage(browser, app.origin);
      try {
        await shopper.goto(`${app.base}/sign-in?next=%2Fcart`);
        await shopper.getByLabel("Email", { exact: true }).fill("buyer@example.com");
        await shopper.getByLabel("Password", { exact: true }).fill("a buyer passphrase");
        await shopper.getByRole("button", { name: "Sign in" }).click();
        await shopper.getByRole("heading", { name: "No longer available" }).waitFor();
        assert.ok(await shopper.getByRole("button", { name: "Place order" }).isDisabled());
        await shopper.check();
        await shopper.getByRole("listitem").filter({ hasText: "no longer for sale" }).getByRole("button", { name: "Remove" }).click();
        await said(shopper, "The unavailable product is out of your cart.");
        await shopper.getByText("Your cart is empty.").waitFor();
        assertClean(assert, shopper);
      } finally {
        await shopper.context().close();
      }

      // And the admin deletes it (after confirming).
      page.once("dialog", (d) => d.accept());
      await page.getByRole("button", { name: "Delete product" }).click();
      await said(page, "Browser lamp is deleted.");
      assert.equal((await apiCall(app, "GET", `/api/products/${lampId}`, { token: admin })).status, 404);
      await page.check();
      assertClean(assert, page);
    } finally {
      await page.context().close();
      await app.stop();
    }
  });
});

/** Opens the operation `id` (Swagger UI names each block by tag and operation ID), tries it
 * out, and waits for the status it answers in the page. */
async function tryOperation(page, id, status) {
  const op = page.locator(`#operations-${id}`);
  await op.locator(".opblock-summary").click();
  await op.getByRole("button", { name: "Try it out" }).click();
  await op.getByRole("button", { name: "Execute" }).click();
  await op.locator(".live-responses-table .response-col_status").filter({ hasText: status }).waitFor();
  return op;
}

describe("API docs", () => {
  test("/docs lists every operation, runs GET /api/products, and authorizes with a bearer token", async () => {
    const app = await startApp();
    const page = await watchedPage(browser, app.origin);
    try {
      const doc = (await apiCall(app, "GET", "/openapi.json")).data;
      const operations = Object.values(doc.paths).reduce((n, item) => n + Object.keys(item).length, 0);
      await page.goto(`${app.base}/docs/`);
      await page.locator(".opblock").first().waitFor();
      assert.equal(await page.locator(".opblock").count(), operations, "every operation is listed");
      await page.check();
      const products = await tryOperation(page, "catalog-list_products", "200");
      assert.match(await products.locator(".live-responses-table").innerText(), /"items"/);
      await page.shot("docs");

      // Without a token the account route refuses; after "Authorize" with one it answers.
      page.expectRefusal("GET", "/api/users/me", 401);
      await tryOperation(page, "users-me", "401");
      const token = await tokenFor(app, ADMIN_EMAIL, ADMIN_PASSWORD);
      await page.getByRole("button", { name: /Authorize/ }).first().click();
      const dialog = page.locator(".modal-ux");
      await dialog.locator("#auth-bearer-value").fill(token);
      await dialog.getByRole("button", { name: "Apply credentials" }).click();
      await dialog.getByRole("button", { name: "Close", exact: true }).click();
      const me = page.locator("#operations-users-me");
      await me.getByRole("button", { name: "Execute" }).click();
      await me.locator(".live-responses-table .response-col_status").filter({ hasText: "200" }).waitFor();
      assert.match(await me.locator(".live-responses-table").innerText(), new RegExp(ADMIN_EMAIL));
      await page.check();
      assertClean(assert, page);
    } finally {
      await page.context().close();
      await app.stop();
    }
  });
});
