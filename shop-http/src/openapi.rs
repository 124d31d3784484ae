//! The OpenAPI 3.1 document, generated from the handlers' annotations. Routes are registered
//! through `utoipa_axum`, so a served route without a documented path cannot exist.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
use utoipa::{Modify, OpenApi};

use crate::error::ProblemDetails;

/// The document's fixed parts; paths are added as routes are registered.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "shop",
        description = "E-commerce API: catalog, reviews, cart, idempotent checkout, orders and \
            accounts. Money is in integer minor units with an ISO 4217 currency. Every error is \
            `application/problem+json` with a stable `code`.",
    ),
    components(schemas(ProblemDetails, shop_core::ProductSort, shop_core::OrderStatus)),
    tags(
        (name = "auth", description = "Accounts and sessions"),
        (name = "users", description = "The signed-in user's profile"),
        (name = "catalog", description = "Products; writes are admin-only"),
        (name = "reviews", description = "Product reviews"),
        (name = "cart", description = "The signed-in user's cart"),
        (name = "checkout", description = "Placing orders, safely retryable"),
        (name = "orders", description = "Orders and their lifecycle"),
        (name = "ops", description = "Health, readiness, this document (metrics are on the operations listener)"),
    ),
)]
pub(crate) struct ApiDoc;

/// Adds the bearer scheme, and the problem responses every operation of a kind can give, so
/// each handler documents only what is particular to it. Applied once all routes are in.
pub(crate) struct CommonResponses;

fn problem(description: &str) -> RefOr<utoipa::openapi::Response> {
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/problem+json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("ProblemDetails")))
                    .build(),
            )
            .build(),
    )
}

impl Modify for CommonResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("Access token from /api/auth/login"))
                    .build(),
            ),
        );
        for item in openapi.paths.paths.values_mut() {
            let ops = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for op in ops.into_iter().flatten() {
                let mut add = |code: &str, description: &str| {
                    op.responses
                        .responses
                        .entry(code.to_owned())
                        .or_insert_with(|| problem(description));
                };
                add("500", "Internal error (details are logged, never returned)");
                add(
                    "503",
                    "Overloaded, timed out or a dependency is down; retry later",
                );
                let has_params = op.parameters.as_ref().is_some_and(|p| !p.is_empty());
                let has_body = op.request_body.is_some();
                if has_params || has_body {
                    add("400", "A malformed parameter or body");
                }
                if has_body {
                    add("413", "Body larger than the limit");
                    add("415", "Body is not application/json");
                    add(
                        "422",
                        "Invalid fields (one entry per field in `errors`) or unknown fields",
                    );
                }
                // The bearer token is checked on every route when one is sent.
                add(
                    "401",
                    "Missing (where required), expired or invalid access token",
                );
            }
        }
    }
}
