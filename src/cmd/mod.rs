//! One module per subcommand: each defines its clap `Args` and `pub fn run(Args) -> CmdResult`.

pub mod check_config;
