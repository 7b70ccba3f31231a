//! The visible stamp field staff expect on an evidence photo: time, position, and address or road,
//! drawn in a corner with a CJK-capable font found on the device. With only a Latin font, the text is
//! reduced to what that font can draw; with no font at all, no stamp is drawn (and the caller is told).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use ab_glyph::{Font, FontVec, PxScale, ScaleFont, point};
use image::{Rgb, RgbImage};

/// Where fonts are looked for, CJK first (Debian, Android, macOS/iOS), then Latin-only fallbacks.
const CANDIDATES: &[(&str, u32)] = &[
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 0),
    ("/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc", 0),
    ("/system/fonts/NotoSansCJK-Regular.ttc", 0),
    ("/system/fonts/DroidSansFallback.ttf", 0),
    ("/System/Library/Fonts/PingFang.ttc", 0),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 0),
    ("/system/fonts/Roboto-Regular.ttf", 0),
];

pub struct StampFont {
    font: FontVec,
    pub path: PathBuf,
}

impl StampFont {
    /// Loads a font file (a `.ttc` collection uses its first face).
    pub fn load(path: &Path, index: u32) -> Option<StampFont> {
        let data = std::fs::read(path).ok()?;
        FontVec::try_from_vec_and_index(data, index).ok().map(|font| StampFont { font, path: path.to_owned() })
    }

    /// The first usable font: `TIEJIAOBAN_STAMP_FONT` when set, else the candidates. Looked up once.
    pub fn system() -> Option<&'static StampFont> {
        static FONT: OnceLock<Option<StampFont>> = OnceLock::new();
        FONT.get_or_init(|| {
            if let Some(p) = std::env::var_os("TIEJIAOBAN_STAMP_FONT") {
                return StampFont::load(Path::new(&p), 0);
            }
            CANDIDATES.iter().find_map(|(p, i)| StampFont::load(Path::new(p), *i))
        })
        .as_ref()
    }

    /// Whether the font can draw this character.
    pub fn covers(&self, c: char) -> bool {
        c == ' ' || self.font.glyph_id(c).0 != 0
    }
}

/// Draws `lines` in the bottom-left corner on a dark band, sized to the picture. Characters the font
/// cannot draw are left out. Returns false when nothing could be drawn.
pub fn draw(img: &mut RgbImage, font: &StampFont, lines: &[String]) -> bool {
    let lines: Vec<String> = lines
        .iter()
        .map(|l| l.chars().filter(|c| font.covers(*c)).collect::<String>().trim().to_owned())
        .filter(|l| !l.is_empty())
        .collect();
    if lines.is_empty() {
        return false;
    }
    let (w, h) = img.dimensions();
    let px = (w.min(h) as f32 / 28.0).clamp(12.0, 64.0);
    let scale = PxScale::from(px);
    let scaled = font.font.as_scaled(scale);
    let line_h = scaled.height() + scaled.line_gap();
    let margin = px * 0.5;
    let text_w = lines
        .iter()
        .map(|l| l.chars().map(|c| scaled.h_advance(font.font.glyph_id(c))).sum::<f32>())
        .fold(0.0f32, f32::max);
    let band_h = line_h * lines.len() as f32 + margin * 2.0;
    let band_w = (text_w + margin * 2.0).min(w as f32);
    let top = (h as f32 - band_h).max(0.0);
    // Darken the band so the text reads on any picture.
    for y in top as u32..h {
        for x in 0..band_w as u32 {
            let p = img.get_pixel_mut(x, y);
            for ch in p.0.iter_mut() {
                *ch = (*ch as f32 * 0.45) as u8;
            }
        }
    }
    for (i, line) in lines.iter().enumerate() {
        let mut x = margin;
        let baseline = top + margin + scaled.ascent() + line_h * i as f32;
        for c in line.chars() {
            let id = font.font.glyph_id(c);
            let glyph = id.with_scale_and_position(scale, point(x, baseline));
            x += scaled.h_advance(id);
            if let Some(outline) = font.font.outline_glyph(glyph) {
                let b = outline.px_bounds();
                outline.draw(|gx, gy, coverage| {
                    let (px_x, px_y) = (b.min.x as i32 + gx as i32, b.min.y as i32 + gy as i32);
                    if px_x >= 0 && px_y >= 0 && (px_x as u32) < w && (px_y as u32) < h {
                        let p = img.get_pixel_mut(px_x as u32, px_y as u32);
                        let a = coverage.clamp(0.0, 1.0);
                        *p = Rgb(p.0.map(|v| (v as f32 * (1.0 - a) + 255.0 * a) as u8));
                    }
                });
            }
        }
    }
    true
}
