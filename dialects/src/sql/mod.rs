//! The SQL expression language: expressions and statements, data only.

pub mod alias;
pub mod compound;
pub mod cte;
pub mod delete;
pub mod expr;
pub mod func;
pub mod insert;
pub mod select;
pub mod text;
pub mod update;
pub mod values;
pub mod window;
