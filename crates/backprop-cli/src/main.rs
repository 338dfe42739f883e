//! The `backprop` command.

mod model_file;

fn main() {
    println!("backprop {}", env!("CARGO_PKG_VERSION"));
}
