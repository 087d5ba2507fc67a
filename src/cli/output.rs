//! Printing results to stdout. When the reader goes away (`sluice consume … | head`), the
//! command ends quietly with success instead of panicking on a broken pipe.

use std::io::Write;

/// Writes one line to stdout, exiting the process quietly if stdout was closed.
pub fn write_line(text: std::fmt::Arguments<'_>) {
    let mut stdout = std::io::stdout().lock();
    if let Err(error) = stdout.write_fmt(format_args!("{text}\n")) {
        if error.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: cannot write to stdout: {error}");
        std::process::exit(1);
    }
}

/// `println!` that survives a closed pipe.
macro_rules! line {
    ($($arg:tt)*) => {
        $crate::cli::output::write_line(format_args!($($arg)*))
    };
}
pub(crate) use line;
