use std::process::ExitCode;

fn main() -> ExitCode {
    sbk_counter::cli::run()
}
