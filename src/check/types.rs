//! Value types of expressions.

use std::fmt;

use crate::spec::model::ColumnType;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Type {
    Number,
    String,
    Bool,
    Date,
    Datetime,
    /// The type of `null`: fits anywhere.
    Null,
    /// Not known (an undeclared column, or after an error): fits anywhere and
    /// reports nothing, so one mistake does not cascade.
    Unknown,
    /// A column the data holds in a form KPIs cannot compute with (a time
    /// of day, a duration, bytes, a list, a struct), named in words. Naming
    /// it is an error: read as numbers, such values would give numbers in
    /// units nobody chose (a time of day summed as nanoseconds).
    Unusable(&'static str),
}

impl Type {
    pub fn is_temporal(self) -> bool {
        matches!(self, Type::Date | Type::Datetime)
    }

    /// Whether a value of this type can stand where `want` is needed.
    pub fn fits(self, want: Type) -> bool {
        self == want || matches!(self, Type::Null | Type::Unknown) || want == Type::Unknown
    }

    pub fn is_number(self) -> bool {
        self.fits(Type::Number)
    }

    pub fn is_bool(self) -> bool {
        self.fits(Type::Bool)
    }

    /// The common type of two values that are compared or merged.
    pub fn unify(self, other: Type) -> Option<Type> {
        match (self, other) {
            (a, b) if a == b => Some(a),
            (Type::Unknown, _) | (_, Type::Unknown) => Some(Type::Unknown),
            (Type::Null, t) | (t, Type::Null) => Some(t),
            // A date compared with a datetime is taken at midnight.
            (Type::Date, Type::Datetime) | (Type::Datetime, Type::Date) => Some(Type::Datetime),
            _ => None,
        }
    }
}

impl From<ColumnType> for Type {
    fn from(t: ColumnType) -> Type {
        match t {
            ColumnType::Number => Type::Number,
            ColumnType::String => Type::String,
            ColumnType::Bool => Type::Bool,
            ColumnType::Date => Type::Date,
            ColumnType::Datetime => Type::Datetime,
        }
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Type::Number => "number",
            Type::String => "string",
            Type::Bool => "bool",
            Type::Date => "date",
            Type::Datetime => "datetime",
            Type::Null => "null",
            Type::Unknown => "unknown",
            Type::Unusable(words) => words,
        })
    }
}
