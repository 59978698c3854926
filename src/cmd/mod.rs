//! One module per subcommand. To add `tickd foo`:
//!
//! 1. `src/cmd/foo.rs`: a documented `#[derive(clap::Args)] pub struct Args` (its doc
//!    comment is the help text) and `pub fn run(args: Args) -> crate::CmdResult`;
//! 2. `pub mod foo;` below;
//! 3. `Foo(cmd::foo::Args),` in `Command` (`src/cli.rs`) and one dispatch line in `main.rs`.
//!
//! Load the configuration with [`crate::load_config`] and turn its errors into exit code 2
//! with [`crate::Failure::config`]; other errors (`anyhow`, `io`) convert with `?` to exit 1.

pub mod bars;
pub mod check_config;
pub mod demo;
pub mod gateway;
pub mod gateway_runtime;
pub(crate) mod observe;
pub mod record;
pub mod replay;
pub mod serve;
pub mod services;
pub mod sim;
pub mod tail;
pub mod trades;
