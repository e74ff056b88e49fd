use super::*;
use crate::augmentation::AugmentScope;
use crate::augmentation::Augmentation;
use crate::device::DeviceChoice;
use crate::error::TrainError;
use crate::named::Named;
use crate::remedy::RemedyKind;
use crate::setting::Setting;

fn spec() -> TrainSpec {
    TrainSpec::default()
}

#[test]
fn streaming_follows_the_flag_and_on_auto_the_memory() {
    use DeviceChoice::{Cpu, Gpu};
    assert!(Streaming::On.streams(1, Gpu));
    assert!(!Streaming::Off.streams(u64::MAX, Cpu));
    assert!(!Streaming::Auto.streams(u64::MAX, Gpu));
    assert!(!Streaming::Auto.streams(1, Cpu));
    assert_eq!(
        Streaming::Auto.streams(u64::MAX, Cpu),
        focal_data::memory::default_budget().is_some()
    );
    let json = |c: &TrainConfig| serde_json::to_value(c).unwrap();
    let c = TrainConfig::for_remedy(RemedyKind::Ce);
    assert!(json(&c).get("stream").is_none(), "auto is not recorded");
    let c = TrainSpec {
        stream: Streaming::On,
        ..spec()
    }
    .check()
    .unwrap();
    assert_eq!(json(&c)["stream"], "on");
    let back: TrainConfig = serde_json::from_value(json(&c)).unwrap();
    assert_eq!(back.stream(), Streaming::On);
    assert_eq!(back, c);
}

#[test]
fn schedules() {
    let at = |schedule, warmup_epochs| {
        TrainSpec {
            epochs: 4,
            schedule,
            warmup_epochs,
            ..spec()
        }
        .check()
        .unwrap()
    };
    let c = at(ScheduleKind::Constant, 0);
    assert_eq!(c.lr_at(1, 0, 10), 1e-3);
    let c = at(ScheduleKind::Step, 0);
    assert_eq!(c.lr_at(3, 0, 10), 1e-4);
    assert!((c.lr_at(4, 0, 10) - 1e-5).abs() < 1e-12);
    let c = at(ScheduleKind::Cosine, 0);
    assert!((c.lr_at(3, 0, 10) - 0.5e-3).abs() < 1e-12); // t = 2 of 4: cos(pi/2) = 0
    let c = at(ScheduleKind::Constant, 1);
    assert!((c.lr_at(1, 0, 10) - 1e-4).abs() < 1e-12);
    assert!((c.lr_at(1, 9, 10) - 1e-3).abs() < 1e-12);
    assert_eq!(c.lr_at(2, 0, 10), 1e-3);
}

#[test]
fn checking_names_the_setting() {
    let e = TrainSpec { lr: -1.0, ..spec() }.check().unwrap_err();
    assert!(matches!(
        e,
        TrainError::OutOfRange {
            setting: Setting::Lr,
            ..
        }
    ));
    let e = TrainSpec {
        target_recall: Some(1.5),
        ..spec()
    }
    .check()
    .unwrap_err();
    assert!(e.to_string().contains("target_recall"), "{e}");
    let e = TrainSpec {
        warmup_epochs: 10,
        ..spec()
    }
    .check()
    .unwrap_err();
    assert!(matches!(e, TrainError::WarmupTooLong { .. }), "{e}");
    assert!(
        OptimizerKind::parse_name("adamw")
            .unwrap_err()
            .to_string()
            .contains("adam, sgd")
    );
    assert_eq!(
        OptimizerKind::parse_name("sgd").unwrap(),
        OptimizerKind::Sgd
    );
    assert_eq!(ScheduleKind::Cosine.name(), "cosine");
    assert_eq!(Calibration::all().len(), 3);
    // A config.json whose values break the rules is refused on reading.
    let mut json = serde_json::to_value(TrainConfig::for_remedy(RemedyKind::Ce)).unwrap();
    json["epochs"] = 0.into();
    assert!(serde_json::from_value::<TrainConfig>(json).is_err());
}

#[test]
fn augmentation_is_resolved_per_remedy() {
    let c = TrainConfig::for_remedy(RemedyKind::OversampleAugment);
    assert_eq!(
        c.augment(),
        Some(&Augmentation::default_for(AugmentScope::Minority))
    );
    assert!(TrainConfig::for_remedy(RemedyKind::Ce).augment().is_none());
    // A transform with nothing to apply it to, or with augmentation off, is refused.
    let shift = AugmentSpec {
        shift: Some(4),
        ..AugmentSpec::default()
    };
    let e = TrainSpec {
        augment: shift,
        ..spec()
    }
    .check()
    .unwrap_err();
    assert!(
        matches!(
            e,
            TrainError::TransformWithoutAugment {
                setting: Setting::AugmentShift,
                ..
            }
        ),
        "{e}"
    );
    let off = AugmentSpec {
        scope: Some(AugmentChoice::Off),
        ..shift
    };
    assert!(matches!(
        off.resolve(RemedyKind::Ce),
        Err(TrainError::TransformWhileOff { .. })
    ));
    assert!(matches!(
        AugmentSpec {
            scope: Some(AugmentChoice::Off),
            ..AugmentSpec::default()
        }
        .resolve(RemedyKind::OversampleAugment),
        Err(TrainError::AugmentOff { .. })
    ));
    // In an experiment, a remedy that augments takes the transforms; the others do not.
    let among = [RemedyKind::Ce, RemedyKind::OversampleAugment];
    let ce = TrainSpec {
        augment: shift,
        ..spec()
    }
    .check_among(&among)
    .unwrap();
    assert!(ce.augment().is_none());
    assert_eq!(
        shift
            .resolve(RemedyKind::OversampleAugment)
            .unwrap()
            .unwrap()
            .shift,
        4
    );
}
