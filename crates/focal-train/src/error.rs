//! The one error type of focal-train.

use std::path::PathBuf;

/// Everything that can go wrong while configuring, training or evaluating.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// A name (remedy, model, optimizer, schedule, device) that is not one of the valid ones.
    #[error("unknown {what} {name:?}; valid: {valid}")]
    UnknownName {
        /// What kind of name.
        what: &'static str,
        /// The name given.
        name: String,
        /// The valid names, comma-separated.
        valid: String,
    },
    /// A setting with a value out of range or inconsistent with another.
    #[error("{message}")]
    Invalid {
        /// What is wrong and how to fix it.
        message: String,
    },
    /// An image model asked for tabular data.
    #[error("model {model} needs images; this data set holds feature rows: use --model mlp")]
    ModelNeedsImages {
        /// The model asked for.
        model: &'static str,
    },
    /// Images too small for the model.
    #[error(
        "model {model} needs images of at least {min}x{min}; these are {height}x{width}: use --model mlp"
    )]
    ImageTooSmall {
        /// The model asked for.
        model: &'static str,
        /// Image height.
        height: usize,
        /// Image width.
        width: usize,
        /// Smallest side the model accepts.
        min: usize,
    },
    /// A pretrained weight file that cannot be used.
    #[error("pretrained weights {path}: {message}")]
    Pretrained {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The loss became NaN or infinite.
    #[error(
        "the loss became {value} at epoch {epoch}, step {step}; training stopped and the last good \
         checkpoint (epoch {last_good_epoch}) is kept: try a lower --lr or --clip-grad 1.0"
    )]
    NonFinite {
        /// Epoch (1-based) of the bad step.
        epoch: usize,
        /// Step within the epoch (1-based).
        step: usize,
        /// The loss value (NaN or inf).
        value: f32,
        /// The last epoch whose checkpoint was written (0: none).
        last_good_epoch: usize,
    },
    /// Reading or writing a file of the run folder.
    #[error("{path}: {error}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause (in the message, not chained as a source, so that error chains printed
        /// with anyhow's `{:#}` do not repeat it).
        error: std::io::Error,
    },
    /// A JSON or CSV file of the run folder that cannot be parsed or written.
    #[error("{path}: {message}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A Burn record (checkpoint) that cannot be saved or loaded.
    #[error("checkpoint {path}: {message}")]
    Checkpoint {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The data set or task could not be prepared.
    #[error(transparent)]
    Data(#[from] focal_data::DataError),
    /// A loss could not be configured.
    #[error(transparent)]
    Loss(#[from] focal_loss::FocalLossError),
    /// A metric could not be computed.
    #[error(transparent)]
    Metrics(#[from] focal_metrics::MetricsError),
    /// The asked device is not available.
    #[error("{message}")]
    Device {
        /// What is missing and how to get it.
        message: String,
    },
}

impl TrainError {
    /// An [`TrainError::Invalid`] with this message.
    pub fn invalid(message: impl Into<String>) -> Self {
        TrainError::Invalid {
            message: message.into(),
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        TrainError::Io {
            path: path.into(),
            error: source,
        }
    }

    pub(crate) fn format(path: impl Into<PathBuf>, message: impl std::fmt::Display) -> Self {
        TrainError::Format {
            path: path.into(),
            message: message.to_string(),
        }
    }
}
