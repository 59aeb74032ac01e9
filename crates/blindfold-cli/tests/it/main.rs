//! blindfold's integration tests: one test binary, one module per area.
//! Tests that need the real model fetch it once into the cache (see `support`).

mod audit;
mod backends;
mod failclosed;
mod frames;
mod golden;
mod heif;
mod lossless;
mod photos;
mod safety;
mod serve;
mod serve_guards;
mod support;
mod video;
mod video_inputs;
mod video_safety;
