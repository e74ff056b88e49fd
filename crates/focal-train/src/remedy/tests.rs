use burn::tensor::{Device, Int, Tensor};

use super::*;
use crate::error::TrainError;
use crate::setting::Setting;
use crate::value::{Beta, Gamma};
use crate::value::{ClassWeights, PositiveWeight};

fn gamma(g: f32) -> Gamma {
    Gamma::new(g).unwrap()
}

#[test]
fn every_kind_has_its_name_its_defaults_and_reads_its_parameters() {
    assert_eq!(RemedyKind::ALL.len(), 14);
    for &kind in RemedyKind::ALL {
        let info = kind.info();
        assert_eq!(info.kind, kind);
        assert_eq!(kind.name().parse::<RemedyKind>().unwrap(), kind);
        assert_eq!(RemedyKind::parse(kind.name()).unwrap(), kind);
        assert_eq!(kind.to_string(), kind.name());
        let d = Remedy::default_for(kind);
        assert_eq!(d.kind(), kind);
        // The defaults pass the checks, and the parameters a remedy has are those it reads.
        assert_eq!(RemedyParams::default().check(kind).unwrap(), d);
        let p = d.params();
        for (s, has) in [
            (Setting::Gamma, p.gamma.is_some()),
            (Setting::Beta, p.beta.is_some()),
            (Setting::Tau, p.tau.is_some()),
            (Setting::Epsilon, p.epsilon.is_some()),
        ] {
            assert_eq!(has, info.reads.contains(&s), "{kind} {s}");
        }
    }
    assert_eq!(RemedyKind::WeightedCe.name(), "weighted-ce");
    assert_eq!(RemedyKind::OversampleAugment.name(), "oversample-augment");
}

#[test]
fn unknown_remedy_lists_the_valid_names() {
    let e = RemedyKind::parse("focall").unwrap_err().to_string();
    assert!(
        e.contains("focall") && e.contains("cb-focal") && e.contains("ldam-drw"),
        "{e}"
    );
}

#[test]
fn alpha_parses_and_resolves() {
    assert_eq!(
        "0.25".parse::<Alpha>().unwrap().resolve(&[98, 2]).unwrap(),
        vec![0.75, 0.25]
    );
    assert_eq!("auto".parse::<Alpha>().unwrap(), Alpha::Auto);
    assert_eq!(
        "cb:0.99".parse::<Alpha>().unwrap(),
        Alpha::Cb(Beta::new(0.99).unwrap())
    );
    assert_eq!(
        "1,2,3".parse::<Alpha>().unwrap(),
        Alpha::List(ClassWeights::new(vec![1.0, 2.0, 3.0]).unwrap())
    );
    // inverse frequency: n / (C n_c) = 100 / (2 * 98), 100 / (2 * 2)
    let w = Alpha::Auto.resolve(&[98, 2]).unwrap();
    assert!((w[0] - 100.0 / 196.0).abs() < 1e-6 && (w[1] - 25.0).abs() < 1e-5);
    assert!("x".parse::<Alpha>().is_err());
    assert!("cb:1.5".parse::<Alpha>().is_err());
    assert!("1.5".parse::<Alpha>().is_err());
    assert!("-0.5".parse::<Alpha>().is_err());
    assert!("1,-2".parse::<Alpha>().is_err());
    let quarter = Alpha::Scalar(PositiveWeight::new(0.25).unwrap());
    let e = quarter.resolve(&[1, 2, 3]).unwrap_err();
    assert!(matches!(
        e,
        TrainError::ScalarAlphaNeedsTwoClasses { n_classes: 3 }
    ));
    assert!(e.to_string().contains("two classes"));
}

#[test]
fn parameters_a_remedy_does_not_read_are_rejected() {
    let p = RemedyParams {
        gamma: Some(gamma(2.0)),
        ..Default::default()
    };
    let e = p.check(RemedyKind::Ce).unwrap_err();
    assert!(
        matches!(
            e,
            TrainError::NotApplicable {
                setting: Setting::Gamma,
                remedy: "ce",
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(
        p.check(RemedyKind::Focal).unwrap(),
        Remedy::Focal {
            gamma: gamma(2.0),
            alpha: None
        }
    );
    assert_eq!(p.only_for(RemedyKind::Ce), RemedyParams::default());
    assert_eq!(
        Remedy::default_for(RemedyKind::CbFocal),
        Remedy::CbFocal {
            gamma: gamma(DEFAULT_GAMMA),
            beta: Beta::new(0.999).unwrap()
        }
    );
    // A gamma below 0 or a beta of 1 cannot even be made.
    assert!(matches!(
        Gamma::new(-1.0),
        Err(TrainError::OutOfRange {
            setting: Setting::Gamma,
            ..
        })
    ));
    assert!(Beta::new(1.0).is_err());
    assert!(
        RemedyKind::CbFocal
            .parameter_help()
            .contains("beta (default 0.999)")
    );
    assert!(
        RemedyKind::Focal
            .parameter_help()
            .contains("alpha (default none)")
    );
    // A parameter no remedy of an experiment reads is named with the remedies that read it.
    let beta = RemedyParams {
        beta: Some(Beta::new(0.99).unwrap()),
        ..Default::default()
    };
    let e = beta
        .refuse_unread_by_all(&[RemedyKind::Ce, RemedyKind::Focal])
        .unwrap_err()
        .to_string();
    assert!(e.contains("beta") && e.contains("cb-focal"), "{e}");
    assert!(beta.refuse_unread_by_all(&[RemedyKind::CbFocal]).is_ok());
}

#[test]
fn config_json_keeps_the_flat_record() {
    // The form every run folder so far has: the name and all five parameters.
    let r = Remedy::Focal {
        gamma: gamma(2.0),
        alpha: Some(Alpha::Scalar(PositiveWeight::new(0.25).unwrap())),
    };
    let json = serde_json::to_string(&r).unwrap();
    assert_eq!(
        json,
        r#"{"kind":"focal","gamma":2.0,"alpha":{"type":"scalar","value":0.25},"beta":null,"tau":null,"epsilon":null}"#
    );
    assert_eq!(serde_json::from_str::<Remedy>(&json).unwrap(), r);
    // A record that no valid remedy has is refused on reading.
    let bad = r#"{"kind":"ce","gamma":2.0,"alpha":null,"beta":null,"tau":null,"epsilon":null}"#;
    assert!(serde_json::from_str::<Remedy>(bad).is_err());
    let negative =
        r#"{"kind":"focal","gamma":-1.0,"alpha":null,"beta":null,"tau":null,"epsilon":null}"#;
    assert!(serde_json::from_str::<Remedy>(negative).is_err());
}

#[test]
fn ldam_drw_has_two_loss_stages() {
    let r = Remedy::default_for(RemedyKind::LdamDrw);
    // 10 epochs: plain LDAM for 8, weighted for 2.
    let stages: Vec<usize> = (1..=10).map(|e| r.loss_stage(e, 10)).collect();
    assert_eq!(stages, [0, 0, 0, 0, 0, 0, 0, 0, 1, 1]);
    assert_eq!(Remedy::Ce {}.loss_stage(10, 10), 0);
}

#[test]
fn ce_drw_and_focal_drw_defer_the_effective_number_weights() {
    let device = Device::flex();
    let counts = [90usize, 10];
    let logits = Tensor::<2>::from_floats([[2.0, -1.0], [0.5, 0.3], [-1.0, 1.5]], &device);
    let targets = Tensor::<1, Int>::from_ints([0, 1, 1], &device);
    let value = |r: &Remedy, epoch: usize| -> f32 {
        r.loss(&counts, epoch, 10, &device)
            .unwrap()
            .forward(logits.clone(), targets.clone())
            .into_scalar()
    };
    let weights = focal_loss::class_weights::effective_number(&counts, DEFAULT_DRW_BETA).unwrap();
    let weighted_ce = Remedy::WeightedCe {
        alpha: Alpha::List(ClassWeights::new(weights.clone()).unwrap()),
    };
    let ce_drw = Remedy::default_for(RemedyKind::CeDrw);
    let stages: Vec<usize> = (1..=10).map(|e| ce_drw.loss_stage(e, 10)).collect();
    assert_eq!(stages, [0, 0, 0, 0, 0, 0, 0, 0, 1, 1]);
    assert!((value(&ce_drw, 8) - value(&Remedy::Ce {}, 8)).abs() < 1e-6);
    assert!((value(&ce_drw, 9) - value(&weighted_ce, 9)).abs() < 1e-6);
    assert!((value(&ce_drw, 9) - value(&ce_drw, 8)).abs() > 1e-3);

    let focal_drw = Remedy::default_for(RemedyKind::FocalDrw);
    let focal = Remedy::default_for(RemedyKind::Focal);
    let cb = Remedy::Focal {
        gamma: gamma(DEFAULT_GAMMA),
        alpha: Some(Alpha::List(ClassWeights::new(weights).unwrap())),
    };
    assert!((value(&focal_drw, 8) - value(&focal, 8)).abs() < 1e-6);
    assert!((value(&focal_drw, 10) - value(&cb, 10)).abs() < 1e-6);
    assert_eq!(focal_drw.label(), "focal-drw(gamma=2, beta=0.9999)");
}
