// The signed-in person's account: name, password, signing out.

import { api } from "../api.js";
import * as session from "../session.js";
import { announce, busy, field, formError, h, link, onSubmit, showProblem } from "../ui.js";

export function requireSignIn(main, path) {
  main.append(
    h("h1", {}, "Please sign in"),
    h("p", {}, link(`/sign-in?next=${encodeURIComponent(path)}`, "Sign in"), " or ", link(`/register?next=${encodeURIComponent(path)}`, "create an account"), " first."),
  );
}

export async function accountView(main, _params, _q, { navigate }) {
  if (!session.user()) return requireSignIn(main, "/account");
  const me = await api("GET", "/api/users/me", { auth: true });

  const saveName = h("button", { type: "submit" }, "Save name");
  const nameForm = h(
    "form",
    { class: "stack", "aria-labelledby": "name-heading" },
    h("h2", { id: "name-heading" }, "Your name"),
    formError(),
    field({ label: "Name", name: "display_name", value: me.display_name, required: true, maxlength: 80, hint: "Shown on your reviews." }),
    saveName,
  );
  onSubmit(nameForm, saveName, async (data) => {
    const user = await api("PATCH", "/api/users/me", { auth: true, body: { display_name: data.get("display_name") } });
    session.updateUser(user);
    announce("Your name is saved.");
  });

  const savePassword = h("button", { type: "submit" }, "Change password");
  const passwordForm = h(
    "form",
    { class: "stack", "aria-labelledby": "password-heading" },
    h("h2", { id: "password-heading" }, "Password"),
    formError(),
    field({ label: "Current password", name: "current_password", type: "password", autocomplete: "current-password", required: true }),
    field({ label: "New password", name: "new_password", type: "password", autocomplete: "new-password", required: true, minlength: 8, hint: "8 to 128 characters, not your email." }),
    savePassword,
  );
  onSubmit(passwordForm, savePassword, async (data) => {
    try {
      await api("POST", "/api/users/me/password", { auth: true, body: { current_password: data.get("current_password"), new_password: data.get("new_password") } });
    } catch (err) {
      if (err.code !== "invalid_credentials") throw err;
      showProblem(passwordForm, { ...err, errors: [{ field: "current_password", message: "This is not your current password." }] });
      return;
    }
    // A password change ends every session; this one continues with the new password.
    const r = await session.signIn(me.email, data.get("new_password"));
    passwordForm.reset();
    if (r.ok) announce("Your password is changed. Other devices are signed out.");
    else navigate("/sign-in", { message: "Your password is changed: please sign in again." });
  });

  const out = h("button", { type: "button", class: "secondary" }, "Sign out");
  out.addEventListener("click", () => busy(out, async () => {
    await session.signOut();
    navigate("/", { message: "You are signed out." });
  }));

  main.append(
    h("h1", {}, "Your account"),
    h("dl", { class: "facts" }, h("dt", {}, "Email"), h("dd", {}, me.email), h("dt", {}, "Member since"), h("dd", {}, new Date(me.created_at).toLocaleDateString("en", { dateStyle: "long" }))),
    nameForm,
    passwordForm,
    h("h2", {}, "Session"),
    h("div", { class: "actions" }, out),
  );
}
