//! focal-metrics
