//! The CLI's names for the libraries' settings: one table from [`Setting`] to its flag, and
//! errors printed in those names.
//!
//! The libraries name a setting by its key (as `config.json` does) and hold the settings of a
//! message as values ([`focal_data::Message`]); this module gives each its flag, so a message
//! reads right on the command line without the CLI rewriting any library text.

use focal_data::{DataError, DataSetting};
use focal_experiment::ExperimentError;
use focal_train::{Setting, TrainError};

/// The flag of `setting` (every setting has one: the match is exhaustive, so a new setting
/// cannot go without).
pub fn flag(setting: Setting) -> &'static str {
    match setting {
        Setting::Data(d) => data_flag(d),
        Setting::Model => "--model",
        Setting::Remedy => "--remedy",
        Setting::Remedies => "--remedies",
        Setting::Epochs => "--epochs",
        Setting::BatchSize => "--batch-size",
        Setting::Lr => "--lr",
        Setting::Optimizer => "--optimizer",
        Setting::WeightDecay => "--weight-decay",
        Setting::Schedule => "--schedule",
        Setting::ClipGrad => "--clip-grad",
        Setting::WarmupEpochs => "--warmup-epochs",
        Setting::EarlyStop => "--early-stop",
        Setting::TargetRecall => "--target-recall",
        Setting::PriorBias => "--prior-bias",
        Setting::Pretrained => "--pretrained",
        Setting::Finetune => "--finetune",
        Setting::Head => "--head",
        Setting::FeatureCache => "--feature-cache",
        Setting::Gamma => "--gamma",
        Setting::Alpha => "--alpha",
        Setting::ThenAlpha => "--then-alpha",
        Setting::Beta => "--beta",
        Setting::Tau => "--tau",
        Setting::Epsilon => "--epsilon",
        Setting::Device => "--device",
        Setting::Threads => "--threads",
        Setting::Stream => "--stream",
        Setting::Calibrate => "--calibrate",
        Setting::CheckpointEvery => "--checkpoint-every",
        Setting::LogDir => "--log-dir",
        Setting::Seed => "--seed",
        Setting::Seeds => "--seeds",
        Setting::Ensemble => "--ensemble",
        Setting::Jobs => "--jobs",
        Setting::Augment => "--augment",
        Setting::AugmentFlip => "--augment-flip",
        Setting::AugmentShift => "--augment-shift",
        Setting::AugmentRotate => "--augment-rotate",
        Setting::Rule => "--rule",
        Setting::Threshold => "--threshold",
        Setting::ExportFormat => "--format",
        Setting::Resume => "--resume",
        Setting::Run => "--run",
        Setting::Predictions => "--predictions",
        Setting::ClassNames => "--class-names",
        Setting::Digits => "--digits",
        Setting::Out => "--out",
    }
}

/// The flag of a data setting.
fn data_flag(setting: DataSetting) -> &'static str {
    match setting {
        DataSetting::Data => "--data",
        DataSetting::Positive => "--positive",
        DataSetting::Ratio => "--ratio",
        DataSetting::LongTail => "--long-tail",
        DataSetting::AllowMajorityPositive => "--allow-majority-positive",
        DataSetting::LabelColumn => "--label-column",
        DataSetting::ImageColumn => "--image-column",
        DataSetting::ImageRoot => "--image-root",
        DataSetting::ImageSuffix => "--image-suffix",
        DataSetting::GroupColumn => "--group-column",
        DataSetting::Groups => "--groups",
        DataSetting::DicomWindow => "--dicom-window",
        DataSetting::DicomFrame => "--dicom-frame",
        DataSetting::ImageSize => "--image-size",
        DataSetting::MaxMemory => "--max-memory",
        DataSetting::Seed => "--seed",
        DataSetting::SplitSizes => "--train-size/--val-size/--test-size",
        DataSetting::SplitFractions => "--train-size/--val-size/--test-size",
    }
}

/// The flag of `setting`, as an owned name (what the libraries' `render` takes).
fn name(setting: Setting) -> String {
    flag(setting).to_string()
}

/// The whole error chain of `err` on one line (`outer: inner: ...`, as anyhow's `{:#}`), every
/// library error with its settings named by their flags.
pub fn render(err: &anyhow::Error) -> String {
    err.chain()
        .map(|cause| {
            if let Some(e) = cause.downcast_ref::<ExperimentError>() {
                e.render(&name)
            } else if let Some(e) = cause.downcast_ref::<TrainError>() {
                e.render(&name)
            } else if let Some(e) = cause.downcast_ref::<DataError>() {
                e.render(&|d| data_flag(d).to_string())
            } else {
                cause.to_string()
            }
        })
        // One line, whatever a decoder's message holds.
        .map(|text| text.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn library_errors_name_the_flag_where_the_library_names_the_key() {
        let e = TrainError::NotApplicable {
            setting: Setting::Gamma,
            remedy: "weighted-ce",
            reads: &[Setting::Alpha],
        };
        assert_eq!(
            e.to_string(),
            "gamma does not apply to remedy weighted-ce; it reads: alpha"
        );
        let e = anyhow::Error::from(e).context("checking the flags");
        assert_eq!(
            render(&e),
            "checking the flags: --gamma does not apply to remedy weighted-ce; it reads: --alpha"
        );
    }
}
