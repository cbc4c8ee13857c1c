//! Row arithmetic worked out value by value in Rust, for the functions that
//! read an argument more than once: a division tests its divisor for 0,
//! `round` scales the number's size and puts its sign back, `%` divides and
//! multiplies back, a power tests both sides. Written as Polars
//! expressions, such an argument was copied into each use, and a nested one
//! into every copy: `round` of `round` of … five deep, or a chain of
//! sixteen divisions, took seconds and gigabytes to plan for one row. Here
//! each argument is one input of one function, whatever the depth.
//!
//! Every function is null where an argument is null. A *total* one has a
//! number for any numbers (a division, `round`) and runs over the values
//! alone, the nulls kept aside, as Polars' own arithmetic does; the others
//! may give null (a division by zero, the root of a negative number).

use std::any::TypeId;
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use polars::prelude::*;
use polars_core::chunked_array::ops::arity::{binary_elementwise, binary_elementwise_values};

/// `f` of each number of `x`, or null.
pub fn unary<F>(x: Expr, name: &'static str, f: F) -> Expr
where
    F: Fn(f64) -> Option<f64> + Copy + Send + Sync + 'static,
{
    shared::<F>(each_number(x, name, move |x| x.apply(|v| v.and_then(f))), "unary")
}

/// `f` of each number of `x`, a total function.
pub fn unary_total<F>(x: Expr, name: &'static str, f: F) -> Expr
where
    F: Fn(f64) -> f64 + Copy + Send + Sync + 'static,
{
    shared::<F>(each_number(x, name, move |x| x.apply_values(f)), "unary_total")
}

/// `f` of the numbers of `x` and `y` row by row, or null (a single number,
/// such as a constant, taken for every row).
pub fn binary<F>(x: Expr, y: Expr, name: &'static str, f: F) -> Expr
where
    F: Fn(f64, f64) -> Option<f64> + Copy + Send + Sync + 'static,
{
    let e = pairs(x, y, name, move |x, y| {
        Ok(match (x.len(), y.len()) {
            (n, 1) if n != 1 => match y.get(0) {
                Some(b) => x.apply(|a| a.and_then(|a| f(a, b))),
                None => Float64Chunked::full_null(x.name().clone(), n),
            },
            (1, n) if n != 1 => match x.get(0) {
                Some(a) => y.apply(|b| b.and_then(|b| f(a, b))),
                None => Float64Chunked::full_null(x.name().clone(), n),
            },
            (n, m) if n == m => binary_elementwise(x, y, |a: Option<f64>, b: Option<f64>| f(a?, b?)),
            (n, m) => polars_bail!(ShapeMismatch: "a row function's arguments hold {n} and {m} values"),
        })
    });
    shared::<F>(e, "binary")
}

/// `f` of the numbers of `x` and `y` row by row, a total function.
pub fn binary_total<F>(x: Expr, y: Expr, name: &'static str, f: F) -> Expr
where
    F: Fn(f64, f64) -> f64 + Copy + Send + Sync + 'static,
{
    let e = pairs(x, y, name, move |x, y| {
        Ok(match (x.len(), y.len()) {
            (n, 1) if n != 1 => match y.get(0) {
                Some(b) => x.apply_values(|a| f(a, b)),
                None => Float64Chunked::full_null(x.name().clone(), n),
            },
            (1, n) if n != 1 => match x.get(0) {
                Some(a) => y.apply_values(|b| f(a, b)),
                None => Float64Chunked::full_null(x.name().clone(), n),
            },
            (n, m) if n == m => binary_elementwise_values(x, y, f),
            (n, m) => polars_bail!(ShapeMismatch: "a row function's arguments hold {n} and {m} values"),
        })
    });
    shared::<F>(e, "binary_total")
}

/// `e`, a row function of `kind` made of the function `F`, holding the one
/// function object of its kind when `F` captures nothing (its behaviour is
/// then its type's alone; `round` to a fixed number of digits captures
/// them, and keeps an object of its own). Polars tells functions apart by
/// identity: with one object per kind, two uses alike (`amount / cost` in
/// two KPIs) are one expression, computed once, and found alike at once
/// among the parts of thousands of KPIs.
fn shared<F: 'static>(e: Expr, kind: &'static str) -> Expr {
    type Functions = Mutex<HashMap<(TypeId, &'static str), OpaqueColumnUdf>>;
    static ONE_OF_EACH: OnceLock<Functions> = OnceLock::new();
    if std::mem::size_of::<F>() != 0 {
        return e;
    }
    let Expr::AnonymousFunction {
        input,
        function,
        options,
        fmt_str,
    } = e
    else {
        return e;
    };
    let function = match ONE_OF_EACH.get_or_init(Functions::default).lock() {
        Ok(mut one) => one.entry((TypeId::of::<F>(), kind)).or_insert(function).clone(),
        // Another thread failed holding the lock: unshared is only slower.
        Err(_) => function,
    };
    Expr::AnonymousFunction {
        input,
        function,
        options,
        fmt_str,
    }
}

/// `kernel` over the numbers of `x`, named `name` in plans.
fn each_number<K>(x: Expr, name: &'static str, kernel: K) -> Expr
where
    K: Fn(&Float64Chunked) -> Float64Chunked + Send + Sync + 'static,
{
    x.map_with_fmt_str(
        move |c: Column| Ok(kernel(&numbers(&c)?).into_column()),
        |_, field| Ok(Field::new(field.name().clone(), DataType::Float64)),
        name,
    )
}

/// `kernel` over the numbers of `x` and `y`, named after `x` in frames and
/// `name` in plans.
fn pairs<K>(x: Expr, y: Expr, name: &'static str, kernel: K) -> Expr
where
    K: Fn(&Float64Chunked, &Float64Chunked) -> PolarsResult<Float64Chunked> + Send + Sync + 'static,
{
    let mut e = x.map_many(
        move |columns: &mut [Column]| {
            let [x, y] = columns else {
                polars_bail!(ComputeError: "a row function of two numbers was given {}", columns.len());
            };
            let column = x.name().clone();
            Ok(kernel(&numbers(x)?, &numbers(y)?)?
                .with_name(column)
                .into_column())
        },
        &[y],
        |_, fields| {
            let name = fields
                .first()
                .map_or_else(PlSmallStr::default, |f| f.name().clone());
            Ok(Field::new(name, DataType::Float64))
        },
    );
    if let Expr::AnonymousFunction { fmt_str, .. } = &mut e {
        **fmt_str = name.into();
    }
    e
}

/// A column's numbers.
fn numbers(c: &Column) -> PolarsResult<Float64Chunked> {
    Ok(c.cast(&DataType::Float64)?.f64()?.clone())
}
