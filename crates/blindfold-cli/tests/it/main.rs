//! blindfold's integration tests: one test binary, one module per area.
//! Tests that need the real model fetch it once into the cache (see `support`).

mod backends;
mod golden;
mod photos;
mod serve;
mod support;
mod video;
