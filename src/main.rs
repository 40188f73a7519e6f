use std::path::PathBuf;
fn main() {
    let root = PathBuf::from(std::env::args().nth(1).unwrap());
    let r = mmaudit::audit::audit(&root, &Default::default()).unwrap();
    print!("{}", mmaudit::render::json::render(&r));
}
