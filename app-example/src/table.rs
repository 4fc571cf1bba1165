//! Prints rows as a readable text table.

use persistence::Row;

/// Renders `rows` under `title` as an aligned table with a header.
pub fn render(title: &str, rows: &[Row]) -> String {
    let Some(first) = rows.first() else {
        return render_text::<&str>(title, &[], &[]);
    };
    let headers: Vec<String> = first.keys().iter().map(|k| k.to_string()).collect();
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| r.values().iter().map(ToString::to_string).collect())
        .collect();
    render_text(title, &headers, &cells)
}

/// Renders text cells under `title` as an aligned table with `headers`;
/// no rows gives `(no rows)`.
pub fn render_text<H: AsRef<str>>(title: &str, headers: &[H], cells: &[Vec<String>]) -> String {
    let mut out = format!("{title}\n");
    if cells.is_empty() {
        out.push_str("(no rows)\n");
        return out;
    }
    let widths: Vec<usize> = (0..headers.len())
        .map(|i| {
            cells
                .iter()
                .map(|row| row.get(i).map_or(0, |c| c.chars().count()))
                .chain([headers[i].as_ref().chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |values: &mut dyn Iterator<Item = &str>| {
        let padded: Vec<String> = values
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
    out.push_str(&line(&mut headers.iter().map(AsRef::as_ref)));
    out.push_str(&rule);
    for row in cells {
        out.push_str(&line(&mut row.iter().map(String::as_str)));
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
        assert_eq!(super::render("empty", &[]), "empty\n(no rows)\n");
        let text = super::render_text("t", &["a"], &[vec!["Zoë".to_owned()]]);
        assert_eq!(text, "t\n+-----+\n| a   |\n+-----+\n| Zoë |\n+-----+\n");
    }
}
