//! The example's migration command line: `migrate`'s commands with this
//! service's mappings, so that `revision --autogenerate` and `check`
//! compare them with the database.
//!
//! ```text
//! cargo run -p app-example --bin app-example-migrate -- --database-url sqlite://app.db?mode=rwc \
//!     --dir app-example/migrations upgrade head
//! ```

fn main() {
    migrate::cli::main_with(|| app_example::mapping::start_mappers().map(|m| m.metadata().clone()));
}
