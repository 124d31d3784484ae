//! The reference app's face: the storefront at `/`, the admin console at `/admin` and the
//! interactive API docs at `/docs`, all built on the public JSON API and served by the binary
//! (no build step, no CDN). The pages are one HTML shell and ES modules under `web/`; every
//! path the client-side router knows serves the shell, with the root path filled in.
//!
//! Status codes behave like a web site's: a product page for a product that does not exist
//! (or is not for sale) answers `404`, and any unknown path a browser navigates to gets the
//! shell with `404` (it shows "Page not found"), while API clients keep their problem document
//! ([`html_for_browsers`]). The demo catalog's pictures are drawn by the binary itself
//! ([`crate::demo_images`]), at `/assets/demo/{item}-{style}.svg`.
//!
//! The pages get a strict Content-Security-Policy of their own — scripts, styles and
//! connections to this origin only, no inline script — in place of the API's `default-src
//! 'none'`; images may also come from `https:` (product pictures may live on another host) and
//! `data:` (the placeholders).

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, Request};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use shop_core::CatalogStore;
use utoipa_swagger_ui::Config;

/// One file of `web/assets/`, compiled into the binary.
struct Asset {
    path: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

macro_rules! assets {
    ($($path:literal => $type:literal),* $(,)?) => {
        &[$(Asset {
            path: $path,
            content_type: $type,
            bytes: include_bytes!(concat!("../web/assets/", $path)),
        }),*]
    };
}

/// Every file of `web/assets/` (a test checks that none is missing from this list).
const ASSETS: &[Asset] = assets! {
    "style.css" => "text/css; charset=utf-8",
    "favicon.svg" => "image/svg+xml",
    "app.js" => "text/javascript; charset=utf-8",
    "root.js" => "text/javascript; charset=utf-8",
    "api.js" => "text/javascript; charset=utf-8",
    "session.js" => "text/javascript; charset=utf-8",
    "ui.js" => "text/javascript; charset=utf-8",
    "money.js" => "text/javascript; charset=utf-8",
    "views/catalog.js" => "text/javascript; charset=utf-8",
    "views/product.js" => "text/javascript; charset=utf-8",
    "views/auth.js" => "text/javascript; charset=utf-8",
    "views/account.js" => "text/javascript; charset=utf-8",
    "views/cart.js" => "text/javascript; charset=utf-8",
    "views/orders.js" => "text/javascript; charset=utf-8",
    "views/admin.js" => "text/javascript; charset=utf-8",
};

const SHELL: &str = include_str!("../web/index.html");

/// The pages' policy: this origin only, no inline script or style.
const PAGE_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
    img-src 'self' data: https:; connect-src 'self'; font-src 'self'; object-src 'none'; \
    base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

/// Paths the client-side router renders (each serves the shell; `/products/{slug}` too, with
/// the status its product calls for).
const PAGE_ROUTES: &[&str] = &[
    "/",
    "/cart",
    "/orders",
    "/orders/{id}",
    "/account",
    "/sign-in",
    "/register",
    "/admin",
    "/admin/{*rest}",
];

/// The HTML shell with the root path filled in.
pub(crate) fn shell(root: &str) -> Arc<str> {
    // The catalog is `/shop` under a root path (what the server answers without a redirect).
    let home = if root.is_empty() { "/" } else { root };
    SHELL
        .replace("{{HOME}}", home)
        .replace("{{ROOT}}", root)
        .into()
}

/// The pages under `root` (the app's root path, `""` for none); product pages look their
/// product up in `catalog` for their status.
pub(crate) fn pages(root: &str, shell: &Arc<str>, catalog: Arc<dyn CatalogStore>) -> Router {
    let mut router = Router::new();
    for path in PAGE_ROUTES {
        let shell = shell.clone();
        router = router.route(path, get(move || page(shell.clone(), StatusCode::OK)));
    }
    router = router.route(
        "/products/{slug}",
        get({
            let shell = shell.clone();
            move |Path(slug): Path<String>| {
                let (shell, catalog) = (shell.clone(), catalog.clone());
                async move { page(shell, product_page_status(catalog.as_ref(), &slug).await).await }
            }
        }),
    );
    // The base layout: no top bar, whose logo is an SVG with an inline <style> that the
    // pages' policy refuses (and whose URL box would invite loading other documents).
    let docs = Arc::new(
        Config::new([format!("{root}/openapi.json")])
            .use_base_layout()
            .persist_authorization(true),
    );
    let docs_root = format!("{root}/docs/");
    router
        .route("/assets/demo/{file}", get(crate::demo_images::serve))
        .route("/assets/{*path}", get(asset))
        .route(
            "/docs",
            get(move || async move { axum::response::Redirect::permanent(&docs_root) }),
        )
        .route(
            "/docs/",
            get({
                let docs = docs.clone();
                move || docs_file(docs.clone(), String::new())
            }),
        )
        .route(
            "/docs/{*rest}",
            get(move |Path(rest): Path<String>| docs_file(docs.clone(), rest)),
        )
}

fn with_page_headers(mut res: Response, cache: &'static str) -> Response {
    let headers = res.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(PAGE_CSP),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    res
}

async fn page(shell: Arc<str>, status: StatusCode) -> Response {
    let res = (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        shell.to_string(),
    )
        .into_response();
    with_page_headers(res, "no-cache")
}

/// What a product page answers, as the API would for an anonymous visitor: `404` for a
/// product that does not exist or is not for sale (the page then says so), `503` when the
/// catalog cannot answer.
async fn product_page_status(catalog: &dyn CatalogStore, id_or_slug: &str) -> StatusCode {
    match catalog.find_product(id_or_slug).await {
        Ok(Some(product)) if product.active => StatusCode::OK,
        Ok(_) => StatusCode::NOT_FOUND,
        Err(_) => StatusCode::SERVICE_UNAVAILABLE,
    }
}

/// Middleware around the whole app: a `404` problem document for a browser's navigation
/// (`GET` accepting `text/html`) outside the API, its assets and its docs becomes the pages'
/// shell with status `404`, which shows "Page not found"; API clients keep the problem.
pub(crate) async fn html_for_browsers(
    root: Arc<str>,
    shell: Arc<str>,
    req: Request,
    next: Next,
) -> Response {
    // Decided before the request moves on, without allocating: most requests are not
    // navigations, and most navigations are found.
    let navigation = matches!(*req.method(), Method::GET | Method::HEAD)
        && req
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|accept| accept.contains("text/html"))
        && !req.uri().path().strip_prefix(&*root).is_some_and(|rest| {
            ["/api/", "/assets/", "/docs/", "/.well-known/"]
                .iter()
                .any(|machine| rest.starts_with(machine))
        });
    let res = next.run(req).await;
    let problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|t| t.as_bytes().starts_with(b"application/problem+json"));
    if navigation && res.status() == StatusCode::NOT_FOUND && problem {
        return page(shell, StatusCode::NOT_FOUND).await;
    }
    res
}

async fn asset(Path(path): Path<String>) -> Response {
    match ASSETS.iter().find(|a| a.path == path) {
        Some(a) => with_page_headers(
            ([(header::CONTENT_TYPE, a.content_type)], a.bytes).into_response(),
            "no-cache",
        ),
        None => shop_http::ApiError::not_found("asset").into_response(),
    }
}

/// Appended to Swagger UI's own files: contrast fixes, and names for the controls it leaves
/// unnamed, so the docs meet the accessibility bar of the other pages.
const DOCS_CSS_FIXES: &str = include_str!("../web/docs/a11y.css");
const DOCS_JS_FIXES: &str = include_str!("../web/docs/a11y.js");

async fn docs_file(config: Arc<Config<'static>>, path: String) -> Response {
    match utoipa_swagger_ui::serve(&path, config) {
        Ok(Some(file)) => {
            let mut bytes = file.bytes.into_owned();
            match path.as_str() {
                "index.css" => bytes.extend_from_slice(DOCS_CSS_FIXES.as_bytes()),
                "swagger-initializer.js" => bytes.extend_from_slice(DOCS_JS_FIXES.as_bytes()),
                _ => {}
            }
            let res = ([(header::CONTENT_TYPE, file.content_type)], bytes).into_response();
            with_page_headers(res, "no-cache")
        }
        Ok(None) => shop_http::ApiError::not_found("file").into_response(),
        Err(e) => {
            tracing::error!(error = %e, "API docs file");
            shop_http::ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "internal error",
            )
            .into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file added to `web/assets/` and not to `ASSETS` would be a 404 in the browser.
    #[test]
    fn every_asset_file_is_served() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/web/assets");
        let mut on_disk = Vec::new();
        let mut stack = vec![std::path::PathBuf::from(dir)];
        while let Some(d) = stack.pop() {
            for entry in std::fs::read_dir(d).unwrap() {
                let p = entry.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    let rel = p
                        .strip_prefix(dir)
                        .unwrap()
                        .to_string_lossy()
                        .replace('\\', "/");
                    on_disk.push(rel);
                }
            }
        }
        on_disk.sort();
        let mut listed: Vec<String> = ASSETS.iter().map(|a| a.path.to_owned()).collect();
        listed.sort();
        assert_eq!(on_disk, listed);
    }
}
