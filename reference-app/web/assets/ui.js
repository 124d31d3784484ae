// Small DOM helpers. Text always goes in as text nodes, never as HTML, so nothing a user or
// the API writes can become markup.

import { pageUrl } from "./root.js";

/** An element: `h("a", { href, class: "x", onclick: f }, "text", child, [more])`. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (v === true) el.setAttribute(k, "");
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** A link inside the app (followed by the client-side router). */
export function link(path, ...children) {
  return h("a", { href: pageUrl(path), "data-link": true }, ...children);
}

/** Says `message` in the status area, which screen readers announce. */
export function announce(message, { error = false } = {}) {
  const status = document.getElementById("status");
  status.replaceChildren(message ? h("span", { class: error ? "note error" : "note" }, message) : "");
}

/** What a refusal means, in words. */
export function explain(problem) {
  const words = {
    network: "The shop cannot be reached. Check your connection and try again.",
    unauthenticated: "Please sign in first.",
    invalid_token: "Your session has ended. Please sign in again.",
    forbidden: "You are not allowed to do that.",
    throttled: "Too many failed attempts. Please wait a while before trying again.",
    invalid_credentials: "That email and password do not match an account.",
    insufficient_stock: "There is not enough stock for that quantity.",
    cart_changed: "Your cart changed since you saw it. Please review it and try again.",
    overloaded: "The shop is busy right now. Please try again in a moment.",
    timeout: "That took too long. Please try again.",
    unavailable: "The shop is having trouble right now. Please try again shortly.",
  };
  return words[problem?.code] || problem?.message || "Something went wrong.";
}

let fieldIds = 0;

/**
 * A labelled form field: `{ label, name, type, value, required, hint, options, ...input attrs }`.
 * `options` makes a select (`[[value, text], …]`); `type: "textarea"` a text area.
 */
export function field({ label, name, type = "text", hint, options, value, ...attrs }) {
  const id = `f-${name}-${++fieldIds}`;
  const errorId = `${id}-error`;
  const hintId = hint ? `${id}-hint` : undefined;
  let input;
  if (options) {
    input = h("select", { id, name, ...attrs }, options.map(([v, t]) => h("option", { value: v, selected: String(v) === String(value) }, t)));
  } else if (type === "textarea") {
    input = h("textarea", { id, name, ...attrs }, value ?? "");
  } else if (type === "checkbox") {
    input = h("input", { id, name, type, checked: !!value, ...attrs });
  } else {
    input = h("input", { id, name, type, value: value ?? "", ...attrs });
  }
  input.setAttribute("aria-describedby", [hintId, errorId].filter(Boolean).join(" "));
  const error = h("p", { id: errorId, class: "field-error" });
  const wrap = h("div", { class: type === "checkbox" ? "field check" : "field", dataset: { field: name } });
  if (type === "checkbox") wrap.append(input, h("label", { for: id }, label));
  else wrap.append(h("label", { for: id }, label), input);
  if (hint) wrap.append(h("p", { id: hintId, class: "hint" }, hint));
  wrap.append(error);
  return wrap;
}

/** Clears every field error and the form's own error. */
export function clearErrors(form) {
  for (const el of form.querySelectorAll(".field-error, .form-error")) el.textContent = "";
  for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
}

/** Puts `message` next to the field `name` of `form`; true when the form has that field. */
export function fieldError(form, name, message) {
  const wrap = form.querySelector(`[data-field="${CSS.escape(name)}"]`);
  if (!wrap) return false;
  wrap.querySelector(".field-error").textContent = message;
  wrap.querySelector("input, select, textarea")?.setAttribute("aria-invalid", "true");
  return true;
}

/**
 * Shows a refusal on `form`: each field error next to its field (`aliases` maps the API's
 * field names to the form's), the rest at the top; focuses the first field in error.
 */
export function showProblem(form, problem, aliases = {}) {
  clearErrors(form);
  const leftover = [];
  for (const e of problem.errors || []) {
    const name = aliases[e.field] || e.field;
    if (!fieldError(form, name, e.message)) leftover.push(e.message);
  }
  const top = form.querySelector(".form-error");
  const general = problem.errors?.length ? leftover.join(" ") : explain(problem);
  if (top) top.textContent = general;
  const first = form.querySelector("[aria-invalid=true]") || top;
  first?.focus?.();
}

/** A form error area (put it first in a form). */
export function formError() {
  return h("p", { class: "form-error", role: "alert", tabindex: "-1" });
}

export function loading(what = "Loading…") {
  return h("p", { class: "loading" }, what);
}

export function empty(what) {
  return h("p", { class: "empty" }, what);
}

/** "In stock", "Only 3 left", "Out of stock", with a class for its colour. */
export function stockState(stock) {
  if (stock <= 0) return h("span", { class: "stock-out" }, "Out of stock");
  if (stock <= 5) return h("span", { class: "stock-low" }, `Only ${stock} left`);
  return h("span", { class: "stock-in" }, "In stock");
}

/** A picture for a product without one: its initials on a colour of its name. */
export function placeholder(name) {
  let hash = 0;
  for (const ch of name) hash = (hash * 31 + ch.codePointAt(0)) >>> 0;
  const hue = hash % 360;
  const initials = name.split(/\s+/).filter(Boolean).slice(0, 2).map((w) => w[0].toUpperCase()).join("");
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 300 200"><rect width="300" height="200" fill="hsl(${hue} 45% 88%)"/><text x="150" y="118" font-family="sans-serif" font-size="64" text-anchor="middle" fill="hsl(${hue} 45% 28%)">${initials.replace(/[<&]/g, "")}</text></svg>`;
  return `data:image/svg+xml,${encodeURIComponent(svg)}`;
}

/** The product's picture, or its placeholder. */
export function productImage(product) {
  return h("img", { src: product.image_url || placeholder(product.name), alt: "", loading: "lazy" });
}

export function when(iso) {
  return new Date(iso).toLocaleString("en", { dateStyle: "medium", timeStyle: "short" });
}

/**
 * The last eight characters of an ID: enough to tell orders apart on a page. Not the first
 * eight: IDs are UUIDv7, whose first eight characters are a timestamp shared by every ID
 * made in the same minute.
 */
export function shortId(id) {
  return id.slice(-8);
}

/**
 * Runs `work(data)` (the form's `FormData`) when `form` is submitted, without leaving the
 * page: `button` is disabled while it runs (a double click cannot submit twice), the form's
 * old errors are cleared first, and a refusal `work` lets through is shown on the form
 * (`aliases` as for [showProblem]).
 */
export function onSubmit(form, button, work, aliases = {}) {
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    busy(button, async () => {
      clearErrors(form);
      try {
        await work(new FormData(form));
      } catch (err) {
        showProblem(form, err, aliases);
      }
    });
  });
}

/**
 * A "load more" button: each click runs `load` once at a time; a refusal is said in the status
 * area, and the button stays for another try.
 */
export function onLoadMore(button, load) {
  button.addEventListener("click", () => busy(button, () => load().catch((e) => announce(explain(e), { error: true }))));
}

/** Runs `work` with `button` disabled (so a double click cannot start it twice). */
export async function busy(button, work) {
  if (button.disabled) return undefined;
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  try {
    return await work();
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
  }
}
