//! What `compare` writes: `results.json` records (`record`), the markdown table (`markdown`),
//! hand-written SVG line charts (`chart`) and the two plots made of them (`plots`).

pub mod chart;
pub mod markdown;
pub mod plots;
pub mod record;
