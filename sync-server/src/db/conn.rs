//! One way for the store's SQL files to speak to either backend: the embedded SQLite connection (rusqlite) or
//! a PostgreSQL transaction (sqlx). Each concept's SQL is written once, in the common part of both dialects
//! (`?N` parameters, `ON CONFLICT`, `RETURNING`, `COALESCE`), and run through the `Db` trait; the few places
//! where the dialects differ ask `Db::PG`. PostgreSQL's tables mirror SQLite's column types (TEXT, BIGINT for
//! INTEGER, DOUBLE PRECISION for REAL), so values bind and read back the same on both.
//!
//! On SQLite this is a thin layer over rusqlite (statements stay cached and rows are read in place). On
//! PostgreSQL every call runs on the store's runtime (`block_on`), on one connection inside its transaction;
//! `?N` becomes `$N` once per distinct statement.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSqlOutput, ValueRef};
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::{Arguments, Column, Row as _, TypeInfo, ValueRef as _};

use super::error::StoreError;

/// What a statement failed with.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error(transparent)]
    Lite(#[from] rusqlite::Error),
    #[error("PostgreSQL: {0}")]
    Pg(#[from] sqlx::Error),
    /// A `query_row` found no row (`optional()` makes it `None`).
    #[error("query returned no rows")]
    NoRow,
    /// A stored value that does not read as the type asked for.
    #[error("{0}")]
    Decode(String),
}

pub type DbResult<T> = Result<T, DbError>;

impl From<DbError> for StoreError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::Lite(e) => e.into(),
            DbError::Pg(e) => e.into(),
            DbError::NoRow => StoreError::Backend("query returned no rows".into()),
            DbError::Decode(m) => StoreError::Corrupt(m),
        }
    }
}

/// `query_row(..).optional()`: no row is `None`.
pub trait OptionalExtension<T> {
    fn optional(self) -> DbResult<Option<T>>;
}

impl<T> OptionalExtension<T> for DbResult<T> {
    fn optional(self) -> DbResult<Option<T>> {
        match self {
            Ok(v) => Ok(Some(v)),
            Err(DbError::NoRow) => Ok(None),
            Err(DbError::Lite(rusqlite::Error::QueryReturnedNoRows)) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// A value as PostgreSQL is given it or gives it back, in SQLite's storage classes.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// NULL, of the type the parameter would have had.
    Null(Kind),
    Int(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Int,
    Real,
    Text,
    Blob,
}

/// A parameter of a statement, on either backend.
pub trait Param: rusqlite::ToSql {
    /// The parameter's value, typed, for PostgreSQL.
    fn value(&self) -> Value;
}

/// A type a parameter may be `None` of: the type PostgreSQL is told for the NULL.
pub trait ParamKind {
    const KIND: Kind;
}

macro_rules! param {
    ($t:ty, $kind:ident, $v:ident => $value:expr) => {
        impl Param for $t {
            fn value(&self) -> Value {
                let $v = self;
                $value
            }
        }
        impl ParamKind for $t {
            const KIND: Kind = Kind::$kind;
        }
    };
}

param!(i64, Int, v => Value::Int(*v));
param!(i32, Int, v => Value::Int(i64::from(*v)));
param!(u32, Int, v => Value::Int(i64::from(*v)));
param!(u8, Int, v => Value::Int(i64::from(*v)));
param!(u16, Int, v => Value::Int(i64::from(*v)));
param!(u64, Int, v => Value::Int(*v as i64));
param!(usize, Int, v => Value::Int(*v as i64));
param!(bool, Int, v => Value::Int(i64::from(*v)));
param!(f64, Real, v => Value::Real(*v));
param!(String, Text, v => Value::Text(v.clone()));
param!(str, Text, v => Value::Text(v.to_owned()));
param!(Vec<u8>, Blob, v => Value::Blob(v.clone()));
param!([u8], Blob, v => Value::Blob(v.to_vec()));

impl<T: Param + ?Sized> Param for &T {
    fn value(&self) -> Value {
        (**self).value()
    }
}

impl<T: ParamKind + ?Sized> ParamKind for &T {
    const KIND: Kind = T::KIND;
}

impl<T: Param + ParamKind> Param for Option<T> {
    fn value(&self) -> Value {
        match self {
            Some(v) => v.value(),
            None => Value::Null(T::KIND),
        }
    }
}

/// The parameters of one statement.
pub trait Params {
    fn each(&self) -> Vec<&dyn Param>;
}

impl Params for () {
    fn each(&self) -> Vec<&dyn Param> {
        Vec::new()
    }
}

impl<T: Param> Params for &[T] {
    fn each(&self) -> Vec<&dyn Param> {
        self.iter().map(|p| p as &dyn Param).collect()
    }
}

impl<T: Param, const N: usize> Params for &[T; N] {
    fn each(&self) -> Vec<&dyn Param> {
        self.iter().map(|p| p as &dyn Param).collect()
    }
}

impl<T: Param, const N: usize> Params for [T; N] {
    fn each(&self) -> Vec<&dyn Param> {
        self.iter().map(|p| p as &dyn Param).collect()
    }
}

impl<T: Param> Params for Vec<T> {
    fn each(&self) -> Vec<&dyn Param> {
        self.iter().map(|p| p as &dyn Param).collect()
    }
}

/// The parameters of a statement, in order: `params![a, b]`.
macro_rules! params {
    () => { &[] as &[&dyn $crate::db::conn::Param] };
    ($($p:expr),+ $(,)?) => { &[$(&$p as &dyn $crate::db::conn::Param),+] as &[&dyn $crate::db::conn::Param] };
}
pub(crate) use params;

fn lite_params(params: &impl Params) -> Vec<&dyn rusqlite::ToSql> {
    params.each().into_iter().map(|p| p as &dyn rusqlite::ToSql).collect()
}

/// A column, by position or by name.
pub trait RowIndex: rusqlite::RowIndex + sqlx::ColumnIndex<PgRow> + Copy + std::fmt::Debug {}
impl RowIndex for usize {}
impl RowIndex for &str {}

/// A row of a result, on either backend.
pub enum Row<'r> {
    Lite(&'r rusqlite::Row<'r>),
    Pg(&'r PgRow),
}

impl Row<'_> {
    pub fn get<I: RowIndex, T: FromDb>(&self, index: I) -> DbResult<T> {
        match self {
            Row::Lite(r) => Ok(r.get(index)?),
            Row::Pg(r) => {
                let value = pg_value(r, index)?;
                T::from_value(value).map_err(|e| DbError::Decode(format!("column {index:?}: {e}")))
            }
        }
    }
}

/// A type a column is read as, on either backend.
pub trait FromDb: FromSql {
    fn from_value(value: Value) -> Result<Self, String>;
}

fn mismatch<T>(value: &Value, what: &str) -> Result<T, String> {
    Err(format!("{value:?} is not {what}"))
}

impl FromDb for i64 {
    fn from_value(value: Value) -> Result<Self, String> {
        match value {
            Value::Int(i) => Ok(i),
            v => mismatch(&v, "an integer"),
        }
    }
}

macro_rules! from_int {
    ($($t:ty),*) => {$(
        impl FromDb for $t {
            fn from_value(value: Value) -> Result<Self, String> {
                let i = i64::from_value(value)?;
                <$t>::try_from(i).map_err(|_| format!("{i} is out of range"))
            }
        }
    )*};
}
from_int!(i32, u32, u64, usize, u8, u16);

impl FromDb for bool {
    fn from_value(value: Value) -> Result<Self, String> {
        Ok(i64::from_value(value)? != 0)
    }
}

impl FromDb for f64 {
    fn from_value(value: Value) -> Result<Self, String> {
        match value {
            Value::Real(f) => Ok(f),
            Value::Int(i) => Ok(i as f64),
            v => mismatch(&v, "a number"),
        }
    }
}

impl FromDb for String {
    fn from_value(value: Value) -> Result<Self, String> {
        match value {
            Value::Text(s) => Ok(s),
            v => mismatch(&v, "text"),
        }
    }
}

impl FromDb for Vec<u8> {
    fn from_value(value: Value) -> Result<Self, String> {
        match value {
            Value::Blob(b) => Ok(b),
            v => mismatch(&v, "bytes"),
        }
    }
}

impl<T: FromDb> FromDb for Option<T> {
    fn from_value(value: Value) -> Result<Self, String> {
        match value {
            Value::Null(_) => Ok(None),
            v => T::from_value(v).map(Some),
        }
    }
}

/// A column of a PostgreSQL row in SQLite's storage classes.
fn pg_value(row: &PgRow, index: impl sqlx::ColumnIndex<PgRow> + Copy) -> DbResult<Value> {
    use sqlx::Decode;
    use sqlx::Postgres;
    let raw = row.try_get_raw(index)?;
    let type_name = raw.type_info().name().to_owned();
    if raw.is_null() {
        return Ok(Value::Null(Kind::Text));
    }
    let bad = |e: sqlx::error::BoxDynError| DbError::Decode(format!("column {index:?} ({type_name}): {e}"));
    Ok(match type_name.as_str() {
        "INT8" => Value::Int(<i64 as Decode<Postgres>>::decode(raw).map_err(bad)?),
        "INT4" => Value::Int(i64::from(<i32 as Decode<Postgres>>::decode(raw).map_err(bad)?)),
        "INT2" => Value::Int(i64::from(<i16 as Decode<Postgres>>::decode(raw).map_err(bad)?)),
        "BOOL" => Value::Int(i64::from(<bool as Decode<Postgres>>::decode(raw).map_err(bad)?)),
        "FLOAT8" => Value::Real(<f64 as Decode<Postgres>>::decode(raw).map_err(bad)?),
        "FLOAT4" => Value::Real(f64::from(<f32 as Decode<Postgres>>::decode(raw).map_err(bad)?)),
        "TEXT" | "VARCHAR" | "BPCHAR" | "NAME" => Value::Text(<String as Decode<Postgres>>::decode(raw).map_err(bad)?),
        "BYTEA" => Value::Blob(<Vec<u8> as Decode<Postgres>>::decode(raw).map_err(bad)?),
        other => {
            return Err(DbError::Decode(format!("column {index:?} is of type {other}, which the store does not read")));
        }
    })
}

/// A statement prepared on either backend.
pub trait Stmt {
    fn execute(&mut self, params: impl Params) -> DbResult<usize>;
    fn query_row<T>(&mut self, params: impl Params, f: impl FnOnce(&Row<'_>) -> DbResult<T>) -> DbResult<T>;
    /// Every row, mapped (read whole before the first is given).
    fn query_map<T>(
        &mut self,
        params: impl Params,
        f: impl FnMut(&Row<'_>) -> DbResult<T>,
    ) -> DbResult<std::vec::IntoIter<DbResult<T>>>;
    fn exists(&mut self, params: impl Params) -> DbResult<bool> {
        self.query_map(params, |_| Ok(()))?.next().transpose().map(|r| r.is_some())
    }
}

/// A connection (or a transaction) of either backend.
pub trait Db {
    type Stmt<'c>: Stmt
    where
        Self: 'c;
    /// PostgreSQL (where the dialects differ).
    const PG: bool;
    fn prepare_cached(&self, sql: &str) -> DbResult<Self::Stmt<'_>>;
    /// A statement not kept in the cache (SQL made for one call).
    fn prepare(&self, sql: &str) -> DbResult<Self::Stmt<'_>>;
    fn execute_batch(&self, sql: &str) -> DbResult<()>;

    /// PostgreSQL (where the dialects differ).
    fn is_pg(&self) -> bool {
        Self::PG
    }

    /// SQL for the text of a JSON column's top-level field.
    fn json_field(&self, column: &str, field: &str) -> String {
        if Self::PG {
            format!("(CAST({column} AS jsonb) ->> '{field}')")
        } else {
            format!("json_extract({column}, '$.{field}')")
        }
    }

    /// SQL for the rows (`value`) of a JSON array of strings given as a parameter.
    fn json_strings(&self, param: &str) -> String {
        if Self::PG {
            format!("SELECT jsonb_array_elements_text(CAST({param} AS jsonb)) AS value")
        } else {
            format!("SELECT value FROM json_each({param})")
        }
    }

    fn execute(&self, sql: &str, params: impl Params) -> DbResult<usize> {
        self.prepare_cached(sql)?.execute(params)
    }
    fn query_row<T>(&self, sql: &str, params: impl Params, f: impl FnOnce(&Row<'_>) -> DbResult<T>) -> DbResult<T> {
        self.prepare_cached(sql)?.query_row(params, f)
    }
}

// --- SQLite ---

/// rusqlite wants its own error out of a row mapper; ours travels inside it.
fn to_lite(e: DbError) -> rusqlite::Error {
    match e {
        DbError::Lite(e) => e,
        other => rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Null, Box::new(other)),
    }
}

fn from_lite(e: rusqlite::Error) -> DbError {
    match e {
        rusqlite::Error::QueryReturnedNoRows => DbError::NoRow,
        rusqlite::Error::FromSqlConversionFailure(i, t, inner) => match inner.downcast::<DbError>() {
            Ok(ours) => *ours,
            Err(other) => DbError::Lite(rusqlite::Error::FromSqlConversionFailure(i, t, other)),
        },
        other => DbError::Lite(other),
    }
}

pub enum LiteStmt<'c> {
    Cached(rusqlite::CachedStatement<'c>),
    Once(rusqlite::Statement<'c>),
}

impl<'c> std::ops::Deref for LiteStmt<'c> {
    type Target = rusqlite::Statement<'c>;
    fn deref(&self) -> &Self::Target {
        match self {
            LiteStmt::Cached(s) => s,
            LiteStmt::Once(s) => s,
        }
    }
}

impl std::ops::DerefMut for LiteStmt<'_> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        match self {
            LiteStmt::Cached(s) => s,
            LiteStmt::Once(s) => s,
        }
    }
}

impl Stmt for LiteStmt<'_> {
    fn execute(&mut self, params: impl Params) -> DbResult<usize> {
        let p = lite_params(&params);
        rusqlite::Statement::execute(self, p.as_slice()).map_err(from_lite)
    }

    fn query_row<T>(&mut self, params: impl Params, f: impl FnOnce(&Row<'_>) -> DbResult<T>) -> DbResult<T> {
        let p = lite_params(&params);
        rusqlite::Statement::query_row(self, p.as_slice(), |r| f(&Row::Lite(r)).map_err(to_lite)).map_err(from_lite)
    }

    fn query_map<T>(
        &mut self,
        params: impl Params,
        mut f: impl FnMut(&Row<'_>) -> DbResult<T>,
    ) -> DbResult<std::vec::IntoIter<DbResult<T>>> {
        let p = lite_params(&params);
        let mut rows = rusqlite::Statement::query(self, p.as_slice()).map_err(from_lite)?;
        let mut out = Vec::new();
        while let Some(r) = rows.next().map_err(from_lite)? {
            out.push(f(&Row::Lite(r)));
        }
        Ok(out.into_iter())
    }

    fn exists(&mut self, params: impl Params) -> DbResult<bool> {
        let p = lite_params(&params);
        rusqlite::Statement::exists(self, p.as_slice()).map_err(from_lite)
    }
}

macro_rules! lite_db {
    ($t:ty) => {
        impl Db for $t {
            type Stmt<'c>
                = LiteStmt<'c>
            where
                Self: 'c;
            const PG: bool = false;
            fn prepare_cached(&self, sql: &str) -> DbResult<LiteStmt<'_>> {
                Ok(LiteStmt::Cached(rusqlite::Connection::prepare_cached(self, sql)?))
            }
            fn prepare(&self, sql: &str) -> DbResult<LiteStmt<'_>> {
                Ok(LiteStmt::Once(rusqlite::Connection::prepare(self, sql)?))
            }
            fn execute_batch(&self, sql: &str) -> DbResult<()> {
                Ok(rusqlite::Connection::execute_batch(self, sql)?)
            }
        }
    };
}

lite_db!(rusqlite::Connection);
lite_db!(rusqlite::Transaction<'_>);
lite_db!(std::sync::MutexGuard<'_, rusqlite::Connection>);

// --- PostgreSQL ---

/// `?N` (and bare `?`) as PostgreSQL's `$N`, outside quoted text; made once per statement.
pub fn pg_sql(sql: &str) -> Arc<str> {
    static MADE: OnceLock<Mutex<HashMap<String, Arc<str>>>> = OnceLock::new();
    let made = MADE.get_or_init(Default::default);
    if let Some(done) = made.lock().unwrap_or_else(|e| e.into_inner()).get(sql) {
        return done.clone();
    }
    let mut out = String::with_capacity(sql.len() + 8);
    let mut chars = sql.chars().peekable();
    let (mut quote, mut next) = (None::<char>, 1usize);
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => {
                quote = None;
                out.push(c);
            }
            (Some(_), c) => out.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                out.push(c);
            }
            (None, '?') => {
                let mut digits = String::new();
                while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                    digits.push(*d);
                    chars.next();
                }
                out.push('$');
                if digits.is_empty() {
                    out.push_str(&next.to_string());
                    next += 1;
                } else {
                    out.push_str(&digits);
                }
            }
            (None, c) => out.push(c),
        }
    }
    let done: Arc<str> = out.into();
    made.lock().unwrap_or_else(|e| e.into_inner()).insert(sql.to_owned(), done.clone());
    done
}

/// Runs `work` on the store's runtime and waits for it. Called from a worker of the server's own runtime (a
/// handler that asks the store directly), it first tells that runtime this thread now blocks, as the
/// embedded store's calls block it too.
pub fn block_on<F: std::future::Future>(runtime: &tokio::runtime::Handle, work: F) -> F::Output {
    match tokio::runtime::Handle::try_current() {
        Ok(current) if current.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(|| runtime.block_on(work))
        }
        _ => runtime.block_on(work),
    }
}

/// One PostgreSQL connection inside a transaction (or on its own, for reads), driven by the store's runtime.
pub struct PgConn<'a> {
    conn: RefCell<&'a mut sqlx::PgConnection>,
    runtime: &'a tokio::runtime::Handle,
}

impl<'a> PgConn<'a> {
    pub fn new(conn: &'a mut sqlx::PgConnection, runtime: &'a tokio::runtime::Handle) -> Self {
        PgConn { conn: RefCell::new(conn), runtime }
    }
}

pub struct PgStmt<'c, 'a> {
    conn: &'c PgConn<'a>,
    sql: Arc<str>,
}

fn pg_arguments(params: &impl Params) -> DbResult<PgArguments> {
    let mut args = PgArguments::default();
    for p in params.each() {
        let added = match p.value() {
            Value::Int(i) => args.add(i),
            Value::Real(f) => args.add(f),
            Value::Text(s) => args.add(s),
            Value::Blob(b) => args.add(b),
            Value::Null(Kind::Int) => args.add(None::<i64>),
            Value::Null(Kind::Real) => args.add(None::<f64>),
            Value::Null(Kind::Text) => args.add(None::<String>),
            Value::Null(Kind::Blob) => args.add(None::<Vec<u8>>),
        };
        added.map_err(|e| DbError::Decode(format!("a parameter: {e}")))?;
    }
    Ok(args)
}

impl PgStmt<'_, '_> {
    fn fetch(&self, params: impl Params) -> DbResult<Vec<PgRow>> {
        let args = pg_arguments(&params)?;
        let query = sqlx::query_with(sqlx::AssertSqlSafe(self.sql.clone()), args);
        let mut conn = self.conn.conn.borrow_mut();
        Ok(block_on(self.conn.runtime, query.fetch_all(&mut **conn))?)
    }
}

impl Stmt for PgStmt<'_, '_> {
    fn execute(&mut self, params: impl Params) -> DbResult<usize> {
        let args = pg_arguments(&params)?;
        let query = sqlx::query_with(sqlx::AssertSqlSafe(self.sql.clone()), args);
        let mut conn = self.conn.conn.borrow_mut();
        let done = block_on(self.conn.runtime, query.execute(&mut **conn))?;
        Ok(done.rows_affected() as usize)
    }

    fn query_row<T>(&mut self, params: impl Params, f: impl FnOnce(&Row<'_>) -> DbResult<T>) -> DbResult<T> {
        let rows = self.fetch(params)?;
        let first = rows.first().ok_or(DbError::NoRow)?;
        f(&Row::Pg(first))
    }

    fn query_map<T>(
        &mut self,
        params: impl Params,
        mut f: impl FnMut(&Row<'_>) -> DbResult<T>,
    ) -> DbResult<std::vec::IntoIter<DbResult<T>>> {
        let rows = self.fetch(params)?;
        Ok(rows.iter().map(|r| f(&Row::Pg(r))).collect::<Vec<_>>().into_iter())
    }
}

impl<'a> Db for PgConn<'a> {
    type Stmt<'c>
        = PgStmt<'c, 'a>
    where
        Self: 'c;
    const PG: bool = true;

    fn prepare_cached(&self, sql: &str) -> DbResult<PgStmt<'_, 'a>> {
        Ok(PgStmt { conn: self, sql: pg_sql(sql) })
    }

    fn prepare(&self, sql: &str) -> DbResult<PgStmt<'_, 'a>> {
        self.prepare_cached(sql)
    }

    fn execute_batch(&self, sql: &str) -> DbResult<()> {
        let mut conn = self.conn.borrow_mut();
        block_on(self.runtime, sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned())).execute(&mut **conn))?;
        Ok(())
    }
}

/// The names of a PostgreSQL row's columns (for messages).
#[allow(dead_code)]
pub fn pg_columns(row: &PgRow) -> Vec<String> {
    row.columns().iter().map(|c| c.name().to_owned()).collect()
}

impl FromSql for Value {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        Ok(match value {
            ValueRef::Null => Value::Null(Kind::Text),
            ValueRef::Integer(i) => Value::Int(i),
            ValueRef::Real(f) => Value::Real(f),
            ValueRef::Text(t) => Value::Text(String::from_utf8(t.to_vec()).map_err(|e| FromSqlError::Other(e.into()))?),
            ValueRef::Blob(b) => Value::Blob(b.to_vec()),
        })
    }
}

impl FromDb for Value {
    fn from_value(value: Value) -> Result<Self, String> {
        Ok(value)
    }
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        use rusqlite::types::Value as V;
        Ok(ToSqlOutput::Owned(match self {
            Value::Null(_) => V::Null,
            Value::Int(i) => V::Integer(*i),
            Value::Real(f) => V::Real(*f),
            Value::Text(s) => V::Text(s.clone()),
            Value::Blob(b) => V::Blob(b.clone()),
        }))
    }
}

impl Param for Value {
    fn value(&self) -> Value {
        self.clone()
    }
}
