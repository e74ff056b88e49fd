//! Checking what a file declares against the memory budget, before anything is allocated.

use std::path::Path;

use crate::error::DataError;
use crate::memory;

/// Bytes a loader may still allocate for decoded values; each array a file declares is taken
/// from it before the array is read, so a set of files together stays within the budget too.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Budget {
    /// Bytes left; `None`: no limit (physical memory unknown).
    left: Option<u64>,
    /// The whole budget, for messages.
    total: Option<u64>,
}

impl Budget {
    /// `budget` bytes, or the default budget (a share of physical memory) when `None`.
    pub(crate) fn new(budget: Option<u64>) -> Self {
        let total = memory::resolve(budget);
        Budget { left: total, total }
    }

    /// No limit (data focal ships itself).
    pub(crate) fn unlimited() -> Self {
        Budget {
            left: None,
            total: None,
        }
    }

    /// Takes `needed` bytes for `entry` of `path`, or fails naming both amounts.
    pub(crate) fn take(&mut self, path: &Path, entry: &str, needed: u64) -> Result<(), DataError> {
        let (Some(left), Some(total)) = (self.left, self.total) else {
            return Ok(());
        };
        if needed > left {
            return Err(DataError::over_budget(
                path,
                entry,
                total - left + needed,
                total,
            ));
        }
        self.left = Some(left - needed);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_until_the_budget_is_spent_and_names_the_total_need() {
        let mut b = Budget::new(Some(100));
        b.take(Path::new("a"), "first", 60).unwrap();
        let e = b.take(Path::new("a"), "second", 50).unwrap_err();
        assert!(
            matches!(
                e,
                DataError::OverBudget {
                    needed: 110,
                    budget: 100,
                    ..
                }
            ),
            "{e}"
        );
        b.take(Path::new("a"), "third", 40).unwrap();
    }
}
