//! The `blindfold` command.
fn main() {}
