//! `sbk receipt ID`: the 受理单 of a submitted application, printed through CUPS's `lp`
//! (`--print`) or saved as a PDF (`-o FILE`, else into the data directory's `receipts/`).

use std::path::PathBuf;
use std::process::ExitCode;

use super::Failure;
use super::signin::Auth;
use crate::config::Settings;

#[derive(Debug, clap::Args)]
pub struct ReceiptArgs {
    /// The application: its 申领编号 (SQ…), its id, or the start of its id.
    pub id: String,
    /// Where to save the PDF (default: receipts/ in the data directory, kept a day).
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Send it to the default printer (CUPS lp); saved instead where there is none.
    #[arg(long)]
    pub print: bool,
}

pub fn run(args: ReceiptArgs, settings: &mut Settings, auth: &Auth) -> Result<ExitCode, Failure> {
    let session = auth.session(settings)?;
    let op = session.operator();
    let store = session.store;
    let id = store.resolve(&args.id)?;
    let made = crate::printing::make(&store, id, &settings.receipt, &op, chrono::Utc::now())
        .map_err(|e| Failure::Message(e.to_string()))?;
    let sent = crate::printing::send(
        &made,
        args.print,
        args.output.as_deref(),
        &settings.data_dir,
    )
    .map_err(|e| Failure::Message(e.to_string()))?;
    println!("{}", sent.message());
    Ok(ExitCode::SUCCESS)
}
