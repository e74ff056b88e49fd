//! A test hook: a NaN loss at a chosen step, to test the NaN guard and resume. Not part of a
//! run's configuration; set on the thread that trains, for as long as the guard lives.

use std::cell::Cell;

thread_local! {
    static NAN_AT: Cell<Option<(usize, usize)>> = const { Cell::new(None) };
}

/// Where the loss is replaced by NaN on this thread: (epoch, step), both 1-based.
pub(crate) fn nan_at() -> Option<(usize, usize)> {
    NAN_AT.with(Cell::get)
}

/// Replaces the training loss by NaN at `(epoch, step)` (both 1-based) for runs trained on this
/// thread while the returned guard lives. For tests of the NaN guard.
#[doc(hidden)]
pub fn inject_nan_at(epoch: usize, step: usize) -> NanGuard {
    NAN_AT.with(|c| c.set(Some((epoch, step))));
    NanGuard(())
}

/// Ends a [`inject_nan_at`] when dropped.
#[doc(hidden)]
#[derive(Debug)]
pub struct NanGuard(());

impl Drop for NanGuard {
    fn drop(&mut self) {
        NAN_AT.with(|c| c.set(None));
    }
}
