//! Carts: one read-modify-write under the commerce lock.

use async_trait::async_trait;
use shop_core::time::now;
use shop_core::{Cart, CartCommand, CartStore, Result, UserId};

use super::MemoryStore;

#[async_trait]
impl CartStore for MemoryStore {
    async fn get_cart(&self, user_id: UserId) -> Result<Option<Cart>> {
        Ok(self.commerce.read().carts.get(&user_id).cloned())
    }

    async fn modify_cart(&self, user_id: UserId, command: &CartCommand) -> Result<Cart> {
        let mut c = self.commerce.write();
        let mut cart = c
            .carts
            .get(&user_id)
            .cloned()
            .unwrap_or_else(|| Cart::empty(user_id));
        cart.apply(command, now())?;
        c.carts.insert(user_id, cart.clone());
        Ok(cart)
    }
}
