//! The `backprop` command.

mod data;

fn main() {
    println!("backprop {}", env!("CARGO_PKG_VERSION"));
}
