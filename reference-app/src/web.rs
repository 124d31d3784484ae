//! The reference app's face: the storefront at `/`, the admin console at `/admin` and the
//! interactive API docs at `/docs`, all built on the public JSON API and served by the binary
//! (no build step, no CDN). The pages are one HTML shell and ES modules under `web/`; every
//! path the client-side router knows serves the shell, with the root path filled in.
//!
//! The pages get a strict Content-Security-Policy of their own — scripts, styles and
//! connections to this origin only, no inline script — in place of the API's `default-src
//! 'none'`; images may also come from `https:` (product pictures may live on another host) and
//! `data:` (the placeholders).

use std::sync::Arc;

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
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

/// Paths the client-side router renders (each serves the shell).
const PAGE_ROUTES: &[&str] = &[
    "/",
    "/products/{slug}",
    "/cart",
    "/orders",
    "/orders/{id}",
    "/account",
    "/sign-in",
    "/register",
    "/admin",
    "/admin/{*rest}",
];

/// The pages under `root` (the app's root path, `""` for none).
pub(crate) fn pages(root: &str) -> Router {
    // The catalog is `/shop` under a root path (what the server answers without a redirect).
    let home = if root.is_empty() { "/" } else { root };
    let shell: Arc<str> = SHELL
        .replace("{{HOME}}", home)
        .replace("{{ROOT}}", root)
        .into();
    let mut router = Router::new();
    for path in PAGE_ROUTES {
        let shell = shell.clone();
        router = router.route(path, get(move || page(shell.clone())));
    }
    // The base layout: no top bar, whose logo is an SVG with an inline <style> that the
    // pages' policy refuses (and whose URL box would invite loading other documents).
    let docs = Arc::new(
        Config::new([format!("{root}/openapi.json")])
            .use_base_layout()
            .persist_authorization(true),
    );
    let docs_root = format!("{root}/docs/");
    router
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

async fn page(shell: Arc<str>) -> Response {
    let res = (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        shell.to_string(),
    )
        .into_response();
    with_page_headers(res, "no-cache")
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
