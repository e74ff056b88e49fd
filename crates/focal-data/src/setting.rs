//! The settings of loading and task building, and messages that name them.
//!
//! A message about a setting ("the ratio is NEGATIVE:POSITIVE ...: name the rare class with
//! `positive`") names it the way its reader set it: a library user by the setting's key (as
//! `config.json` records it), a command-line user by the flag that sets it. So a [`Message`]
//! holds its settings as values, and [`Message::render`] takes the names; the library never
//! spells a flag, and the CLI never rewrites a library's text.

use std::borrow::Cow;
use std::fmt;

/// A setting of data loading or task building, as a user sets it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DataSetting {
    /// The data set's path.
    Data,
    /// The positive (rare) class of a binary task.
    Positive,
    /// The imposed `negative:positive` ratio.
    Ratio,
    /// The long-tail imbalance factor of a multi-class task.
    LongTail,
    /// Whether a positive class may outnumber the negatives.
    AllowMajorityPositive,
    /// The label column of a CSV file or manifest.
    LabelColumn,
    /// The image column of a manifest.
    ImageColumn,
    /// The folder a manifest's image paths are relative to.
    ImageRoot,
    /// The extension added to a manifest's image names.
    ImageSuffix,
    /// The group (patient) column of a manifest.
    GroupColumn,
    /// A `path,group` file naming the group of each image of a folder.
    Groups,
    /// The VOI window of DICOM images.
    DicomWindow,
    /// The frame read from multi-frame DICOM files.
    DicomFrame,
    /// The size images are loaded at.
    ImageSize,
    /// The most memory the loaded data may take.
    MaxMemory,
    /// The seed of task building and splitting.
    Seed,
    /// Exact sizes of the train, validation and test splits.
    SplitSizes,
    /// The fractions of the train, validation and test splits.
    SplitFractions,
}

impl DataSetting {
    /// The setting's key, as `config.json` and the library's own messages name it.
    pub fn key(self) -> &'static str {
        match self {
            DataSetting::Data => "data",
            DataSetting::Positive => "positive",
            DataSetting::Ratio => "ratio",
            DataSetting::LongTail => "long_tail",
            DataSetting::AllowMajorityPositive => "allow_majority_positive",
            DataSetting::LabelColumn => "label_column",
            DataSetting::ImageColumn => "image_column",
            DataSetting::ImageRoot => "image_root",
            DataSetting::ImageSuffix => "image_suffix",
            DataSetting::GroupColumn => "group_column",
            DataSetting::Groups => "groups",
            DataSetting::DicomWindow => "dicom_window",
            DataSetting::DicomFrame => "dicom_frame",
            DataSetting::ImageSize => "image_size",
            DataSetting::MaxMemory => "max_memory",
            DataSetting::Seed => "seed",
            DataSetting::SplitSizes => "split_sizes",
            DataSetting::SplitFractions => "split_fractions",
        }
    }
}

impl fmt::Display for DataSetting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// One piece of a [`Message`].
#[derive(Debug, Clone, PartialEq)]
pub enum Part<S> {
    /// Words, as they are.
    Text(Cow<'static, str>),
    /// A setting, named by the reader's names.
    Setting(S),
}

impl<S> From<&'static str> for Part<S> {
    fn from(s: &'static str) -> Self {
        Part::Text(Cow::Borrowed(s))
    }
}

impl<S> From<String> for Part<S> {
    fn from(s: String) -> Self {
        Part::Text(Cow::Owned(s))
    }
}

impl From<DataSetting> for Part<DataSetting> {
    fn from(s: DataSetting) -> Self {
        Part::Setting(s)
    }
}

/// Words that name settings: rendered with the reader's names for them
/// ([`Message::render`]), or with their keys (`Display`). Build one with [`msg!`](crate::msg).
#[derive(Debug, Clone, PartialEq)]
pub struct Message<S = DataSetting>(pub Vec<Part<S>>);

impl<S: Copy> Message<S> {
    /// The message with each setting named by `names`.
    pub fn render(&self, names: &dyn Fn(S) -> String) -> String {
        let mut out = String::new();
        for part in &self.0 {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Setting(s) => out.push_str(&names(*s)),
            }
        }
        out
    }

    /// The same message over a wider set of settings (e.g. a training library's, which holds
    /// these as one kind of its own).
    pub fn widen<T>(self, into: impl Fn(S) -> T) -> Message<T> {
        Message(
            self.0
                .into_iter()
                .map(|p| match p {
                    Part::Text(t) => Part::Text(t),
                    Part::Setting(s) => Part::Setting(into(s)),
                })
                .collect(),
        )
    }
}

impl<S: Copy + fmt::Display> fmt::Display for Message<S> {
    /// Each setting by its own `Display`: its key.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(&|s| s.to_string()))
    }
}

impl<S> From<&'static str> for Message<S> {
    fn from(s: &'static str) -> Self {
        Message(vec![Part::from(s)])
    }
}

impl<S> From<String> for Message<S> {
    fn from(s: String) -> Self {
        Message(vec![Part::from(s)])
    }
}

/// A [`Message`] from its pieces: words (`&'static str` or `String`) and settings, in order.
///
/// ```
/// use focal_data::{DataSetting, msg};
/// let m: focal_data::Message = msg!["name the rare class with ", DataSetting::Positive];
/// assert_eq!(m.to_string(), "name the rare class with positive");
/// assert_eq!(m.render(&|s| format!("--{}", s.key())), "name the rare class with --positive");
/// ```
#[macro_export]
macro_rules! msg {
    ($($part:expr),* $(,)?) => {
        $crate::setting::Message(vec![$($crate::setting::Part::from($part)),*])
    };
}
