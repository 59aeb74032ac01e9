//! Video anonymisation for blindfold.
