//! The reference app. Placeholder until its issue is taken: it only says so.

fn main() -> std::process::ExitCode {
    #[allow(clippy::print_stderr)]
    {
        eprintln!(
            "reference-app: not implemented yet (the HTTP API lands with the shop-http issue)"
        );
    }
    std::process::ExitCode::from(2)
}
