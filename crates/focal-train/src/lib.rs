//! focal-train
