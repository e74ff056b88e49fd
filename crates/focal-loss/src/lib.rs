//! focal-loss
