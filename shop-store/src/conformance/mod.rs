//! The conformance suite: one public async function per behaviour every adapter must have.
//!
//! An adapter's test file runs the whole list with one macro call, giving it a factory that
//! makes a fresh, empty store per test (or `None`, after printing why, to skip where a backend
//! is unreachable and skipping is allowed):
//!
//! ```ignore
//! async fn fresh() -> Option<Store> { Some(Arc::new(MemoryStore::new())) }
//! shop_store::conformance_tests!(fresh());
//! ```
//!
//! Adding a behaviour here and to [`conformance_tests!`](crate::conformance_tests) runs it on
//! every adapter. Backend differences are parameters of the factory, never forks of the suite.
//! Every function panics (like any test) when the store misbehaves.

#![allow(clippy::missing_panics_doc, clippy::unwrap_used)]

use std::sync::Arc;

use shop_core::ShopStore;

/// What every conformance function takes: a fresh store that implements every trait.
pub type Store = Arc<dyn ShopStore>;

/// A store for one test plus whatever must be torn down after it (a database to drop, …).
/// The guard is dropped when the test ends, also when it panics.
pub struct Harness {
    /// The store under test.
    pub store: Store,
    _cleanup: Option<Box<dyn std::any::Any + Send>>,
}

impl Harness {
    /// A store whose `guard` is dropped when the test is over.
    pub fn with_cleanup(store: Store, guard: impl Send + 'static) -> Self {
        Self {
            store,
            _cleanup: Some(Box::new(guard)),
        }
    }
}

impl From<Store> for Harness {
    fn from(store: Store) -> Self {
        Self {
            store,
            _cleanup: None,
        }
    }
}

impl std::fmt::Debug for Harness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Harness").finish_non_exhaustive()
    }
}

mod carts;
mod catalog;
mod checkout;
mod fixtures;
mod interrupted;
mod orders;
mod outbox;
mod processed_events;
mod refresh_tokens;
mod retention;
mod reviews;
mod users;

pub use carts::*;
pub use catalog::*;
pub use checkout::*;
pub use interrupted::InterruptedCheckout;
pub use orders::*;
pub use outbox::*;
pub use processed_events::*;
pub use refresh_tokens::*;
pub use retention::*;
pub use reviews::*;
pub use users::*;

// ---------------------------------------------------------------- the list

/// Runs every conformance behaviour as its own `#[tokio::test]`.
///
/// `$factory` is an expression evaluating to a future of `Option<S>` where `S` is a
/// [`Store`] or a [`Harness`]: a fresh, empty store per test, or `None` to skip (the factory
/// prints why, and refuses to skip where skipping is not allowed). The calling crate needs
/// `tokio` with the `macros` and `rt-multi-thread` features as a dev-dependency.
#[macro_export]
macro_rules! conformance_tests {
    ($factory:expr) => {
        $crate::conformance_tests!(@each $factory;
            product_create_and_get,
            product_duplicate_sku_conflicts,
            product_duplicate_slug_conflicts,
            product_get_many,
            product_update_applies_patch,
            product_update_conflicts_and_missing,
            product_adjust_stock,
            product_delete,
            product_writes_emit_events,
            query_text_search_is_literal,
            query_text_search_matches_a_full_scan,
            query_price_and_active_filters,
            query_max_stock_filter,
            query_sort_orders,
            query_pagination_walks_without_gaps,
            query_pagination_edges,
            cart_created_on_first_change,
            cart_add_merges_lines,
            cart_quantity_limit,
            cart_line_limit,
            cart_set_quantity_and_remove,
            cart_clear,
            carts_are_per_user,
            checkout_places_order,
            checkout_is_all_or_nothing,
            checkout_refuses_empty_cart,
            checkout_idempotent_replay,
            checkout_keys_are_per_user,
            checkout_refuses_unavailable_products,
            checkout_charges_the_current_price,
            checkout_refuses_a_cart_changed_since_seen,
            checkout_emits_stock_low,
            concurrent_checkouts_never_oversell,
            concurrent_same_key_checkouts_place_one_order,
            concurrent_checkouts_of_one_cart_place_one_order,
            checkout_cancel_contention_conserves_stock,
            order_status_happy_path,
            order_invalid_transitions,
            cancel_releases_stock,
            transition_refuses_stale_status,
            list_orders_filters_and_pages,
            outbox_claim_and_mark,
            outbox_claims_are_exclusive_until_lease_ends,
            outbox_stats,
            reviews_add_list_and_summarise,
            review_one_per_user_per_product,
            reviews_paginate,
            user_create_and_find,
            user_duplicate_email_conflicts,
            user_update,
            refresh_token_single_use,
            refresh_token_expiry_and_revocation,
            refresh_token_concurrent_use_has_one_winner,
            processing_claim_finish_and_replay,
            processing_release_frees_the_event,
            processing_lapsed_claim_is_taken_over,
            processing_is_per_consumer,
            processing_racing_claims_have_one_winner,
            processing_purge_keeps_recent_and_live,
            purge_published_events_keeps_pending,
            purge_refresh_tokens_keeps_live_and_used,
            purge_idempotency_keys_keeps_orders,
            purge_racing_replicas_delete_each_record_once,
            retention_service_applies_the_policy,
        );
    };
    (@each $factory:expr; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $name() {
                let Some(harness) = $factory.await else { return };
                let harness: $crate::conformance::Harness = harness.into();
                $crate::conformance::$name(harness.store.clone()).await;
                drop(harness);
            }
        )*
    };
}
