//! Relationship operators for WHERE (SQLAlchemy's `any()`, `has()`,
//! `contains()`) and joins along a relationship without writing the ON
//! clause (`select(A).join(A.bs)`, `.join(A.bs.of_type(alias))`).
//!
//! A [`Rel`] is one relationship of a mapper, taken from the configured
//! registry ([`Mappers::rel`] or [`Session::rel`]); its SQL is built from
//! the join columns `configure()` resolved
//! ([`RelationshipInfo::resolved`]), so nothing is spelled twice:
//!
//! | operator | relationship | SQL |
//! |---|---|---|
//! | `any()` / `any_where(c)` | one-to-many | `EXISTS (SELECT 1 FROM post WHERE post.publisher_id = publisher.id [AND c])` |
//! | | many-to-many | `EXISTS (SELECT 1 FROM post_tag [JOIN tag ON tag.id = post_tag.tag_id] WHERE post_tag.post_id = post.id [AND c])` |
//! | `has()` / `has_where(c)` | many-to-one | `EXISTS (SELECT 1 FROM publisher WHERE publisher.id = post.publisher_id [AND c])` |
//! | | one-to-one | `EXISTS (SELECT 1 FROM child WHERE child.fk = owner.id [AND c])` |
//! | `contains(&obj)` | one-to-many | `publisher.id = :obj.publisher_id` (the child's foreign key, as SQLAlchemy renders it) |
//! | | many-to-many | `EXISTS (SELECT 1 FROM post_tag WHERE post_tag.post_id = post.id AND post_tag.tag_id = :obj.id)` |
//!
//! The subqueries correlate to the enclosing statement's table (an ORM
//! select, or an ORM UPDATE / DELETE by criteria). A self-referential
//! relationship's subquery reads the table through an alias
//! (`employee_1`), and the criterion's columns of that table are moved
//! onto it, as SQLAlchemy adapts them; subqueries inside the criterion are
//! left as they are. [`Rel::of_type`] points the relationship at an alias
//! of its target instead (for the operators and for joins). Using an
//! operator on the wrong kind of relationship (`any()` on a many-to-one,
//! `contains` of an object of another type) is
//! [`Error::InvalidRequest`] naming the mapper and the relationship; an
//! unknown relationship name is too.
//!
//! ```no_run
//! use persistence::prelude::*;
//! # #[derive(Debug, Clone)] struct Publisher { id: Option<i64>, name: String }
//! # #[derive(Debug, Clone)] struct Post { id: Option<i64>, title: String }
//! # async fn demo(session: &mut Session, post: &Table, publisher: &Table) -> Result<(), Error> {
//! let posts = session.rel::<Publisher>("posts")?;
//! // SELECT ... FROM publisher WHERE EXISTS (SELECT 1 FROM post WHERE post.publisher_id = publisher.id AND post.title LIKE ?)
//! let rusty = session
//!     .scalars(orm::select::<Publisher>().where_(posts.any_where(post.c("title").like("%Rust%"))?))
//!     .await?
//!     .all();
//! // SELECT ... FROM post WHERE EXISTS (SELECT 1 FROM publisher WHERE publisher.id = post.publisher_id AND publisher.name = ?)
//! let by_manning = session
//!     .scalars(orm::select::<Post>().where_(session.rel::<Post>("publisher")?.has_where(publisher.c("name").eq("Manning"))?))
//!     .await?
//!     .all();
//! // SELECT ... FROM publisher JOIN post AS p ON p.publisher_id = publisher.id WHERE p.title = ?
//! let p = post.alias("p");
//! let joined = session
//!     .scalars(orm::select::<Publisher>().join_rel(&posts.of_type(&p)).where_(p.c("title").eq("Rust")).distinct())
//!     .await?
//!     .all();
//! # let _ = (rusty, by_manning, joined); Ok(()) }
//! ```

use std::any::TypeId;
use std::sync::Arc;

use dialects::sql::expr::{ColumnRef, Source};
use dialects::sql::select::{FromItem, IntoFrom, JoinKind};
use dialects::{literal_column, Alias, CompileError, Expr, Value};

use super::mapper::MapperInfo;
use super::query::Select;
use super::registry::Mappers;
use super::relationship::{RelationKind, RelationshipInfo, Resolved};
use super::session::Session;
use crate::error::Error;

/// One relationship of a mapper, for WHERE operators and joins (see the
/// [module docs](self)). Cheap to clone.
#[derive(Clone)]
pub struct Rel {
    mappers: Mappers,
    info: Arc<RelationshipInfo>,
    owner: Arc<MapperInfo>,
    target: Arc<MapperInfo>,
    /// The alias the target is read through (`of_type`).
    alias: Option<Alias>,
}

impl std::fmt::Debug for Rel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rel")
            .field("owner", &self.owner.type_name)
            .field("name", &self.info.name)
            .field("alias", &self.alias.as_ref().map(Alias::name))
            .finish()
    }
}

impl Mappers {
    /// The relationship `name` of `T`, for `any` / `has` / `contains` and
    /// [`Select::join_rel`]; an unknown name is
    /// [`Error::InvalidRequest`] naming `T` and the name.
    pub fn rel<T: 'static>(&self, name: &str) -> Result<Rel, Error> {
        let owner = self.mapper::<T>()?.info().clone();
        let access = self
            .relationship::<T>(name)
            .map_err(|_| Error::InvalidRequest {
                type_name: owner.type_name,
                field: name.to_owned(),
                message: format!(
                    "no relationship of this name (`{}` has: {})",
                    owner.type_name,
                    self.relationships_of(owner.type_id)
                        .iter()
                        .map(|r| r.info().name)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            })?;
        let info = access.info().clone();
        let target = self.info(info.target).cloned().ok_or(Error::UnmappedType {
            type_name: info.target_name,
        })?;
        Ok(Rel {
            mappers: self.clone(),
            info,
            owner,
            target,
            alias: None,
        })
    }
}

impl Session {
    /// [`Mappers::rel`] on the session's mappings.
    pub fn rel<T: 'static>(&self, name: &str) -> Result<Rel, Error> {
        self.mappers.rel::<T>(name)
    }
}

impl Rel {
    /// The relationship's description.
    pub fn info(&self) -> &RelationshipInfo {
        &self.info
    }

    /// The relationship with its target read through `alias` (an alias
    /// of the target's table), SQLAlchemy's `of_type(aliased(...))`.
    pub fn of_type(&self, alias: &Alias) -> Rel {
        Rel {
            alias: Some(alias.clone()),
            ..self.clone()
        }
    }

    fn err(&self, message: impl Into<String>) -> Error {
        Error::InvalidRequest {
            type_name: self.owner.type_name,
            field: self.info.name.to_owned(),
            message: message.into(),
        }
    }

    fn resolved(&self) -> Result<&Resolved, Error> {
        self.info.resolved().map_err(|e| self.err(e.to_string()))
    }

    fn self_referential(&self) -> bool {
        self.owner.table.name() == self.target.table.name()
            && self.owner.table.schema_name() == self.target.table.schema_name()
    }

    /// The target as the subquery reads it: the `of_type` alias, an
    /// automatic one for a self-referential relationship, or the table.
    fn inner_target(&self) -> Target {
        match &self.alias {
            Some(a) => Target::Alias(a.clone(), false),
            None if self.self_referential() && !self.info.kind.eq(&RelationKind::ManyToMany) => {
                Target::Alias(
                    self.target
                        .table
                        .alias(&format!("{}_1", self.target.table.name())),
                    true,
                )
            }
            None => Target::Table,
        }
    }

    fn owner_col(&self, name: &str) -> Expr {
        self.owner.table.c(name)
    }

    /// `EXISTS (SELECT 1 FROM <from> WHERE <conds>)`.
    fn exists(from: FromItem, conds: Vec<Expr>) -> Expr {
        dialects::exists(
            dialects::select(vec![literal_column("1")])
                .select_from(from)
                .where_(dialects::and_(conds)),
        )
    }

    /// `EXISTS` over the related rows, with an optional criterion on the
    /// target.
    fn related_exists(&self, criterion: Option<Expr>) -> Result<Expr, Error> {
        let r = self.resolved()?;
        let target = self.inner_target();
        let criterion = criterion.map(|c| target.adapt(c, &self.target));
        let col = |name: &str| target.col(&self.target, name);
        Ok(match self.info.kind {
            RelationKind::OneToMany | RelationKind::OneToOne => {
                let mut conds = vec![col(&r.fk).eq(self.owner_col(&r.referred))];
                conds.extend(criterion);
                Self::exists(target.from(&self.target), conds)
            }
            RelationKind::ManyToOne => {
                let mut conds = vec![col(&r.referred).eq(self.owner_col(&r.fk))];
                conds.extend(criterion);
                Self::exists(target.from(&self.target), conds)
            }
            RelationKind::ManyToMany => {
                let (Some(sec), Some(tfk), Some(tref)) =
                    (&r.secondary, &r.target_fk, &r.target_referred)
                else {
                    return Err(self.err("many-to-many without its secondary table"));
                };
                let link = sec.c(&r.fk).eq(self.owner_col(&r.referred));
                match criterion {
                    None => Self::exists(sec.into_from(), vec![link]),
                    Some(c) => Self::exists(
                        FromItem::Join {
                            left: Box::new(sec.into_from()),
                            right: Box::new(target.from(&self.target)),
                            kind: JoinKind::Inner,
                            on: Some(col(tref).eq(sec.c(tfk))),
                        },
                        vec![link, c],
                    ),
                }
            }
        })
    }

    fn collection(&self, op: &str) -> Result<(), Error> {
        if self.info.kind.is_collection() {
            Ok(())
        } else {
            Err(self.err(format!(
                "`{op}` is for collections; `{}` holds one object: use `has`",
                self.info.name
            )))
        }
    }

    fn single(&self, op: &str) -> Result<(), Error> {
        if self.info.kind.is_collection() {
            Err(self.err(format!(
                "`{op}` is for single objects; `{}` is a collection: use `any`",
                self.info.name
            )))
        } else {
            Ok(())
        }
    }

    /// Whether the collection has any related row (SQLAlchemy's
    /// `Publisher.posts.any()`).
    pub fn any(&self) -> Result<Expr, Error> {
        self.collection("any")?;
        self.related_exists(None)
    }

    /// Whether the collection has a related row matching `criterion` on
    /// the target (`Publisher.posts.any(Post.title == "x")`).
    pub fn any_where(&self, criterion: impl Into<Expr>) -> Result<Expr, Error> {
        self.collection("any")?;
        self.related_exists(Some(criterion.into()))
    }

    /// Whether the single related object exists (`Post.publisher.has()`).
    pub fn has(&self) -> Result<Expr, Error> {
        self.single("has")?;
        self.related_exists(None)
    }

    /// Whether the single related object exists and matches `criterion`
    /// (`Post.publisher.has(Publisher.name == "x")`).
    pub fn has_where(&self, criterion: impl Into<Expr>) -> Result<Expr, Error> {
        self.single("has")?;
        self.related_exists(Some(criterion.into()))
    }

    /// Whether the collection holds `child` (`Publisher.posts.contains(post)`),
    /// by the values `child` has: its foreign key for a one-to-many, its
    /// key for a many-to-many. No SQL is sent to build it.
    pub fn contains<C: 'static>(&self, child: &C) -> Result<Expr, Error> {
        self.collection("contains")?;
        if TypeId::of::<C>() != self.info.target {
            return Err(self.err(format!(
                "`contains` takes a `{}`, not a `{}`",
                self.info.target_name,
                std::any::type_name::<C>()
            )));
        }
        let mapper = self.mappers.mapper::<C>()?;
        let values = mapper.values(child)?;
        let value_of = |column: &str| -> Result<Value, Error> {
            self.target
                .position(column)
                .and_then(|i| values.get(i).cloned())
                .ok_or_else(|| self.err(format!("`{column}` of the target is not mapped")))
        };
        let r = self.resolved()?;
        Ok(match self.info.kind {
            RelationKind::ManyToMany => {
                let (Some(sec), Some(tfk), Some(tref)) =
                    (&r.secondary, &r.target_fk, &r.target_referred)
                else {
                    return Err(self.err("many-to-many without its secondary table"));
                };
                let key = value_of(tref)?;
                if key.is_null() {
                    return Ok(dialects::or_(Vec::new()));
                }
                Self::exists(
                    sec.into_from(),
                    vec![
                        sec.c(&r.fk).eq(self.owner_col(&r.referred)),
                        sec.c(tfk).eq(key),
                    ],
                )
            }
            _ => {
                let fk = value_of(&r.fk)?;
                if fk.is_null() {
                    return Ok(dialects::or_(Vec::new()));
                }
                self.owner_col(&r.referred).eq(fk)
            }
        })
    }

    /// The joins that reach the target from the owner's table: for a
    /// many-to-many, the secondary table first.
    pub(crate) fn joins(&self) -> Result<Vec<(FromItem, Expr)>, Error> {
        let r = self.resolved()?;
        if self.alias.is_none() && self.self_referential() {
            return Err(
                self.err("joining a relationship to its own table needs an alias: use `of_type`")
            );
        }
        let target = match &self.alias {
            Some(a) => Target::Alias(a.clone(), false),
            None => Target::Table,
        };
        let col = |name: &str| target.col(&self.target, name);
        Ok(match self.info.kind {
            RelationKind::OneToMany | RelationKind::OneToOne => vec![(
                target.from(&self.target),
                col(&r.fk).eq(self.owner_col(&r.referred)),
            )],
            RelationKind::ManyToOne => vec![(
                target.from(&self.target),
                col(&r.referred).eq(self.owner_col(&r.fk)),
            )],
            RelationKind::ManyToMany => match (&r.secondary, &r.target_fk, &r.target_referred) {
                (Some(sec), Some(tfk), Some(tref)) => vec![
                    (
                        sec.into_from(),
                        sec.c(&r.fk).eq(self.owner_col(&r.referred)),
                    ),
                    (target.from(&self.target), col(tref).eq(sec.c(tfk))),
                ],
                _ => return Err(self.err("many-to-many without its secondary table")),
            },
        })
    }
}

/// How a relationship's target is read.
enum Target {
    /// Its table.
    Table,
    /// An alias; `true` when the criterion's columns of the table move
    /// onto it (an automatic alias).
    Alias(Alias, bool),
}

impl Target {
    fn col(&self, target: &MapperInfo, name: &str) -> Expr {
        match self {
            Target::Table => target.table.c(name),
            Target::Alias(a, _) => a.c(name),
        }
    }

    fn from(&self, target: &MapperInfo) -> FromItem {
        match self {
            Target::Table => (&target.table).into_from(),
            Target::Alias(a, _) => a.into_from(),
        }
    }

    fn adapt(&self, e: Expr, target: &MapperInfo) -> Expr {
        match self {
            Target::Alias(a, true) => adapt(e, target, a),
            _ => e,
        }
    }
}

/// `e` with the columns of `target`'s table read through `alias`
/// (SQLAlchemy's `ClauseAdapter`); subqueries are left as they are.
fn adapt(e: Expr, target: &MapperInfo, alias: &Alias) -> Expr {
    let go = |e: Box<Expr>| Box::new(adapt(*e, target, alias));
    let all = |v: Vec<Expr>| v.into_iter().map(|x| adapt(x, target, alias)).collect();
    match e {
        Expr::Column(ColumnRef { source, name }) => match source.as_deref() {
            Some(Source::Table {
                name: table,
                schema,
                ..
            }) if **table == *target.table.name()
                && schema.as_deref() == target.table.schema_name() =>
            {
                alias.c(&name)
            }
            _ => Expr::Column(ColumnRef { source, name }),
        },
        Expr::Binary { op, left, right } => Expr::Binary {
            op,
            left: go(left),
            right: go(right),
        },
        Expr::Unary { op, expr } => Expr::Unary { op, expr: go(expr) },
        Expr::IsNull { expr, negated } => Expr::IsNull {
            expr: go(expr),
            negated,
        },
        Expr::InList {
            expr,
            list,
            negated,
        } => Expr::InList {
            expr: go(expr),
            list: all(list),
            negated,
        },
        Expr::Between {
            expr,
            low,
            high,
            negated,
        } => Expr::Between {
            expr: go(expr),
            low: go(low),
            high: go(high),
            negated,
        },
        Expr::Function { name, args } => Expr::Function {
            name,
            args: all(args),
        },
        Expr::Special { func, args } => Expr::Special {
            func,
            args: all(args),
        },
        Expr::Cast { expr, ty } => Expr::Cast { expr: go(expr), ty },
        Expr::Label { expr, name } => Expr::Label {
            expr: go(expr),
            name,
        },
        Expr::Case {
            operand,
            whens,
            else_,
        } => Expr::Case {
            operand: operand.map(go),
            whens: whens
                .into_iter()
                .map(|(w, t)| (adapt(w, target, alias), adapt(t, target, alias)))
                .collect(),
            else_: else_.map(go),
        },
        Expr::Tuple(items) => Expr::Tuple(all(items)),
        other => other,
    }
}

impl<T> Select<T> {
    /// `JOIN` along a relationship, its ON clause from the relationship's
    /// join columns (SQLAlchemy's `select(A).join(A.bs)`); through the
    /// secondary table for a many-to-many; to an alias with
    /// [`Rel::of_type`]. The relationship may belong to a type joined
    /// earlier (`.join_rel(&publisher_posts).join_rel(&post_tags)`).
    pub fn join_rel(self, rel: &Rel) -> Self {
        self.rel_joins(rel, JoinKind::Inner)
    }

    /// `LEFT OUTER JOIN` along a relationship (see [`Select::join_rel`]).
    pub fn outerjoin_rel(self, rel: &Rel) -> Self {
        self.rel_joins(rel, JoinKind::Left)
    }

    /// A relationship that cannot be joined leaves a condition that fails
    /// to compile, naming the mapper and the relationship.
    fn rel_joins(mut self, rel: &Rel, kind: JoinKind) -> Self {
        match rel.joins() {
            Ok(joins) => {
                for (from, on) in joins {
                    self.joins.push((from, on, kind));
                }
            }
            Err(e) => self
                .where_
                .push(Expr::Invalid(Box::new(CompileError::Invalid(
                    e.to_string(),
                )))),
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::orm::session::core_select;
    use crate::orm::{presets, Registry, RelOptions, RelationshipDef};
    use dialects::{Column, Postgres, SqlType, Table};

    #[derive(Debug, Clone, Default)]
    struct Publisher {
        id: Option<i64>,
        name: String,
        posts: Vec<Post>,
    }

    #[derive(Debug, Clone, Default)]
    struct Post {
        id: Option<i64>,
        title: String,
        publisher_id: Option<i64>,
        publisher: Option<Publisher>,
        tags: Vec<Tag>,
    }

    #[derive(Debug, Clone, Default)]
    struct Tag {
        id: Option<i64>,
        name: String,
    }

    #[derive(Debug, Clone, Default)]
    struct Employee {
        id: Option<i64>,
        manager_id: Option<i64>,
        reports: Vec<Employee>,
        manager: Option<Box<Employee>>,
    }

    fn mappers() -> Mappers {
        let mut registry = Registry::new();
        let publisher = Table::new("publisher")
            .column(Column::new("id", SqlType::BigInteger).primary_key())
            .column(Column::new("name", SqlType::string(50)).not_null());
        let post = Table::new("post")
            .column(Column::new("id", SqlType::BigInteger).primary_key())
            .column(Column::new("title", SqlType::string(50)).not_null())
            .column(
                Column::new("publisher_id", SqlType::BigInteger)
                    .nullable(true)
                    .foreign_key("publisher.id"),
            );
        let tag = Table::new("tag")
            .column(Column::new("id", SqlType::BigInteger).primary_key())
            .column(Column::new("name", SqlType::string(50)).not_null());
        let post_tag = registry.add_table(
            Table::new("post_tag")
                .column(
                    Column::new("post_id", SqlType::BigInteger)
                        .primary_key()
                        .foreign_key("post.id"),
                )
                .column(
                    Column::new("tag_id", SqlType::BigInteger)
                        .primary_key()
                        .foreign_key("tag.id"),
                ),
        );
        let employee = Table::new("employee")
            .column(Column::new("id", SqlType::BigInteger).primary_key())
            .column(
                Column::new("manager_id", SqlType::BigInteger)
                    .nullable(true)
                    .foreign_key("employee.id"),
            );
        registry
            .map_imperatively(&publisher, crate::mapping!(Publisher { id: Option<i64> = "id", name: String = "name", ..{ posts } }))
            .relationship(RelationshipDef::many("posts", |p: &Publisher| &p.posts, |p| &mut p.posts, RelOptions::default()))
            .finish();
        registry
            .map_imperatively(&post, crate::mapping!(Post { id: Option<i64> = "id", title: String = "title", publisher_id: Option<i64> = "publisher_id", ..{ publisher, tags } }))
            .relationship(RelationshipDef::parent("publisher", |p: &Post| &p.publisher, |p| &mut p.publisher, RelOptions::default()))
            .relationship(RelationshipDef::many("tags", |p: &Post| &p.tags, |p| &mut p.tags, RelOptions::default().secondary(&post_tag)))
            .finish();
        registry
            .map_imperatively(
                &tag,
                crate::mapping!(Tag { id: Option<i64> = "id", name: String = "name" }),
            )
            .finish();
        registry
            .map_imperatively(&employee, crate::mapping!(Employee { id: Option<i64> = "id", manager_id: Option<i64> = "manager_id", ..{ reports, manager } }))
            .relationship(RelationshipDef::many("reports", |e: &Employee| &e.reports, |e| &mut e.reports, RelOptions::default()))
            .relationship(RelationshipDef::parent::<Employee, _>("manager", |e: &Employee| &e.manager, |e| &mut e.manager, RelOptions::default()))
            .finish();
        let _ = presets::intpk;
        registry.configure().expect("configure")
    }

    fn sql<T: 'static>(m: &Mappers, stmt: Select<T>) -> (String, Vec<Value>) {
        let info = m.mapper::<T>().expect("mapped").info().clone();
        let c = core_select(&info, stmt, &[])
            .expect("select")
            .compile(&Postgres)
            .expect("compiles");
        (c.sql, c.params)
    }

    const PUB: &str = "SELECT publisher.id, publisher.name FROM publisher";
    const POST: &str = "SELECT post.id, post.title, post.publisher_id FROM post";

    #[test]
    fn any_has_contains_sql() {
        let m = mappers();
        let posts = m.rel::<Publisher>("posts").expect("rel");
        let post = m.mapper::<Post>().expect("post").table().clone();
        let (s, p) = sql(
            &m,
            crate::orm::select::<Publisher>().where_(posts.any().expect("any")),
        );
        assert_eq!(
            s,
            format!(
                "{PUB} WHERE EXISTS (SELECT 1 FROM post WHERE post.publisher_id = publisher.id)"
            )
        );
        assert!(p.is_empty());
        let (s, p) = sql(
            &m,
            crate::orm::select::<Publisher>()
                .where_(posts.any_where(post.c("title").eq("Rust")).expect("any")),
        );
        assert_eq!(
            s,
            format!("{PUB} WHERE EXISTS (SELECT 1 FROM post WHERE post.publisher_id = publisher.id AND post.title = $1)")
        );
        assert_eq!(p, [Value::from("Rust")]);

        let publisher = m.rel::<Post>("publisher").expect("rel");
        let pt = m.mapper::<Publisher>().expect("p").table().clone();
        let (s, _) = sql(
            &m,
            crate::orm::select::<Post>()
                .where_(publisher.has_where(pt.c("name").eq("M")).expect("has")),
        );
        assert_eq!(
            s,
            format!("{POST} WHERE EXISTS (SELECT 1 FROM publisher WHERE publisher.id = post.publisher_id AND publisher.name = $1)")
        );

        let tags = m.rel::<Post>("tags").expect("rel");
        let tag = m.mapper::<Tag>().expect("t").table().clone();
        let (s, _) = sql(
            &m,
            crate::orm::select::<Post>()
                .where_(tags.any_where(tag.c("name").eq("db")).expect("any")),
        );
        assert_eq!(
            s,
            format!("{POST} WHERE EXISTS (SELECT 1 FROM post_tag JOIN tag ON tag.id = post_tag.tag_id WHERE post_tag.post_id = post.id AND tag.name = $1)")
        );
        let t = Tag {
            id: Some(4),
            name: "db".into(),
        };
        let (s, p) = sql(
            &m,
            crate::orm::select::<Post>().where_(tags.contains(&t).expect("contains")),
        );
        assert_eq!(
            s,
            format!("{POST} WHERE EXISTS (SELECT 1 FROM post_tag WHERE post_tag.post_id = post.id AND post_tag.tag_id = $1)")
        );
        assert_eq!(p, [Value::BigInt(4)]);
        let child = Post {
            publisher_id: Some(9),
            ..Post::default()
        };
        let (s, p) = sql(
            &m,
            crate::orm::select::<Publisher>().where_(posts.contains(&child).expect("contains")),
        );
        assert_eq!(s, format!("{PUB} WHERE publisher.id = $1"));
        assert_eq!(p, [Value::BigInt(9)]);
    }

    #[test]
    fn self_referential_subqueries_read_an_alias() {
        let m = mappers();
        let reports = m.rel::<Employee>("reports").expect("rel");
        let emp = m.mapper::<Employee>().expect("e").table().clone();
        let (s, _) = sql(
            &m,
            crate::orm::select::<Employee>()
                .where_(reports.any_where(emp.c("id").gt(3)).expect("any")),
        );
        assert_eq!(
            s,
            "SELECT employee.id, employee.manager_id FROM employee WHERE EXISTS (SELECT 1 FROM employee AS employee_1 \
             WHERE employee_1.manager_id = employee.id AND employee_1.id > $1)"
        );
        let manager = m.rel::<Employee>("manager").expect("rel");
        let (s, _) = sql(
            &m,
            crate::orm::select::<Employee>().where_(dialects::not_(manager.has().expect("has"))),
        );
        assert_eq!(
            s,
            "SELECT employee.id, employee.manager_id FROM employee WHERE NOT EXISTS (SELECT 1 FROM employee AS employee_1 \
             WHERE employee_1.id = employee.manager_id)"
        );
        // A join to its own table needs an alias.
        let boss = emp.alias("boss");
        let (s, _) = sql(
            &m,
            crate::orm::select::<Employee>().join_rel(&manager.of_type(&boss)),
        );
        assert_eq!(
            s,
            "SELECT employee.id, employee.manager_id FROM employee JOIN employee AS boss ON boss.id = employee.manager_id"
        );
        let info = m.mapper::<Employee>().expect("e").info().clone();
        let err = core_select(
            &info,
            crate::orm::select::<Employee>().join_rel(&manager),
            &[],
        )
        .expect("built")
        .compile(&Postgres)
        .unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("needs an alias")
                && text.contains("Employee")
                && text.contains("`manager`"),
            "{text}"
        );
    }

    #[test]
    fn joins_along_relationships() {
        let m = mappers();
        let posts = m.rel::<Publisher>("posts").expect("rel");
        let tags = m.rel::<Post>("tags").expect("rel");
        let (s, _) = sql(
            &m,
            crate::orm::select::<Publisher>()
                .join_rel(&posts)
                .join_rel(&tags),
        );
        assert_eq!(
            s,
            format!("{PUB} JOIN post ON post.publisher_id = publisher.id JOIN post_tag ON post_tag.post_id = post.id \
                     JOIN tag ON tag.id = post_tag.tag_id")
        );
        let p = m.mapper::<Post>().expect("p").table().alias("p");
        let (s, _) = sql(
            &m,
            crate::orm::select::<Publisher>().outerjoin_rel(&posts.of_type(&p)),
        );
        assert_eq!(
            s,
            format!("{PUB} LEFT OUTER JOIN post AS p ON p.publisher_id = publisher.id")
        );
    }

    #[test]
    fn wrong_operator_or_name_is_a_typed_error() {
        let m = mappers();
        let publisher = m.rel::<Post>("publisher").expect("rel");
        let posts = m.rel::<Publisher>("posts").expect("rel");
        let field_of = |e: Error| match e {
            Error::InvalidRequest {
                type_name, field, ..
            } => (type_name, field),
            other => panic!("{other:?}"),
        };
        let (t, f) = field_of(publisher.any().unwrap_err());
        assert!(t.ends_with("Post") && f == "publisher", "{t} {f}");
        let (_, f) = field_of(posts.has().unwrap_err());
        assert_eq!(f, "posts");
        let (_, f) = field_of(posts.contains(&Tag::default()).unwrap_err());
        assert_eq!(f, "posts");
        let (t, f) = field_of(m.rel::<Publisher>("psots").unwrap_err());
        assert!(t.ends_with("Publisher") && f == "psots");
    }
}
