//! Domain services: the rules that span several store calls, written once for every backend.

mod cart;
mod checkout;
mod orders;
mod reviews;

pub use cart::{CartService, CartView, CartViewLine};
pub use checkout::{CheckoutOutcome, CheckoutRequest, CheckoutService};
pub use orders::OrderService;
pub use reviews::ReviewService;
