//! Print the prepared model's path, downloading and checking it into the
//! cache first when it is not there (`$BLINDFOLD_MODEL` is used as is).
//! For `web/build.sh`, which needs the model but must not rebuild the
//! user's `blindfold` binary with other features to get it.

use std::process::ExitCode;

fn main() -> ExitCode {
    match blindfold_models::model_path(None, true, &|m| eprintln!("fetch_model: {m}")) {
        Ok(path) => {
            println!("{}", path.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("fetch_model: {e}");
            ExitCode::FAILURE
        }
    }
}
