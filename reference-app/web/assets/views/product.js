// A product page, by slug: price, stock, picture, description, add to cart, and its reviews
// (average, newest first with "load more", and a form for signed-in customers).

import { api, Problem, query } from "../api.js";
import { formatMoney } from "../money.js";
import * as session from "../session.js";
import {
  announce, busy, clearErrors, empty, explain, field, formError, h, link, onLoadMore, onSubmit, productImage, showProblem,
  stockState, when,
} from "../ui.js";

function stars(rating) {
  return h("span", { class: "stars", role: "img", "aria-label": `${rating} out of 5 stars` }, "★".repeat(rating) + "☆".repeat(5 - rating));
}

function reviewItem(r) {
  return h(
    "li",
    {},
    h("h3", {}, r.title),
    h("p", {}, stars(r.rating), " by ", r.author_name, " on ", when(r.created_at)),
    r.body ? h("p", {}, r.body) : null,
  );
}

async function reviewsSection(product) {
  const section = h("section", { "aria-labelledby": "reviews-heading" }, h("h2", { id: "reviews-heading" }, "Reviews"));
  const summary = h("p", { class: "summary" });
  const list = h("ul", { class: "reviews" });
  const more = h("button", { type: "button", class: "secondary" }, "More reviews");
  let cursor = null;

  async function load(reset) {
    const page = await api("GET", `/api/products/${product.id}/reviews${query({ limit: 5, cursor: reset ? null : cursor })}`);
    if (reset) list.replaceChildren();
    summary.textContent = page.count
      ? `${page.average_rating.toFixed(1)} out of 5 from ${page.count} review${page.count === 1 ? "" : "s"}`
      : "No reviews yet.";
    list.append(...page.items.map(reviewItem));
    cursor = page.next_cursor;
    more.hidden = !cursor;
  }
  onLoadMore(more, () => load(false));
  await load(true);
  section.append(summary, list, h("div", { class: "actions" }, more));

  if (!session.user()) {
    section.append(h("p", {}, link(`/sign-in?next=${encodeURIComponent(`/products/${product.slug}`)}`, "Sign in"), " to write a review."));
    return section;
  }
  const submit = h("button", { type: "submit" }, "Post review");
  const form = h(
    "form",
    { class: "stack", "aria-labelledby": "write-review" },
    h("h3", { id: "write-review" }, "Write a review"),
    formError(),
    field({ label: "Rating", name: "rating", value: "5", options: [5, 4, 3, 2, 1].map((n) => [n, `${n} star${n === 1 ? "" : "s"}`]) }),
    field({ label: "Title", name: "title", required: true, maxlength: 200 }),
    field({ label: "Review", name: "body", type: "textarea", maxlength: 5000 }),
    submit,
  );
  onSubmit(form, submit, async (data) => {
    try {
      await api("POST", `/api/products/${product.id}/reviews`, {
        auth: true,
        body: { rating: Number(data.get("rating")), title: data.get("title"), body: data.get("body") },
      });
    } catch (err) {
      if (!(err instanceof Problem && err.code === "review_exists")) throw err;
      showProblem(form, { ...err, errors: [], message: "You have already reviewed this product." });
      return;
    }
    form.reset();
    await load(true);
    announce("Thank you: your review is posted.");
  });
  section.append(form);
  return section;
}

export async function productView(main, [slug], _q, { navigate }) {
  let product;
  try {
    product = await api("GET", `/api/products/${encodeURIComponent(slug)}`);
  } catch (e) {
    if (e instanceof Problem && e.status === 404) {
      main.append(h("h1", {}, "Product not found"), empty("It may have been removed."), h("p", {}, link("/", "Back to the catalog")));
      return;
    }
    throw e;
  }
  const maxQty = Math.min(product.stock, 999);
  const add = h("button", { type: "submit", disabled: product.stock <= 0 }, "Add to cart");
  const buy = h(
    "form",
    { class: "inline", "aria-label": "Add to cart" },
    formError(),
    field({ label: "Quantity", name: "quantity", type: "number", value: 1, min: 1, max: Math.max(1, maxQty), required: true, disabled: product.stock <= 0 }),
    add,
  );
  buy.addEventListener("submit", (e) => {
    e.preventDefault();
    if (!session.user()) {
      navigate(`/sign-in?next=${encodeURIComponent(`/products/${slug}`)}`, { message: "Please sign in to fill a cart." });
      return;
    }
    busy(add, async () => {
      clearErrors(buy);
      try {
        await api("POST", "/api/cart/items", {
          auth: true,
          body: { product_id: product.id, quantity: Number(new FormData(buy).get("quantity")) },
        });
        announce(`${product.name} is in your cart.`);
      } catch (err) {
        showProblem(buy, err);
        announce(explain(err), { error: true });
      }
    });
  });
  main.append(
    h(
      "article",
      { class: "product" },
      productImage(product),
      h(
        "div",
        {},
        h("h1", {}, product.name),
        h("p", { class: "price" }, formatMoney(product.price)),
        h("p", {}, stockState(product.stock)),
        product.description ? h("p", {}, product.description) : null,
        buy,
        h("p", {}, link("/cart", "Go to your cart")),
      ),
    ),
    await reviewsSection(product),
  );
}
