//! Hubs, SKUs and stock levels (`PUT`/`GET /hubs`, `/skus`, `/inventory`).

mod change_stock;
mod list_hubs;
mod list_skus;
mod list_stock;
mod put_hub;
mod put_sku;
mod stock_change_signals;

pub use self::change_stock::change_stock;
pub use self::list_hubs::list_hubs;
pub use self::list_skus::list_skus;
pub use self::list_stock::list_stock;
pub use self::put_hub::put_hub;
pub use self::put_sku::put_sku;
pub use self::stock_change_signals::stock_change_signals;
