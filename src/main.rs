use std::process::ExitCode;

fn main() -> ExitCode {
    sbk_counter::process::harden();
    #[cfg(feature = "ocr")]
    sbk_counter::idcard::engine::one_openmp_thread();
    sbk_counter::cli::run()
}
