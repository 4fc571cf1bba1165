//! Prints rows as a readable text table.

use persistence::Row;

/// Renders `rows` under `title` as an aligned table with a header.
pub fn render(title: &str, rows: &[Row]) -> String {
    let mut out = format!("{title}\n");
    let Some(first) = rows.first() else {
        out.push_str("(no rows)\n");
        return out;
    };
    let headers: Vec<String> = first.keys().iter().map(|k| k.to_string()).collect();
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| r.values().iter().map(ToString::to_string).collect())
        .collect();
    let widths: Vec<usize> = (0..headers.len())
        .map(|i| {
            cells
                .iter()
                .map(|row| row[i].chars().count())
                .chain([headers[i].chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |values: &[String]| {
        let padded: Vec<String> = values
            .iter()
            .zip(&widths)
            .map(|(v, w)| format!("{v:<w$}"))
            .collect();
        format!("| {} |\n", padded.join(" | "))
    };
    let rule = format!(
        "+{}+\n",
        widths
            .iter()
            .map(|w| "-".repeat(w + 2))
            .collect::<Vec<_>>()
            .join("+")
    );
    out.push_str(&rule);
    out.push_str(&line(&headers));
    out.push_str(&rule);
    for row in &cells {
        out.push_str(&line(row));
    }
    out.push_str(&rule);
    out
}

#[cfg(test)]
mod tests {
    use persistence::dialects::Value;
    use persistence::Row;

    #[test]
    fn aligns_columns() {
        let cols: std::sync::Arc<[std::sync::Arc<str>]> = vec!["id".into(), "name".into()].into();
        let rows = vec![
            Row::new(cols.clone(), vec![Value::Int(1), Value::from("Vlad")]),
            Row::new(cols, vec![Value::Int(22), Value::Null]),
        ];
        let text = super::render("workers", &rows);
        assert_eq!(
            text,
            "workers\n+----+------+\n| id | name |\n+----+------+\n| 1  | Vlad |\n| 22 | NULL |\n+----+------+\n"
        );
    }
}
