//! The `sluice` binary: parses the command line and hands off to [`cli`].

mod cli;
mod connectors;
mod logging;

/// mimalloc instead of glibc malloc: the change-event path allocates and frees many small
/// buffers on two or more threads, and glibc's arena locks and chunk consolidation were about
/// a third of the worker's CPU in a profile of the PostgreSQL snapshot (bench/RESULTS.md).
/// Built with `no_thp`: with transparent huge pages each sparsely touched 2 MiB region of its
/// arenas became resident and was zeroed on first touch (steady RSS 185–249 MiB instead of
/// about 83 MiB in the commit-latency benchmark).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
