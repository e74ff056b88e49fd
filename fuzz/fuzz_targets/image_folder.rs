//! Image folders: class `a` holds one valid PNG, class `b` the input, as a PNG, JPEG or BMP by
//! its first byte (the decoder is chosen from the content, the extension only lets it in). The
//! folder is probed (the first image of each class, header only), then loaded.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

/// An 8x8 grey PNG.
const OK_PNG: &[u8] = include_bytes!("../../tests/corpus/img/one-class/only/ok.png");

fuzz_target!(|data: &[u8]| {
    let Some((&pick, bytes)) = data.split_first() else {
        return;
    };
    let ext = ["png", "jpg", "bmp"][usize::from(pick) % 3];
    let root = common::scratch().join("folder");
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(root.join("a")).unwrap();
    std::fs::create_dir_all(root.join("b")).unwrap();
    std::fs::write(root.join("a/ok.png"), OK_PNG).unwrap();
    std::fs::write(root.join(format!("b/x.{ext}")), bytes).unwrap();
    let _ = focal_data::probe(&root);
    let _ = focal_data::load(&root, &common::options());
});
