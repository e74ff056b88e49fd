//! `focal export`'s safetensors layout: torchvision's ResNet state-dict keys, shapes and dtypes
//! (a stored list, `scripts/gen_export_fixture.py`), and the round trip export -> `--pretrained`
//! import that gives back the same model (and PyTorch's logits on the fixture's weights).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use burn::tensor::{Device, Tensor, TensorData};
use focal_train::export::{safetensors_bytes, state_dict};
use focal_train::model::pretrained::load_resnet;
use focal_train::model::{BlockKind, Model, ResNet};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn json(name: &str) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(fixture(name)).unwrap()).unwrap()
}

fn floats(v: &serde_json::Value) -> Vec<f32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap() as f32)
        .collect()
}

/// `name -> (shape, dtype)` of a safetensors file's header.
fn header(bytes: &[u8]) -> BTreeMap<String, (Vec<usize>, String)> {
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    assert_eq!(n % 8, 0, "the header is padded to 8 bytes");
    let h: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&bytes[8..8 + n]).unwrap();
    h.into_iter()
        .filter(|(k, _)| k != "__metadata__")
        .map(|(k, v)| {
            let shape = v["shape"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d.as_u64().unwrap() as usize)
                .collect();
            (k, (shape, v["dtype"].as_str().unwrap().to_string()))
        })
        .collect()
}

#[test]
fn resnet_exports_have_torchvisions_keys_shapes_and_dtypes() {
    let device = Device::flex();
    let want = json("torchvision_resnet_keys.json");
    for (name, net) in [
        ("resnet18", ResNet::resnet18(3, 2, &device)),
        ("resnet50", ResNet::resnet50(3, 2, &device)),
    ] {
        let tensors = state_dict(&Model::ResNet(net), 7).unwrap();
        let got = header(&safetensors_bytes(&tensors, &BTreeMap::new()).unwrap());
        let want: BTreeMap<String, (Vec<usize>, String)> = want[name]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                let shape = e[1]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|d| d.as_u64().unwrap() as usize)
                    .collect();
                (
                    e[0].as_str().unwrap().to_string(),
                    (shape, e[2].as_str().unwrap().to_string()),
                )
            })
            .collect();
        let missing: Vec<&String> = want.keys().filter(|k| !got.contains_key(*k)).collect();
        let extra: Vec<&String> = got.keys().filter(|k| !want.contains_key(*k)).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "{name}: missing {missing:?}, extra {extra:?}"
        );
        for (k, w) in &want {
            assert_eq!(&got[k], w, "{name}: {k}");
        }
        // Batch-norm statistics are exported as they are, with the step count.
        let steps = tensors
            .iter()
            .find(|(k, _)| k == "layer1.0.bn1.num_batches_tracked")
            .unwrap();
        assert_eq!(steps.1.try_to_vec::<i64>().unwrap(), vec![7]);
    }
}

/// Exports `net`, imports the file as `--pretrained` does into a fresh net, and returns it.
fn round_trip(net: &ResNet, fresh: ResNet, dir: &Path) -> ResNet {
    let tensors = state_dict(&Model::ResNet(net.clone()), 0).unwrap();
    let path = dir.join("export.safetensors");
    std::fs::write(
        &path,
        safetensors_bytes(&tensors, &BTreeMap::new()).unwrap(),
    )
    .unwrap();
    let (back, report) = load_resnet(fresh, &path).unwrap();
    assert!(!report.head_reinitialised && !report.first_conv_summed);
    back
}

fn logits(net: &ResNet, x: &Tensor<4>) -> Vec<f32> {
    net.forward(x.clone())
        .into_data()
        .try_into_vec_as::<f32>()
        .unwrap()
}

#[test]
fn export_then_pretrained_import_gives_the_same_logits() {
    let device = Device::flex();
    let tmp = tempfile::tempdir().unwrap();
    let g = json("pretrained_golden.json");
    for (name, kind) in [
        ("resnet_basic", BlockKind::Basic),
        ("resnet_bottleneck", BlockKind::Bottleneck),
    ] {
        // torchvision weights with non-trivial batch-norm statistics (PyTorch's logits known).
        let (net, _) = load_resnet(
            ResNet::with_width(kind, [1, 1, 1, 1], 3, 10, 2, &device),
            &fixture(&format!("{name}.pth")),
        )
        .unwrap();
        let back = round_trip(
            &net,
            ResNet::with_width(kind, [1, 1, 1, 1], 3, 10, 2, &device),
            tmp.path(),
        );
        let x = Tensor::<4>::from_data(
            TensorData::new(floats(&g[name]["input"]), [1, 3, 16, 16]),
            &device,
        );
        let (a, b) = (logits(&net, &x), logits(&back, &x));
        assert_eq!(a, b, "{name}: export -> import changed the model");
        let torch = floats(&g[name]["logits"]);
        let worst = b
            .iter()
            .zip(&torch)
            .map(|(p, q)| (p - q).abs())
            .fold(0.0f32, f32::max);
        assert!(worst < 1e-4, "{name}: {worst} from PyTorch's logits");
    }
}
