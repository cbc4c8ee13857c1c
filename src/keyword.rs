//! Names a spec spells as text (`month`, `monday`, `csv`): each kind lists
//! its spellings once, for parsing, printing and did-you-mean help.

/// A kind of value names in the spec can take; each lists its spellings.
pub trait Keyword: Sized + Copy + 'static {
    const WHAT: &'static str;
    const ALL: &'static [(&'static str, Self)];
    fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().find(|(k, _)| *k == s).map(|(_, v)| *v)
    }
    fn as_str(self) -> &'static str
    where
        Self: PartialEq,
    {
        Self::ALL.iter().find(|(_, v)| *v == self).map_or("", |(k, _)| k)
    }
}

/// Declares a keyword enum and its spellings.
macro_rules! keyword {
    ($(#[$m:meta])* $name:ident, $what:literal, { $($text:literal => $variant:ident),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name { $($variant),+ }
        impl $crate::keyword::Keyword for $name {
            const WHAT: &'static str = $what;
            const ALL: &'static [(&'static str, Self)] = &[$(($text, $name::$variant)),+];
        }
    };
}

pub(crate) use keyword;
