//! What a transfer-learning run chooses ([`Finetune`], [`HeadKind`], [`FeatureCache`]) and
//! what its `config.json` records of it ([`TransferRecord`]); the mechanics are
//! [`crate::transfer`]'s.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

/// Which layers of a pretrained ResNet a run trains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Finetune {
    /// Every layer (torchvision's fine-tuning).
    #[default]
    All,
    /// The head only, on the frozen backbone's features (torchvision's "ConvNet as fixed
    /// feature extractor").
    Head,
    /// The last `N` of the four residual stages (`layer4` first) and the head.
    Last(usize),
}

impl Finetune {
    /// The residual stages trained: 4, 0 or `N`.
    pub fn trained_stages(self) -> usize {
        match self {
            Finetune::All => 4,
            Finetune::Head => 0,
            Finetune::Last(n) => n,
        }
    }

    /// Whether this is [`Finetune::All`].
    pub fn is_all(&self) -> bool {
        *self == Finetune::All
    }
}

impl fmt::Display for Finetune {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Finetune::All => f.write_str("all"),
            Finetune::Head => f.write_str("head"),
            Finetune::Last(n) => write!(f, "last:{n}"),
        }
    }
}

impl FromStr for Finetune {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "all" => Ok(Finetune::All),
            "head" => Ok(Finetune::Head),
            other => match other.strip_prefix("last:").map(str::parse::<usize>) {
                Some(Ok(n)) if (1..=4).contains(&n) => Ok(Finetune::Last(n)),
                Some(_) => Err(format!(
                    "{s:?}: last:N trains the last N of the four residual stages, N from 1 to 4"
                )),
                None => Err(format!("{s:?}: use all, head or last:N (N from 1 to 4)")),
            },
        }
    }
}

impl TryFrom<String> for Finetune {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl From<Finetune> for String {
    fn from(f: Finetune) -> String {
        f.to_string()
    }
}

/// The classifier head of a ResNet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum HeadKind {
    /// torchvision's `fc`: one linear layer.
    #[default]
    Linear,
    /// `Linear(F, hidden)`, ReLU, `Linear(hidden, C)`.
    Mlp {
        /// Width of the hidden layer (at least 1).
        hidden: usize,
    },
}

impl HeadKind {
    /// Whether this is [`HeadKind::Linear`].
    pub fn is_linear(&self) -> bool {
        *self == HeadKind::Linear
    }
}

impl fmt::Display for HeadKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HeadKind::Linear => f.write_str("linear"),
            HeadKind::Mlp { hidden } => write!(f, "mlp:{hidden}"),
        }
    }
}

impl FromStr for HeadKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "linear" => Ok(HeadKind::Linear),
            other => match other.strip_prefix("mlp:").map(str::parse::<usize>) {
                Some(Ok(hidden)) if hidden > 0 => Ok(HeadKind::Mlp { hidden }),
                Some(_) => Err(format!(
                    "{s:?}: mlp:HIDDEN needs a hidden width of at least 1, e.g. mlp:256"
                )),
                None => Err(format!("{s:?}: use linear or mlp:HIDDEN (e.g. mlp:256)")),
            },
        }
    }
}

impl TryFrom<String> for HeadKind {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl From<HeadKind> for String {
    fn from(h: HeadKind) -> String {
        h.to_string()
    }
}

/// Where a run whose backbone is frozen keeps the backbone's features.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum FeatureCache {
    /// `features/` in the experiment folder of a comparison or sweep (every run of it shares
    /// the file), else in the run folder.
    #[default]
    Auto,
    /// No cache: the backbone runs in every step.
    Off,
    /// This folder (shared by every run that names it).
    Dir(PathBuf),
}

impl FeatureCache {
    /// Whether this is [`FeatureCache::Auto`].
    pub fn is_auto(&self) -> bool {
        *self == FeatureCache::Auto
    }
}

impl fmt::Display for FeatureCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FeatureCache::Auto => f.write_str("auto"),
            FeatureCache::Off => f.write_str("off"),
            FeatureCache::Dir(d) => write!(f, "{}", d.display()),
        }
    }
}

impl FromStr for FeatureCache {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "" => return Err("give auto, off or a folder".into()),
            "auto" => FeatureCache::Auto,
            "off" => FeatureCache::Off,
            dir => FeatureCache::Dir(PathBuf::from(dir)),
        })
    }
}

impl TryFrom<String> for FeatureCache {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl From<FeatureCache> for String {
    fn from(c: FeatureCache) -> String {
        c.to_string()
    }
}

/// What `config.json` records of a run that freezes part of a pretrained network.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TransferRecord {
    /// What was trained.
    pub finetune: Finetune,
    /// The head.
    pub head: HeadKind,
    /// The weights file the frozen layers come from.
    pub weights: PathBuf,
    /// Its SHA-256 (hex), checked whenever the run's model is rebuilt from it.
    pub weights_sha256: String,
    /// The modules trained, by their torchvision names (`layer4`, `fc`).
    pub trained: Vec<String>,
    /// Scalars trained.
    pub trained_parameters: usize,
    /// Scalars frozen (the pretrained file's, unchanged).
    pub frozen_parameters: usize,
    /// How the head saw the backbone's output.
    pub features: FeatureUse,
}

/// How a run with a frozen backbone obtained the backbone's features.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case", tag = "mode")]
pub enum FeatureUse {
    /// Computed once and cached in `file`; every epoch trained the head on them.
    Cached {
        /// The feature file.
        file: PathBuf,
        /// Its key (SHA-256 of the weights, the preprocessing and the data).
        key: String,
        /// Its size in bytes.
        bytes: u64,
        /// Samples (rows).
        samples: usize,
        /// Features per sample.
        width: usize,
        /// Whether this run computed it (`false`: it found it, computed by an earlier run).
        computed: bool,
    },
    /// The backbone ran in every step (frozen, in evaluation mode), for `reason`.
    PerEpoch {
        /// Why the features could not be cached.
        reason: String,
    },
    /// The last stages train, so the backbone's output changes every step: nothing to cache.
    Trained,
}

impl TransferRecord {
    /// One line for reports and `focal eval --run`: what was frozen and trained, and the
    /// feature cache with its size.
    pub fn summary(&self) -> String {
        let millions = |n: usize| format!("{:.2} M", n as f64 / 1e6);
        let features = match &self.features {
            FeatureUse::Cached {
                file,
                bytes,
                samples,
                width,
                computed,
                ..
            } => format!(
                "; features {} once ({samples} x {width}, {}): {}",
                if *computed {
                    "computed"
                } else {
                    "reused, computed"
                },
                focal_data::memory::human_bytes(*bytes),
                file.display()
            ),
            FeatureUse::PerEpoch { reason } => {
                format!("; features computed in every step ({reason})")
            }
            FeatureUse::Trained => String::new(),
        };
        format!(
            "finetune {}: trained {} ({} parameters, head {}), frozen {} parameters from {} \
             (sha256 {}){features}",
            self.finetune,
            self.trained.join(", "),
            millions(self.trained_parameters),
            self.head,
            millions(self.frozen_parameters),
            self.weights.display(),
            &self.weights_sha256[..12.min(self.weights_sha256.len())],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices_parse_print_and_refuse() {
        for (text, want) in [
            ("all", Finetune::All),
            ("head", Finetune::Head),
            ("last:1", Finetune::Last(1)),
            ("LAST:4", Finetune::Last(4)),
        ] {
            assert_eq!(text.parse::<Finetune>().unwrap(), want);
            assert_eq!(want.to_string().parse::<Finetune>().unwrap(), want);
        }
        for bad in ["last:0", "last:5", "last:x", "layer4", ""] {
            let e = bad.parse::<Finetune>().unwrap_err();
            assert!(e.contains("last:N") || e.contains("N from 1 to 4"), "{e}");
        }
        assert_eq!(
            "mlp:256".parse::<HeadKind>().unwrap(),
            HeadKind::Mlp { hidden: 256 }
        );
        assert_eq!("linear".parse::<HeadKind>().unwrap(), HeadKind::Linear);
        assert!(
            "mlp:0"
                .parse::<HeadKind>()
                .unwrap_err()
                .contains("at least 1")
        );
        assert!(
            "mlp"
                .parse::<HeadKind>()
                .unwrap_err()
                .contains("mlp:HIDDEN")
        );
        assert_eq!("off".parse::<FeatureCache>().unwrap(), FeatureCache::Off);
        assert_eq!(
            "cache/x".parse::<FeatureCache>().unwrap(),
            FeatureCache::Dir("cache/x".into())
        );
        let json = serde_json::to_string(&Finetune::Last(2)).unwrap();
        assert_eq!(json, "\"last:2\"");
        assert_eq!(
            serde_json::from_str::<Finetune>(&json).unwrap(),
            Finetune::Last(2)
        );
        assert!(serde_json::from_str::<HeadKind>("\"mlp:-1\"").is_err());
    }
}
