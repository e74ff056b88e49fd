//! The CLI's names for the library's settings, and error messages in those names.
//!
//! The libraries name a setting by its key in `config.json` ([`Setting`]); a user of the CLI
//! typed a flag, so errors about a setting are printed with the flag instead.

use focal_data::DataError;
use focal_train::{Setting, TrainError};

/// The flag of `setting`.
pub fn flag(setting: Setting) -> &'static str {
    match setting {
        Setting::Epochs => "--epochs",
        Setting::BatchSize => "--batch-size",
        Setting::Lr => "--lr",
        Setting::WeightDecay => "--weight-decay",
        Setting::ClipGrad => "--clip-grad",
        Setting::WarmupEpochs => "--warmup-epochs",
        Setting::EarlyStop => "--early-stop",
        Setting::TargetRecall => "--target-recall",
        Setting::PriorBias => "--prior-bias",
        Setting::Pretrained => "--pretrained",
        Setting::Gamma => "--gamma",
        Setting::Alpha => "--alpha",
        Setting::Beta => "--beta",
        Setting::Tau => "--tau",
        Setting::Epsilon => "--epsilon",
        Setting::Ratio => "--ratio",
        Setting::Seeds => "--seeds",
        Setting::CheckpointEvery => "--checkpoint-every",
        Setting::Threads => "--threads",
        Setting::ImageSize => "--image-size",
        Setting::Rule => "--rule",
        Setting::ExportFormat => "--format",
        Setting::Augment => "--augment",
        Setting::AugmentFlip => "--augment-flip",
        Setting::AugmentShift => "--augment-shift",
        Setting::AugmentRotate => "--augment-rotate",
    }
}

/// `e` in the CLI's words: the flag instead of the setting's key, the flag's spelling of the
/// values it names. `None` when the library's message already reads right on the command line.
fn cli_message(e: &TrainError) -> Option<String> {
    Some(match e {
        TrainError::OutOfRange {
            setting,
            value,
            allowed,
        } => format!("{} {value}: {allowed}", flag(*setting)),
        TrainError::NotApplicable {
            setting,
            remedy,
            reads,
        } => format!(
            "{} does not apply to remedy {remedy}; it reads: {}",
            flag(*setting),
            if reads.is_empty() {
                "no parameter".to_string()
            } else {
                reads
                    .iter()
                    .map(|s| flag(*s))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        ),
        TrainError::WarmupTooLong { warmup, epochs } => {
            format!("--warmup-epochs {warmup}: must be below --epochs {epochs}")
        }
        TrainError::NeedsBinaryTask { setting } => {
            format!("{} needs a binary task (--positive CLASS)", flag(*setting))
        }
        TrainError::PretrainedNeedsResnet { model } => format!(
            "--pretrained needs --model resnet18 or resnet50 (torchvision weights); got --model {model}"
        ),
        TrainError::NonFinite { .. } => format!("{e}; e.g. --lr 1e-4 or --clip-grad 1.0"),
        TrainError::ModelNeedsImages { model } => {
            format!("model {model} needs images; this data set holds feature rows: use --model mlp")
        }
        TrainError::ImageTooSmall { .. } => e.to_string().replace("use model", "use --model"),
        TrainError::NoTrainingSample { .. } | TrainError::DataMismatch { .. } => e
            .to_string()
            .replace("another ratio", "another --ratio")
            .replace("pass the run's data", "pass the run's --data"),
        TrainError::SplitMismatch { .. } => e
            .to_string()
            .replace("pass the run's data", "pass the run's --data"),
        TrainError::BadAlpha { .. }
        | TrainError::ScalarAlphaNeedsTwoClasses { .. }
        | TrainError::AlphaLength { .. } => format!("--{e}"),
        TrainError::AugmentNeedsImages => "--augment: augmentation transforms images; this data \
             set holds feature rows (CSV): drop --augment (and the remedy oversample-augment)"
            .to_string(),
        TrainError::NoAugmentTransform => "--augment with no transform (--augment-flip off, \
             --augment-shift 0, --augment-rotate 0): turn one on, or drop --augment"
            .to_string(),
        TrainError::AugmentShiftTooLarge {
            shift,
            height,
            width,
        } => format!(
            "--augment-shift {shift}: the shift must be below the image size ({width}x{height})"
        ),
        TrainError::RemedyNeedsAugmentation { remedy } => {
            format!("remedy {remedy} augments minority images; it needs --augment minority or all")
        }
        TrainError::NothingToSweep { setting } => {
            format!("{}: give at least one value", flag(*setting))
        }
        _ => return None,
    })
}

/// The data library's errors in the CLI's words: the flags of the arguments it names.
fn data_message(e: &DataError) -> Option<String> {
    Some(match e {
        DataError::InvalidArgument {
            what,
            value,
            reason,
        } => {
            let flag = match what.as_str() {
                "ratio" => "--ratio",
                "positive class" => "--positive",
                "long-tail factor" => "--long-tail",
                "image size" => "--image-size",
                _ => return None,
            };
            let reason = reason
                .replace(
                    "name the positive class (a name or an index)",
                    "add --positive NAME|INDEX",
                )
                .replace(
                    "without a positive class and a ratio",
                    "without --positive and --ratio",
                )
                .replace(
                    "name the rare class as the positive, or allow a majority positive explicitly",
                    "name the rare class with --positive, or pass --allow-majority-positive",
                );
            format!("invalid {flag} `{value}`: {reason}")
        }
        DataError::TooLarge { .. } => e
            .to_string()
            .replace(
                "(a share of physical memory)",
                "(--max-memory; default a quarter of physical memory)",
            )
            .replace(
                "load them at a smaller image size, e.g.",
                "pass a smaller --image-size, e.g.",
            ),
        DataError::OverBudget { .. } => e.to_string().replace(
            "raise the memory budget",
            "raise --max-memory (default a quarter of physical memory)",
        ),
        DataError::CsvNotNumeric { .. } | DataError::MissingLabelColumn { .. } => e
            .to_string()
            .replace("name it as such", "choose it with --label-column")
            .replace(
                "name one of them as the label column",
                "pass one of them with --label-column",
            ),
        _ => return None,
    })
}

/// The whole error chain of `err` on one line (`outer: inner: ...`, as anyhow's `{:#}`), with
/// every library error about a setting in the CLI's words.
pub fn render(err: &anyhow::Error) -> String {
    err.chain()
        .map(|cause| {
            cause
                .downcast_ref::<TrainError>()
                .and_then(|e| match e {
                    TrainError::Data(d) => data_message(d),
                    e => cli_message(e),
                })
                .or_else(|| cause.downcast_ref::<DataError>().and_then(data_message))
                .unwrap_or_else(|| cause.to_string())
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
    fn library_errors_name_the_flag() {
        let e = anyhow::Error::from(TrainError::out_of_range(Setting::Lr, -1, "must be > 0"))
            .context("checking the flags");
        assert_eq!(render(&e), "checking the flags: --lr -1: must be > 0");
        let e = anyhow::Error::from(TrainError::NotApplicable {
            setting: Setting::Gamma,
            remedy: "weighted-ce",
            reads: &[Setting::Alpha],
        });
        assert_eq!(
            render(&e),
            "--gamma does not apply to remedy weighted-ce; it reads: --alpha"
        );
        let e = anyhow::Error::from(TrainError::AlphaLength {
            given: 3,
            n_classes: 2,
        });
        assert!(
            render(&e).starts_with("--alpha: 3 weights"),
            "{}",
            render(&e)
        );
    }
}
