//! Rebuilds the crate when a migration is added or edited. `refinery::embed_migrations!`
//! (`src/store/migrate.rs`) reads `sql/migrations` at compile time, which cargo does not track by
//! itself: without this, a new migration file left a binary (and a test build) that never ran it.
fn main() {
    println!("cargo:rerun-if-changed=sql/migrations");
}
