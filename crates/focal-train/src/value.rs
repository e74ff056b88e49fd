//! Values with rules, as types: a value of one of these is valid, so a remedy, an alpha or a
//! threshold that holds one cannot be built wrong (`Gamma::new(-1.0)` is an error, and there is
//! no other way to make a `Gamma`). Each is written to and read from JSON as its plain number,
//! and reading checks it again.

use std::fmt;

use crate::error::TrainError;
use crate::setting::Setting;

/// The default focusing parameter of focal and cb-focal (the paper's).
pub const DEFAULT_GAMMA: f32 = 2.0;
/// The default effective-number beta of cb-focal (Cui et al.'s best on long-tailed CIFAR).
pub const DEFAULT_CB_BETA: f64 = 0.999;
/// The default effective-number beta of ldam-drw's deferred weights (Cao et al.'s).
pub const DEFAULT_DRW_BETA: f64 = 0.9999;
/// The default logit-adjustment temperature (Menon et al.'s).
pub const DEFAULT_TAU: f32 = 1.0;
/// The default Poly-1 epsilon (Leng et al.'s).
pub const DEFAULT_EPSILON: f32 = 1.0;

macro_rules! checked_value {
    (
        $(#[$doc:meta])*
        $name:ident($inner:ty, $inner_name:literal), $setting:expr, |$v:ident| $ok:expr,
        $allowed:literal
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, PartialOrd, serde::Serialize, serde::Deserialize)]
        #[serde(try_from = $inner_name, into = $inner_name)]
        pub struct $name($inner);

        impl $name {
            #[doc = concat!("What a ", stringify!($name), " allows, in words.")]
            pub const ALLOWED: &'static str = $allowed;

            #[doc = concat!("The value, checked: ", $allowed, ".")]
            pub fn new($v: $inner) -> Result<Self, TrainError> {
                if $ok {
                    Ok($name($v))
                } else {
                    Err(TrainError::out_of_range($setting, $v, $allowed))
                }
            }

            /// The plain number.
            pub fn get(self) -> $inner {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl TryFrom<$inner> for $name {
            type Error = String;
            fn try_from(v: $inner) -> Result<Self, String> {
                $name::new(v).map_err(|e| e.to_string())
            }
        }

        impl From<$name> for $inner {
            fn from(v: $name) -> $inner {
                v.0
            }
        }
    };
}

checked_value!(
    /// The focusing parameter of the focal losses: finite and >= 0 (0 is cross-entropy).
    Gamma(f32, "f32"), Setting::Gamma, |v| focal_loss::valid_gamma(v), "gamma must be finite and >= 0"
);

checked_value!(
    /// The effective-number beta of class-balanced weights (Cui et al. 2019): in [0, 1).
    Beta(f64, "f64"), Setting::Beta, |v| focal_loss::class_weights::valid_beta(v),
    "beta must be in [0, 1) (0.9, 0.99, 0.999, 0.9999 are the paper's)"
);

checked_value!(
    /// The logit-adjustment temperature: finite.
    Tau(f32, "f32"), Setting::Tau, |v| v.is_finite(), "tau must be finite"
);

checked_value!(
    /// The Poly-1 epsilon: finite and >= -1.
    PolyEpsilon(f32, "f32"), Setting::Epsilon, |v| v.is_finite() && v >= -1.0, "epsilon must be >= -1"
);

checked_value!(
    /// The weight a single alpha puts on the positive class (1 - a on the other): in [0, 1].
    PositiveWeight(f32, "f32"), Setting::Alpha, |v| (0.0..=1.0).contains(&v),
    "a single alpha is a weight in [0, 1]"
);

checked_value!(
    /// A learning rate: finite and > 0.
    LearningRate(f64, "f64"), Setting::Lr, |v| v.is_finite() && v > 0.0,
    "the learning rate must be finite and > 0"
);

checked_value!(
    /// L2 weight decay: finite and >= 0.
    WeightDecay(f32, "f32"), Setting::WeightDecay, |v| v.is_finite() && v >= 0.0,
    "must be finite and >= 0"
);

checked_value!(
    /// A gradient-clipping norm: finite and > 0.
    ClipNorm(f32, "f32"), Setting::ClipGrad, |v| v.is_finite() && v > 0.0,
    "the norm must be finite and > 0"
);

checked_value!(
    /// The recall a threshold is tuned for: in (0, 1].
    TargetRecall(f64, "f64"), Setting::TargetRecall, |v| v > 0.0 && v <= 1.0, "must be in (0, 1]"
);

checked_value!(
    /// The prior probability of the positive class at initialisation (RetinaNet's bias): in
    /// (0, 1).
    Prior(f64, "f64"), Setting::PriorBias, |v| v > 0.0 && v < 1.0,
    "the prior must be in (0, 1) (the paper uses 0.01)"
);

checked_value!(
    /// A decision threshold on the positive class's probability: in [0, 1].
    Threshold(f64, "f64"), Setting::Threshold, |v| (0.0..=1.0).contains(&v),
    "a probability threshold must be in [0, 1]"
);

impl Gamma {
    /// The paper's focusing parameter, the default of focal, cb-focal and focal-drw.
    pub const DEFAULT: Gamma = Gamma(DEFAULT_GAMMA);
}

impl Beta {
    /// The default beta of cb-focal (Cui et al.'s best on long-tailed CIFAR).
    pub const CB_DEFAULT: Beta = Beta(DEFAULT_CB_BETA);
    /// The default beta of the deferred re-weighting remedies (Cao et al.'s).
    pub const DRW_DEFAULT: Beta = Beta(DEFAULT_DRW_BETA);
}

impl Tau {
    /// The default logit-adjustment temperature (Menon et al.'s).
    pub const DEFAULT: Tau = Tau(DEFAULT_TAU);
}

impl PolyEpsilon {
    /// The default Poly-1 epsilon (Leng et al.'s).
    pub const DEFAULT: PolyEpsilon = PolyEpsilon(DEFAULT_EPSILON);
}

/// Class weights, one per class: each finite and >= 0.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "Vec<f32>", into = "Vec<f32>")]
pub struct ClassWeights(Vec<f32>);

impl ClassWeights {
    /// What class weights allow, in words.
    pub const ALLOWED: &'static str = "weights must be finite and >= 0";

    /// The weights, checked.
    pub fn new(weights: Vec<f32>) -> Result<Self, TrainError> {
        if weights.is_empty() || weights.iter().any(|w| !(w.is_finite() && *w >= 0.0)) {
            let text = weights
                .iter()
                .map(|w| w.to_string())
                .collect::<Vec<_>>()
                .join(",");
            return Err(TrainError::out_of_range(
                Setting::Alpha,
                text,
                Self::ALLOWED,
            ));
        }
        Ok(ClassWeights(weights))
    }

    /// The weights.
    pub fn as_slice(&self) -> &[f32] {
        &self.0
    }
}

impl TryFrom<Vec<f32>> for ClassWeights {
    type Error = String;
    fn try_from(v: Vec<f32>) -> Result<Self, String> {
        ClassWeights::new(v).map_err(|e| e.to_string())
    }
}

impl From<ClassWeights> for Vec<f32> {
    fn from(w: ClassWeights) -> Vec<f32> {
        w.0
    }
}

impl fmt::Display for ClassWeights {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(|w| w.to_string()).collect();
        f.write_str(&parts.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_outside_their_rules_cannot_be_made_or_read() {
        assert!(Gamma::new(-1.0).is_err() && Gamma::new(f32::NAN).is_err());
        assert_eq!(Gamma::new(2.0).unwrap().get(), 2.0);
        assert!(Beta::new(1.0).is_err() && Beta::new(0.999).is_ok());
        assert!(PositiveWeight::new(5.0).is_err());
        assert!(Threshold::new(7.0).is_err() && Threshold::new(0.5).is_ok());
        assert!(LearningRate::new(0.0).is_err());
        assert!(PolyEpsilon::new(-1.5).is_err() && PolyEpsilon::new(-1.0).is_ok());
        assert!(ClassWeights::new(vec![1.0, -2.0]).is_err());
        assert!(matches!(
            Gamma::new(-1.0),
            Err(TrainError::OutOfRange {
                setting: Setting::Gamma,
                ..
            })
        ));
        // Written as the plain number, read back checked.
        assert_eq!(
            serde_json::to_string(&Gamma::new(2.0).unwrap()).unwrap(),
            "2.0"
        );
        assert!(serde_json::from_str::<Gamma>("-1.0").is_err());
        assert!(serde_json::from_str::<ClassWeights>("[1.0, -1.0]").is_err());
        assert_eq!(
            serde_json::from_str::<ClassWeights>("[1.0, 2.5]").unwrap(),
            ClassWeights::new(vec![1.0, 2.5]).unwrap()
        );
    }
}
