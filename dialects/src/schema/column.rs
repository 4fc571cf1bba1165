//! Column definitions of a [`Table`](super::Table).

use super::types::SqlType;
use crate::sql::expr::Expr;
use crate::value::Value;

/// What a foreign key does when the row it points at is deleted or updated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReferentialAction {
    /// `CASCADE`
    Cascade,
    /// `SET NULL`
    SetNull,
    /// `SET DEFAULT`
    SetDefault,
    /// `RESTRICT`
    Restrict,
    /// `NO ACTION`
    NoAction,
}

impl ReferentialAction {
    /// The SQL keywords for this action.
    pub fn as_sql(self) -> &'static str {
        match self {
            ReferentialAction::Cascade => "CASCADE",
            ReferentialAction::SetNull => "SET NULL",
            ReferentialAction::SetDefault => "SET DEFAULT",
            ReferentialAction::Restrict => "RESTRICT",
            ReferentialAction::NoAction => "NO ACTION",
        }
    }
}

/// A default computed by the server, rendered into the DDL.
#[derive(Debug, Clone, PartialEq)]
pub enum ServerDefault {
    /// A constant, rendered as a SQL literal in the DDL only.
    Literal(Value),
    /// An expression such as `func::utc_now()`.
    Expr(Expr),
}

/// A default or onupdate value the ORM applies at flush, not the server.
#[derive(Clone)]
pub enum ColumnDefault {
    /// A constant.
    Value(Value),
    /// A function called at flush time (for example the current UTC time).
    Callable(std::sync::Arc<dyn Fn() -> Value + Send + Sync>),
}

impl ColumnDefault {
    /// Produces the value to write.
    pub fn value(&self) -> Value {
        match self {
            ColumnDefault::Value(v) => v.clone(),
            ColumnDefault::Callable(f) => f(),
        }
    }
}

impl std::fmt::Debug for ColumnDefault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ColumnDefault::Value(v) => write!(f, "Value({v:?})"),
            ColumnDefault::Callable(_) => f.write_str("Callable(..)"),
        }
    }
}

impl PartialEq for ColumnDefault {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (ColumnDefault::Value(a), ColumnDefault::Value(b)) => a == b,
            (ColumnDefault::Callable(a), ColumnDefault::Callable(b)) => {
                std::sync::Arc::ptr_eq(a, b)
            }
            _ => false,
        }
    }
}

/// A foreign key from one column to `table.column`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ForeignKey {
    /// The referenced table.
    pub table: String,
    /// The referenced column.
    pub column: String,
    /// `ON DELETE` action.
    pub on_delete: Option<ReferentialAction>,
    /// `ON UPDATE` action.
    pub on_update: Option<ReferentialAction>,
}

impl ForeignKey {
    /// Parses `"table.column"`; a target without a dot refers to the `id` column.
    pub fn parse(target: &str) -> Self {
        let (table, column) = target.rsplit_once('.').unwrap_or((target, "id"));
        ForeignKey {
            table: table.to_owned(),
            column: column.to_owned(),
            on_delete: None,
            on_update: None,
        }
    }
}

/// One column of a table: its name, type and constraints.
///
/// ```
/// use dialects::{Column, SqlType};
/// let id = Column::new("id", SqlType::Integer).primary_key();
/// let name = Column::new("name", SqlType::string(256)).nullable(true);
/// assert!(id.is_primary_key() && !id.is_nullable());
/// assert!(name.is_nullable());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub(crate) name: String,
    pub(crate) ty: SqlType,
    pub(crate) nullable: Option<bool>,
    pub(crate) primary_key: bool,
    pub(crate) autoincrement: Option<bool>,
    pub(crate) unique: bool,
    pub(crate) index: bool,
    pub(crate) server_default: Option<ServerDefault>,
    pub(crate) default: Option<ColumnDefault>,
    pub(crate) onupdate: Option<ColumnDefault>,
    pub(crate) foreign_key: Option<ForeignKey>,
}

impl Column {
    /// A column named `name` of type `ty`: nullable unless it is a primary key.
    pub fn new(name: impl Into<String>, ty: SqlType) -> Self {
        Column {
            name: name.into(),
            ty,
            nullable: None,
            primary_key: false,
            autoincrement: None,
            unique: false,
            index: false,
            server_default: None,
            default: None,
            onupdate: None,
            foreign_key: None,
        }
    }

    /// The same column with another type (a mapping adjusting the type it
    /// inferred: `|c| c.of_type(SqlType::string(256))`).
    pub fn of_type(mut self, ty: SqlType) -> Self {
        self.ty = ty;
        self
    }

    /// The same column under another name.
    pub fn renamed(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Makes the column (part of) the primary key.
    pub fn primary_key(mut self) -> Self {
        self.primary_key = true;
        self
    }

    /// Sets whether the column accepts `NULL`.
    pub fn nullable(mut self, nullable: bool) -> Self {
        self.nullable = Some(nullable);
        self
    }

    /// Shorthand for `.nullable(false)`.
    pub fn not_null(self) -> Self {
        self.nullable(false)
    }

    /// Sets whether the server generates values (by default: a lone integer
    /// primary key without a foreign key does).
    pub fn autoincrement(mut self, on: bool) -> Self {
        self.autoincrement = Some(on);
        self
    }

    /// Adds a `UNIQUE` constraint on this column.
    pub fn unique(mut self) -> Self {
        self.unique = true;
        self
    }

    /// Adds an index on this column alone (named `ix_<table>_<column>`).
    pub fn index(mut self) -> Self {
        self.index = true;
        self
    }

    /// A default the server applies: a constant or an expression.
    pub fn server_default(mut self, default: impl Into<ServerDefaultArg>) -> Self {
        self.server_default = Some(default.into().0);
        self
    }

    /// A constant the ORM writes when an insert leaves the column unset.
    pub fn default(mut self, value: impl Into<Value>) -> Self {
        self.default = Some(ColumnDefault::Value(value.into()));
        self
    }

    /// A function the ORM calls when an insert leaves the column unset.
    pub fn default_with(mut self, f: impl Fn() -> Value + Send + Sync + 'static) -> Self {
        self.default = Some(ColumnDefault::Callable(std::sync::Arc::new(f)));
        self
    }

    /// A function the ORM calls for every update of the row.
    pub fn onupdate(mut self, f: impl Fn() -> Value + Send + Sync + 'static) -> Self {
        self.onupdate = Some(ColumnDefault::Callable(std::sync::Arc::new(f)));
        self
    }

    /// A foreign key to `"table.column"`.
    pub fn foreign_key(mut self, target: &str) -> Self {
        self.foreign_key = Some(ForeignKey::parse(target));
        self
    }

    /// Sets the `ON DELETE` action of this column's foreign key.
    pub fn on_delete(mut self, action: ReferentialAction) -> Self {
        if let Some(fk) = &mut self.foreign_key {
            fk.on_delete = Some(action);
        }
        self
    }

    /// Sets the `ON UPDATE` action of this column's foreign key.
    pub fn on_update(mut self, action: ReferentialAction) -> Self {
        if let Some(fk) = &mut self.foreign_key {
            fk.on_update = Some(action);
        }
        self
    }

    /// The column's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The column's type.
    pub fn sql_type(&self) -> &SqlType {
        &self.ty
    }

    /// Whether the column is part of the primary key.
    pub fn is_primary_key(&self) -> bool {
        self.primary_key
    }

    /// Whether the column accepts `NULL` (primary keys never do).
    pub fn is_nullable(&self) -> bool {
        self.nullable.unwrap_or(!self.primary_key)
    }

    /// Whether the column has a `UNIQUE` constraint of its own.
    pub fn is_unique(&self) -> bool {
        self.unique
    }

    /// The server default, if any.
    pub fn get_server_default(&self) -> Option<&ServerDefault> {
        self.server_default.as_ref()
    }

    /// The ORM-side default, if any.
    pub fn get_default(&self) -> Option<&ColumnDefault> {
        self.default.as_ref()
    }

    /// The ORM-side onupdate value, if any.
    pub fn get_onupdate(&self) -> Option<&ColumnDefault> {
        self.onupdate.as_ref()
    }

    /// The foreign key, if any.
    pub fn get_foreign_key(&self) -> Option<&ForeignKey> {
        self.foreign_key.as_ref()
    }

    /// Whether an explicit `.index()` was asked for.
    pub fn has_index(&self) -> bool {
        self.index
    }

    /// Whether the explicit autoincrement flag is set.
    pub(crate) fn autoincrement_flag(&self) -> Option<bool> {
        self.autoincrement
    }
}

/// What `Column::server_default` accepts: a value or an expression.
#[derive(Debug, Clone)]
pub struct ServerDefaultArg(pub(crate) ServerDefault);

impl<T: Into<Value>> From<T> for ServerDefaultArg {
    fn from(v: T) -> Self {
        ServerDefaultArg(ServerDefault::Literal(v.into()))
    }
}

impl From<Expr> for ServerDefaultArg {
    fn from(e: Expr) -> Self {
        ServerDefaultArg(ServerDefault::Expr(e))
    }
}
