// The path the app is served under (`ROOT_PATH`, written into the page by the server), without
// a trailing slash: "" or "/shop".
export const ROOT = document.querySelector('meta[name="shop-root"]').content.replace(/\/$/, "");

/**
 * The URL of the page at `path` (an app path such as "/cart" or "/?q=mug"). The catalog under
 * a root path is "/shop", not "/shop/": that is the URL the server answers without a redirect.
 */
export function pageUrl(path) {
  if (ROOT && (path === "/" || path.startsWith("/?"))) return ROOT + path.slice(1);
  return ROOT + path;
}
