//! The demo catalog's pictures, drawn by the binary itself (so the demo shows pictures and
//! needs no other origin): one simple drawing per item, in each style's colours, as SVG at
//! `/assets/demo/{item}-{style}.svg`.

use axum::extract::Path;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

/// Each demo item's drawing: SVG shapes on a 300 × 200 canvas, drawn with `currentColor`
/// (the style's ink) and `var` fills replaced below.
const DRAWINGS: &[(&str, &str)] = &[
    (
        "mug",
        r#"<rect x="100" y="60" width="80" height="95" rx="10" fill="INK"/><path d="M180 80 h18 a22 22 0 0 1 0 44 h-18" fill="none" stroke="INK" stroke-width="10"/><path d="M125 40 q8 -12 0 -22 M145 40 q8 -12 0 -22" fill="none" stroke="INK" stroke-width="4" stroke-linecap="round"/>"#,
    ),
    (
        "teapot",
        r#"<ellipse cx="150" cy="118" rx="58" ry="44" fill="INK"/><path d="M95 110 L60 80 L68 76 L100 98" fill="INK"/><path d="M205 95 a26 26 0 0 1 0 48" fill="none" stroke="INK" stroke-width="9"/><rect x="128" y="62" width="44" height="14" rx="5" fill="INK"/><circle cx="150" cy="56" r="7" fill="INK"/>"#,
    ),
    (
        "notebook",
        r#"<rect x="95" y="35" width="110" height="135" rx="6" fill="INK"/><rect x="105" y="35" width="8" height="135" fill="BG" opacity="0.5"/><rect x="185" y="35" width="6" height="135" fill="BG" opacity="0.8"/>"#,
    ),
    (
        "fountain-pen",
        r#"<rect x="70" y="92" width="130" height="18" rx="9" fill="INK" transform="rotate(-30 150 100)"/><path d="M200 72 L232 55 L214 86 Z" fill="INK"/><rect x="92" y="94" width="40" height="14" rx="7" fill="BG" opacity="0.35" transform="rotate(-30 150 100)"/>"#,
    ),
    (
        "backpack",
        r#"<rect x="105" y="50" width="90" height="120" rx="22" fill="INK"/><path d="M130 50 v-14 a20 20 0 0 1 40 0 v14" fill="none" stroke="INK" stroke-width="8"/><rect x="120" y="115" width="60" height="38" rx="8" fill="BG" opacity="0.35"/>"#,
    ),
    (
        "water-bottle",
        r#"<rect x="125" y="60" width="50" height="115" rx="16" fill="INK"/><rect x="135" y="35" width="30" height="22" rx="4" fill="INK"/><rect x="125" y="95" width="50" height="10" fill="BG" opacity="0.35"/>"#,
    ),
    (
        "desk-lamp",
        r#"<rect x="95" y="160" width="70" height="12" rx="5" fill="INK"/><path d="M130 160 L115 100 L175 65" fill="none" stroke="INK" stroke-width="8" stroke-linecap="round"/><path d="M165 50 L215 62 L195 100 Z" fill="INK"/>"#,
    ),
    (
        "headphones",
        r#"<path d="M95 130 v-20 a55 55 0 0 1 110 0 v20" fill="none" stroke="INK" stroke-width="10"/><rect x="82" y="118" width="30" height="50" rx="10" fill="INK"/><rect x="188" y="118" width="30" height="50" rx="10" fill="INK"/>"#,
    ),
    (
        "coffee-beans",
        r#"<ellipse cx="125" cy="100" rx="26" ry="36" fill="INK" transform="rotate(-25 125 100)"/><ellipse cx="180" cy="110" rx="26" ry="36" fill="INK" transform="rotate(20 180 110)"/><path d="M118 70 q16 30 -2 62 M174 78 q-14 32 10 62" fill="none" stroke="BG" stroke-width="5"/>"#,
    ),
    (
        "scarf",
        r#"<path d="M70 70 q40 -25 80 0 t80 0 v40 q-40 -25 -80 0 t-80 0 Z" fill="INK"/><path d="M80 112 v28 M92 106 v28 M104 101 v28 M116 99 v28" stroke="INK" stroke-width="4"/>"#,
    ),
    (
        "candle",
        r#"<rect x="120" y="85" width="60" height="90" rx="6" fill="INK"/><path d="M150 40 q16 22 0 38 q-16 -16 0 -38 Z" fill="INK"/><rect x="148" y="76" width="4" height="10" fill="INK"/>"#,
    ),
    (
        "plant-pot",
        r#"<path d="M110 120 h80 l-10 55 h-60 Z" fill="INK"/><rect x="104" y="110" width="92" height="14" rx="4" fill="INK"/><path d="M150 110 q-40 -40 -20 -75 q30 25 20 75 q10 -50 45 -60 q5 40 -45 60" fill="INK" opacity="0.8"/>"#,
    ),
];

/// Each style's background and ink.
const PALETTES: &[(&str, &str, &str)] = &[
    ("classic", "#e6eef6", "#1f4e79"),
    ("midnight", "#1b2a41", "#f0b429"),
    ("sand", "#f3e9d2", "#7a4b00"),
];

/// The drawing of `item` in `style`, or `None` for a name the demo does not have.
pub(crate) fn svg(item: &str, style: &str) -> Option<String> {
    let (_, shapes) = DRAWINGS.iter().find(|(name, _)| *name == item)?;
    let (_, bg, ink) = PALETTES.iter().find(|(name, ..)| *name == style)?;
    Some(format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 300 200"><rect width="300" height="200" fill="{bg}"/>{}</svg>"#,
        shapes.replace("INK", ink).replace("BG", bg)
    ))
}

/// The path (under the root path) of the picture of `item` (its name, e.g. `Fountain pen`)
/// in `style` (e.g. `Classic`).
pub(crate) fn path(root: &str, item: &str, style: &str) -> String {
    let slug = |s: &str| s.to_ascii_lowercase().replace(' ', "-");
    format!("{root}/assets/demo/{}-{}.svg", slug(item), slug(style))
}

/// `GET /assets/demo/{item}-{style}.svg`.
pub(crate) async fn serve(Path(file): Path<String>) -> Response {
    let drawing = file
        .strip_suffix(".svg")
        .and_then(|name| name.rsplit_once('-'))
        .and_then(|(item, style)| svg(item, style));
    match drawing {
        Some(svg) => {
            let mut res = ([(header::CONTENT_TYPE, "image/svg+xml")], svg).into_response();
            // Drawn from constants: the same bytes for the life of a release.
            res.headers_mut().insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=86400"),
            );
            res
        }
        None => shop_http::ApiError::not_found("picture").into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every demo item and style has its drawing, at the path the seed stores.
    #[test]
    fn every_demo_product_has_a_picture() {
        for (item, ..) in crate::demo::ITEMS {
            for (style, _) in crate::demo::STYLES {
                let path = path("", item, style);
                let file = path.strip_prefix("/assets/demo/").unwrap();
                let (name, style) = file.strip_suffix(".svg").unwrap().rsplit_once('-').unwrap();
                let svg = svg(name, style).unwrap_or_else(|| panic!("no drawing for {path}"));
                assert!(svg.starts_with("<svg ") && !svg.contains("INK") && !svg.contains("BG"));
            }
        }
    }
}
