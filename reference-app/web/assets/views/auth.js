// Signing in and registering. After either, the person lands where they were going (`next`).

import { api, Problem } from "../api.js";
import * as session from "../session.js";
import { field, formError, h, link, onSubmit, showProblem } from "../ui.js";

function destination(q) {
  const next = q.get("next") || "/";
  // Only paths inside the app: never an open redirect.
  return next.startsWith("/") && !next.startsWith("//") ? next : "/";
}

export async function signInView(main, _params, q, { navigate }) {
  if (session.user()) {
    navigate(destination(q), { replace: true });
    return;
  }
  const submit = h("button", { type: "submit" }, "Sign in");
  const form = h(
    "form",
    { class: "stack", "aria-labelledby": "sign-in-heading" },
    formError(),
    field({ label: "Email", name: "email", type: "email", autocomplete: "username", required: true }),
    field({ label: "Password", name: "password", type: "password", autocomplete: "current-password", required: true }),
    submit,
  );
  onSubmit(form, submit, async (data) => {
    const r = await session.signIn(data.get("email"), data.get("password"));
    if (r.ok) navigate(destination(q), { message: `Welcome back, ${r.data.user.display_name}.` });
    else showProblem(form, new Problem(r.status, r.data));
  });
  main.append(
    h("h1", { id: "sign-in-heading" }, "Sign in"),
    form,
    h("p", {}, "New here? ", link(`/register${q.get("next") ? `?next=${encodeURIComponent(q.get("next"))}` : ""}`, "Create an account")),
  );
}

export async function registerView(main, _params, q, { navigate }) {
  const submit = h("button", { type: "submit" }, "Create account");
  const form = h(
    "form",
    { class: "stack", "aria-labelledby": "register-heading" },
    formError(),
    field({ label: "Name", name: "display_name", autocomplete: "name", required: true, maxlength: 80, hint: "Shown on your reviews." }),
    field({ label: "Email", name: "email", type: "email", autocomplete: "email", required: true }),
    field({ label: "Password", name: "password", type: "password", autocomplete: "new-password", required: true, minlength: 8, hint: "8 to 128 characters, not your email." }),
    submit,
  );
  onSubmit(form, submit, async (data) => {
    const body = { display_name: data.get("display_name"), email: data.get("email"), password: data.get("password") };
    try {
      await api("POST", "/api/auth/register", { body });
    } catch (err) {
      if (err.code !== "email_taken") throw err;
      showProblem(form, { ...err, errors: [{ field: "email", message: "An account with this email exists. Sign in instead." }] });
      return;
    }
    const r = await session.signIn(body.email, body.password);
    if (r.ok) navigate(destination(q), { message: `Welcome, ${r.data.user.display_name}. Your account is ready.` });
    else navigate("/sign-in", { message: "Your account is ready: please sign in." });
  });
  main.append(h("h1", { id: "register-heading" }, "Create an account"), form, h("p", {}, "Have an account? ", link("/sign-in", "Sign in")));
}
