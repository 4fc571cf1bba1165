//! The `migrate` binary: the migration commands without a project's
//! mappings (see [`migrate::cli`]).

fn main() {
    migrate::cli::main_without_mappings();
}
