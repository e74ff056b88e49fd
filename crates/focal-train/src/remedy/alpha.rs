//! Class weights as a user gives them: one number, one per class, inverse frequency, or
//! effective numbers.

use std::fmt;
use std::str::FromStr;

use crate::error::TrainError;
use crate::value::{Beta, ClassWeights, PositiveWeight};

/// How class weights (`alpha`) are given. Every variant holds checked values, so an alpha of 5
/// or a negative weight cannot be built.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case", tag = "type", content = "value")]
pub enum Alpha {
    /// One number: with two classes, weight `a` on the positive class (class 1) and `1 - a` on
    /// class 0 (torchvision's and the tutorial's reading).
    Scalar(PositiveWeight),
    /// One weight per class.
    List(ClassWeights),
    /// Inverse frequency of the training split (scikit-learn's `balanced`).
    Auto,
    /// Effective number of samples with this beta (Cui et al. 2019).
    Cb(Beta),
}

impl FromStr for Alpha {
    type Err = TrainError;
    /// `0.25`, `0.1,0.9`, `auto`, `cb:0.999`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let bad = |reason: &'static str| TrainError::BadAlpha {
            text: s.to_string(),
            reason,
        };
        if s == "auto" {
            return Ok(Alpha::Auto);
        }
        if let Some(beta) = s.strip_prefix("cb:") {
            let b: f64 = beta.parse().map_err(|_| bad("BETA is not a number"))?;
            return Beta::new(b)
                .map(Alpha::Cb)
                .map_err(|_| bad("BETA must be in [0, 1)"));
        }
        let parts: Result<Vec<f32>, _> = s.split(',').map(|p| p.trim().parse::<f32>()).collect();
        let parts = parts.map_err(|_| bad("not a number"))?;
        match parts.as_slice() {
            [a] if a.is_finite() && *a >= 0.0 => PositiveWeight::new(*a)
                .map(Alpha::Scalar)
                .map_err(|_| bad("a single alpha is a weight in [0, 1]")),
            _ => ClassWeights::new(parts)
                .map(Alpha::List)
                .map_err(|_| bad("weights must be finite and >= 0")),
        }
    }
}

impl fmt::Display for Alpha {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Alpha::Scalar(a) => write!(f, "{a}"),
            Alpha::List(l) => write!(f, "{l}"),
            Alpha::Auto => f.write_str("auto"),
            Alpha::Cb(b) => write!(f, "cb:{b}"),
        }
    }
}

impl Alpha {
    /// One weight per class, from the training split's class `counts`.
    pub fn resolve(&self, counts: &[usize]) -> Result<Vec<f32>, TrainError> {
        let c = counts.len();
        match self {
            Alpha::Scalar(a) if c == 2 => Ok(vec![1.0 - a.get(), a.get()]),
            Alpha::Scalar(_) => Err(TrainError::ScalarAlphaNeedsTwoClasses { n_classes: c }),
            Alpha::List(l) if l.as_slice().len() == c => Ok(l.as_slice().to_vec()),
            Alpha::List(l) => Err(TrainError::AlphaLength {
                given: l.as_slice().len(),
                n_classes: c,
            }),
            Alpha::Auto => Ok(focal_loss::class_weights::inverse_frequency(counts)?),
            Alpha::Cb(b) => Ok(focal_loss::class_weights::effective_number(
                counts,
                b.get(),
            )?),
        }
    }
}
