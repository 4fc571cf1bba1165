//! A [`ListSpec`] evaluated in memory, with SQL's semantics: a comparison
//! with NULL is never true (only `IS NULL` / `= NULL` match it), `NOT IN`
//! with a NULL in the list matches nothing, `LIKE` takes `%`, `_` and `\`
//! escapes and is case-sensitive, NULLs sort first in ascending order (as
//! SQLite and MySQL do; PostgreSQL sorts them last, so portable tests do
//! not order by a nullable field). Text filter values are converted to a
//! numeric or boolean field's type, as the SQL repository binds them; a
//! value that does not fit is [`DomainError::Invalid`].

use std::cmp::Ordering;

use crate::entity::Entity;
use crate::error::DomainError;
use crate::filter::{Direction, Filter, FilterOp, FilterValue, ListSpec};

use super::fields::Fields;

/// The entities of `rows` that `spec` selects, in its order and page.
pub(crate) fn select<T: Entity + Clone>(
    fields: &Fields<T>,
    rows: &[T],
    spec: &ListSpec,
) -> Result<Vec<T>, DomainError> {
    let mut out = filtered(fields, rows, spec)?;
    if !spec.order_by.is_empty() {
        let mut keyed = Vec::with_capacity(out.len());
        for entity in out {
            let key = spec
                .order_by
                .iter()
                .map(|o| field(fields, &entity, &o.field))
                .collect::<Result<Vec<_>, _>>()?;
            keyed.push((key, entity));
        }
        keyed.sort_by(|(a, _), (b, _)| {
            for ((x, y), o) in a.iter().zip(b).zip(&spec.order_by) {
                let ord = order(x, y);
                let ord = match o.direction {
                    Direction::Desc => ord.reverse(),
                    _ => ord,
                };
                if ord != Ordering::Equal {
                    return ord;
                }
            }
            Ordering::Equal
        });
        out = keyed.into_iter().map(|(_, e)| e).collect();
    }
    let offset = usize::try_from(spec.offset.unwrap_or(0)).unwrap_or(usize::MAX);
    let limit = spec
        .limit
        .map_or(usize::MAX, |l| usize::try_from(l).unwrap_or(usize::MAX));
    Ok(out.into_iter().skip(offset).take(limit).collect())
}

/// The entities of `rows` matching `spec`'s filters, in their order.
pub(crate) fn filtered<T: Entity + Clone>(
    fields: &Fields<T>,
    rows: &[T],
    spec: &ListSpec,
) -> Result<Vec<T>, DomainError> {
    spec.validate()?;
    // Unknown fields are an error even when no row is there to read.
    for name in spec
        .filters
        .iter()
        .map(|f| &f.field)
        .chain(spec.order_by.iter().map(|o| &o.field))
    {
        if !fields.names().contains(&name.as_ref()) {
            return Err(unknown(fields, name));
        }
    }
    let mut out = Vec::new();
    for entity in rows {
        let mut keep = true;
        for filter in &spec.filters {
            if !matches(&field(fields, entity, &filter.field)?, filter)? {
                keep = false;
                break;
            }
        }
        if keep {
            out.push(entity.clone());
        }
    }
    Ok(out)
}

fn unknown<T: Entity>(fields: &Fields<T>, name: &str) -> DomainError {
    DomainError::Invalid(format!(
        "`{}` has no field `{name}` (fields: {})",
        T::entity_name(),
        fields.names().join(", ")
    ))
}

fn field<T: Entity>(
    fields: &Fields<T>,
    entity: &T,
    name: &str,
) -> Result<FilterValue, DomainError> {
    fields
        .read(entity, name)
        .ok_or_else(|| unknown(fields, name))
}

/// Whether a row whose field holds `value` passes `filter`.
fn matches(value: &FilterValue, filter: &Filter) -> Result<bool, DomainError> {
    use FilterValue as V;
    let operand = &filter.value;
    Ok(match filter.op {
        FilterOp::IsNull => value.is_null(),
        FilterOp::IsNotNull => !value.is_null(),
        FilterOp::Eq if operand.is_null() => value.is_null(),
        FilterOp::Ne if operand.is_null() => !value.is_null(),
        _ if value.is_null() => false,
        FilterOp::Eq => compare(value, operand, &filter.field)? == Ordering::Equal,
        FilterOp::Ne => compare(value, operand, &filter.field)? != Ordering::Equal,
        FilterOp::Lt => compare(value, operand, &filter.field)? == Ordering::Less,
        FilterOp::Le => compare(value, operand, &filter.field)? != Ordering::Greater,
        FilterOp::Gt => compare(value, operand, &filter.field)? == Ordering::Greater,
        FilterOp::Ge => compare(value, operand, &filter.field)? != Ordering::Less,
        FilterOp::Like => match (value, operand) {
            (V::Text(text), V::Text(pattern)) => like(text, pattern),
            _ => return Err(misfit(&filter.field, operand, value)),
        },
        FilterOp::In | FilterOp::NotIn => {
            let V::List(items) = operand else {
                return Err(misfit(&filter.field, operand, value));
            };
            let mut found = false;
            let mut null = false;
            for item in items {
                if item.is_null() {
                    null = true;
                } else if compare(value, item, &filter.field)? == Ordering::Equal {
                    found = true;
                }
            }
            if filter.op == FilterOp::In {
                found
            } else {
                !found && !null
            }
        }
    })
}

fn misfit(field: &str, operand: &FilterValue, value: &FilterValue) -> DomainError {
    DomainError::Invalid(format!(
        "filter on `{field}`: {operand:?} does not fit the field's value {value:?}"
    ))
}

/// `value` (a field's, not null) against `operand`, the operand converted
/// to the field's kind.
fn compare(
    value: &FilterValue,
    operand: &FilterValue,
    field: &str,
) -> Result<Ordering, DomainError> {
    use FilterValue as V;
    let bad = || misfit(field, operand, value);
    Ok(match (value, operand) {
        (V::Int(a), V::Int(b)) => a.cmp(b),
        (V::Int(a), V::Float(b)) => (*a as f64).partial_cmp(b).ok_or_else(bad)?,
        (V::Float(a), V::Int(b)) => a.partial_cmp(&(*b as f64)).ok_or_else(bad)?,
        (V::Float(a), V::Float(b)) => a.partial_cmp(b).ok_or_else(bad)?,
        (V::Int(a), V::Text(b)) => a.cmp(&b.trim().parse::<i64>().map_err(|_| bad())?),
        (V::Float(a), V::Text(b)) => a
            .partial_cmp(&b.trim().parse::<f64>().map_err(|_| bad())?)
            .ok_or_else(bad)?,
        (V::Bool(a), V::Bool(b)) => a.cmp(b),
        (V::Bool(a), V::Text(b)) => a.cmp(&b.trim().parse::<bool>().map_err(|_| bad())?),
        (V::Text(a), V::Text(b)) => a.cmp(b),
        _ => return Err(bad()),
    })
}

/// The sort order of two field values: NULL first, then by value.
fn order(a: &FilterValue, b: &FilterValue) -> Ordering {
    use FilterValue as V;
    match (a, b) {
        (V::Null, V::Null) => Ordering::Equal,
        (V::Null, _) => Ordering::Less,
        (_, V::Null) => Ordering::Greater,
        _ => compare(a, b, "").unwrap_or(Ordering::Equal),
    }
}

/// SQL `LIKE` with `%`, `_` and `\` as escape.
fn like(text: &str, pattern: &str) -> bool {
    #[derive(Clone, Copy, PartialEq)]
    enum Tok {
        Any,
        One,
        Lit(char),
    }
    let mut toks = Vec::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        toks.push(match c {
            '%' => Tok::Any,
            '_' => Tok::One,
            '\\' => Tok::Lit(chars.next().unwrap_or('\\')),
            c => Tok::Lit(c),
        });
    }
    let text: Vec<char> = text.chars().collect();
    // reachable[i]: the first i characters are matched by the tokens so far.
    let mut reachable = vec![false; text.len() + 1];
    reachable[0] = true;
    for tok in toks {
        let mut next = vec![false; text.len() + 1];
        for i in 0..=text.len() {
            if !reachable[i] {
                continue;
            }
            match tok {
                Tok::Any => next[i..].iter_mut().for_each(|r| *r = true),
                Tok::One if i < text.len() => next[i + 1] = true,
                Tok::Lit(c) if i < text.len() && text[i] == c => next[i + 1] = true,
                _ => {}
            }
        }
        reachable = next;
    }
    reachable[text.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns() {
        assert!(like("Vlad", "Vl%"));
        assert!(like("Vlad", "%a%"));
        assert!(like("Vlad", "V_a_"));
        assert!(!like("Vlad", "v%"));
        assert!(!like("Vlad", "Vla"));
        assert!(like("50%_off", "50\\%\\_off"));
        assert!(!like("50x_off", "50\\%_off"));
        assert!(like("", "%"));
        assert!(!like("", "_"));
    }

    #[test]
    fn nulls_never_compare() {
        let f = |op, v: FilterValue| Filter {
            field: "x".into(),
            op,
            value: v,
        };
        let null = FilterValue::Null;
        assert!(!matches(&null, &f(FilterOp::Ne, 1.into())).unwrap_or(true));
        assert!(matches(&null, &f(FilterOp::Eq, FilterValue::Null)).unwrap_or(false));
        assert!(
            !matches(&1.into(), &f(FilterOp::NotIn, vec![Some(2), None].into())).unwrap_or(true)
        );
        assert!(matches(&1.into(), &f(FilterOp::NotIn, vec![2].into())).unwrap_or(false));
        assert!(matches(&7.into(), &f(FilterOp::Eq, "7".into())).unwrap_or(false));
        assert!(matches(&"a".into(), &f(FilterOp::Eq, 1.into())).is_err());
    }
}
