//! The `backprop` command.

fn main() {
    println!("backprop {}", env!("CARGO_PKG_VERSION"));
}
