//! The raw sides' SQL (the same statements the framework sends, written by
//! hand), in each backend's placeholders.

pub const SELECT_ITEMS: &str = "SELECT id, name, n FROM bench_item";
pub const JOIN: &str = "SELECT u.id, u.name, p.id, p.user_id, p.title \
     FROM bench_user u LEFT OUTER JOIN bench_post p ON p.user_id = u.id ORDER BY u.id, p.id";
pub const USERS: &str = "SELECT id, name FROM bench_user ORDER BY id";
pub const GET_PG: &str = "SELECT id, name, n FROM bench_item WHERE id = $1";
pub const GET_SQLITE: &str = "SELECT id, name, n FROM bench_item WHERE id = ?";
pub const INSERT_ONE_SQLITE: &str = "INSERT INTO bench_item (name, n) VALUES (?, ?)";
pub const INSERT_KEYED_SQLITE: &str = "INSERT INTO bench_item (id, name, n) VALUES (?, ?, ?)";
/// Rows per statement of the raw bulk inserts.
pub const BULK_CHUNK: usize = 10_000;

/// `(?, ?, ...)` or `($k, ...)` for `n` values numbered from `first`.
fn marks(pg: bool, first: usize, n: usize) -> String {
    let marks: Vec<String> = (first..first + n)
        .map(|i| if pg { format!("${i}") } else { "?".to_owned() })
        .collect();
    format!("({})", marks.join(", "))
}

/// `SELECT id, fk, text FROM table WHERE fk IN (n values) ORDER BY id`.
pub fn children(pg: bool, table: &str, fk: &str, text: &str, n: usize) -> String {
    format!(
        "SELECT id, {fk}, {text} FROM {table} WHERE {fk} IN {} ORDER BY id",
        marks(pg, 1, n)
    )
}

/// `INSERT INTO bench_item (id, name, n) VALUES` `rows` triples.
pub fn insert_keyed(pg: bool, rows: usize) -> String {
    let values: Vec<String> = (0..rows).map(|r| marks(pg, 3 * r + 1, 3)).collect();
    format!(
        "INSERT INTO bench_item (id, name, n) VALUES {}",
        values.join(", ")
    )
}

/// `INSERT INTO bench_item (name, n) VALUES` `rows` pairs, `RETURNING id`
/// when asked.
pub fn insert_items(pg: bool, rows: usize, returning: bool) -> String {
    let values: Vec<String> = (0..rows).map(|r| marks(pg, 2 * r + 1, 2)).collect();
    let tail = if returning { " RETURNING id" } else { "" };
    format!(
        "INSERT INTO bench_item (name, n) VALUES {}{tail}",
        values.join(", ")
    )
}
