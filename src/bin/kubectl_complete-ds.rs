//! kubectl's plugin completion hook: `kubectl ds <TAB>` runs this with the words typed so far.

use std::process::ExitCode;

fn main() -> ExitCode {
    let words: Vec<String> = std::env::args().skip(1).collect();
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return ExitCode::SUCCESS;
    };
    let text = runtime.block_on(kubectl_ds::commands::complete::candidates(&words));
    // Completion must never fail loudly; a closed pipe is fine.
    let _ = kubectl_ds::commands::shared::emit(&mut std::io::stdout(), &text);
    ExitCode::SUCCESS
}
