//! Named choices (optimizer, schedule, model, device, ...): every value, its name, its help
//! line and parsing that lists the valid names, derived by strum for every such enum of the
//! crate through one macro.

use std::str::FromStr;

use crate::error::TrainError;

/// A choice among named values (optimizer, schedule, ...): every value, its name, and parsing
/// that lists the valid names. Derived by strum: `EnumString`, `IntoStaticStr`, `EnumIter`.
pub trait Named:
    Copy + FromStr + Into<&'static str> + strum::IntoEnumIterator + strum::EnumMessage + 'static
{
    /// What the names name, for messages (`optimizer`).
    const WHAT: &'static str;

    /// Every value, in the order of the help texts.
    fn all() -> Vec<Self> {
        Self::iter().collect()
    }

    /// The value's name.
    fn name(self) -> &'static str {
        self.into()
    }

    /// One line on the value, for help texts: its documentation.
    fn help(self) -> Option<&'static str> {
        self.get_documentation()
    }

    /// The value of `name`, or an error listing the valid names.
    fn parse_name(name: &str) -> Result<Self, TrainError> {
        name.trim()
            .parse::<Self>()
            .map_err(|_| TrainError::UnknownName {
                what: Self::WHAT,
                name: name.to_string(),
                valid: Self::iter()
                    .map(|v| v.name())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }
}

/// The derives every named choice shares.
macro_rules! named_choice {
    ($(#[$meta:meta])* $vis:vis enum $name:ident ($what:literal) { $($body:tt)* }) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
            strum::EnumString, strum::IntoStaticStr, strum::EnumIter, strum::Display,
            strum::EnumMessage,
        )]
        #[serde(rename_all = "lowercase")]
        #[strum(serialize_all = "lowercase")]
        $vis enum $name { $($body)* }

        impl $crate::named::Named for $name {
            const WHAT: &'static str = $what;
        }
    };
}
pub(crate) use named_choice;
