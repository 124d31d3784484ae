use std::sync::Arc;

use tracing::instrument;

use crate::error::{Conflict, Error, Result};
use crate::event::DomainEvent;
use crate::id::OrderId;
use crate::order::{Order, OrderStatus, OrderTransition};
use crate::store::CommerceStore;
use crate::time::now;

/// How many times a status change re-reads the order after losing a race.
const TRANSITION_ATTEMPTS: usize = 3;

/// Enforces the order status machine and emits the matching events through the outbox.
#[derive(Clone)]
pub struct OrderService {
    store: Arc<dyn CommerceStore>,
}

impl std::fmt::Debug for OrderService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OrderService").finish_non_exhaustive()
    }
}

impl OrderService {
    /// A service over `store`.
    #[must_use]
    pub fn new(store: Arc<dyn CommerceStore>) -> Self {
        Self { store }
    }

    /// Moves an order to `to` if the status machine allows it. Cancelling releases the
    /// order's stock in the same unit of work.
    ///
    /// # Errors
    /// `NotFound`; [`Error::InvalidTransition`]; store errors. A lost race re-reads the order
    /// and decides again, so concurrent changes cannot both succeed from the same status.
    #[instrument(skip(self), err(level = "debug"))]
    pub async fn change_status(&self, order_id: OrderId, to: OrderStatus) -> Result<Order> {
        for _ in 0..TRANSITION_ATTEMPTS {
            let order = self
                .store
                .get_order(order_id)
                .await?
                .ok_or(Error::NotFound("order"))?;
            let from = order.status;
            if !from.can_become(to) {
                return Err(Error::InvalidTransition { from, to });
            }
            let event = if to == OrderStatus::Cancelled {
                DomainEvent::order_cancelled(&order, from)
            } else {
                DomainEvent::order_status_changed(&order, from, to)
            };
            let transition = OrderTransition {
                order_id,
                from,
                to,
                at: now(),
                events: vec![event],
            };
            match self.store.transition_order(&transition).await {
                Err(Error::Conflict(Conflict::ConcurrentModification)) => {}
                other => return other,
            }
        }
        Err(Conflict::ConcurrentModification.into())
    }

    /// Cancels an order (from `pending` or `paid`), releasing its stock.
    ///
    /// # Errors
    /// As [`OrderService::change_status`].
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn cancel(&self, order_id: OrderId) -> Result<Order> {
        self.change_status(order_id, OrderStatus::Cancelled).await
    }
}
