
// Appended to Swagger UI's initializer by the app: names the controls Swagger UI leaves
// unnamed and unlinks the paths inside the summary buttons (axe-core:
// button-name, select-name, nested-interactive, scrollable-region-focusable). Attributes only:
// Swagger UI's React tree is never restructured.
(function () {
  function label(root) {
    for (const b of root.querySelectorAll(".copy-to-clipboard button:not([aria-label])")) {
      b.setAttribute("aria-label", "Copy to clipboard");
    }
    for (const s of root.querySelectorAll("select:not([aria-label])")) {
      const row = s.closest("tr[data-param-name]");
      if (row) s.setAttribute("aria-label", row.getAttribute("data-param-name"));
      else if (s.closest(".servers")) s.setAttribute("aria-label", "Server");
      else if (s.closest(".content-type-wrapper, .response-control-media-type")) s.setAttribute("aria-label", "Media type");
      else s.setAttribute("aria-label", "Choice");
    }
    // The path inside each summary button is also a link to the operation's deep link, which
    // the button itself sets when it opens: the link inside a button is redundant and is not
    // reachable as a separate control anyway.
    for (const a of root.querySelectorAll(".opblock-summary-control a[href]")) {
      a.removeAttribute("href");
    }
    for (const p of root.querySelectorAll("pre.microlight:not([tabindex]), .highlight-code pre:not([tabindex])")) {
      p.setAttribute("tabindex", "0");
    }
  }
  new MutationObserver(() => label(document.body)).observe(document.documentElement, { childList: true, subtree: true });
})();
