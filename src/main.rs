//! The `sluice` binary: parses the command line and hands off to [`cli`].

mod cli;
mod connectors;
mod logging;

fn main() -> std::process::ExitCode {
    // Both rustls crypto providers are linked (through different dependencies), so rustls
    // cannot choose one by itself: pick one before anything opens a TLS connection.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    match cli::run() {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
