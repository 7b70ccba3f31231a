//! Property-based fuzzing of the photo pipeline's decoders with real phone photos broken the ways files
//! break: bytes flipped in the EXIF block or the picture data, cut short, or not a photo at all. The
//! pipeline answers a photo or a clear error, never a panic; a photo it answers is a JPEG within the size
//! limit whose hash is the hash of its bytes.
//!
//! CI runs 32 cases per property (each decodes a photo); `scripts/fuzz.sh` runs many more. Failures are kept
//! in `tests/fuzz.proptest-regressions` and replayed first.

use device::photo::PhotoPipeline;
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use sha2::{Digest, Sha256};

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(32);
    ProptestConfig {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fuzz.proptest-regressions"
        )))),
        ..ProptestConfig::default()
    }
}

fn fixture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/photos").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Small real photos: EXIF with GPS, and rotated ones (the orientation tag is read).
fn photo() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec!["45-gps_ifd.jpg", "orientation-portrait-6.jpg", "orientation-landscape-8.jpg"])
}

fn processed_or_refused(bytes: &[u8]) {
    let pipeline = PhotoPipeline::default();
    if let Ok(p) = pipeline.process(bytes) {
        assert!(p.width.max(p.height) <= pipeline.options.max_edge, "{}×{}", p.width, p.height);
        assert_eq!(p.sha256, hex::encode(Sha256::digest(&p.jpeg)));
        let decoded = image::load_from_memory_with_format(&p.jpeg, image::ImageFormat::Jpeg).expect("a JPEG");
        assert_eq!((decoded.width(), decoded.height()), (p.width, p.height));
        assert!(!p.thumbnail.is_empty());
    }
}

proptest! {
    #![proptest_config(config())]

    /// Bytes flipped in the first 64 KiB, where the EXIF block and the JPEG's tables are.
    #[test]
    fn damaged_metadata_is_answered(name in photo(), edits in prop::collection::vec((0..65_536usize, any::<u8>()), 1..24)) {
        let mut bytes = fixture(name);
        for (at, byte) in edits {
            let i = at % bytes.len();
            bytes[i] = byte;
        }
        processed_or_refused(&bytes);
    }

    /// Bytes flipped anywhere, the picture data included.
    #[test]
    fn damaged_pictures_are_answered(name in photo(), edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..24)) {
        let mut bytes = fixture(name);
        for (at, byte) in edits {
            let i = at.index(bytes.len());
            bytes[i] = byte;
        }
        processed_or_refused(&bytes);
    }

    #[test]
    fn photos_cut_short_are_answered(name in photo(), at in any::<prop::sample::Index>()) {
        let bytes = fixture(name);
        processed_or_refused(&bytes[..at.index(bytes.len())]);
    }

    /// Not a photo, or only a photo's first bytes and then anything.
    #[test]
    fn any_bytes_are_answered(head in prop::sample::select(vec![&b""[..], b"\xFF\xD8\xFF\xE1", b"\x89PNG\r\n\x1a\n", b"\0\0\0\x18ftypheic"]),
                              tail in prop::collection::vec(any::<u8>(), 0..2048)) {
        let mut bytes = head.to_vec();
        bytes.extend(tail);
        processed_or_refused(&bytes);
    }
}
