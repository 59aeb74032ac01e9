//! Inference backends for blindfold and CenterFace model preparation.
