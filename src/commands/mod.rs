pub mod fit;
pub mod predict;
pub mod simulate;
pub mod store;
pub mod summary;
