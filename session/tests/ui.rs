//! Compile tests of `#[session]`: every accepted form builds, every mistake gives the blessed
//! errors. The `.stderr` files are blessed with stable 1.95 (`TRYBUILD=overwrite`); other
//! compilers word diagnostics differently, so the test only runs there.

#[rustversion::attr(
    not(stable(1.95)),
    ignore = "the .stderr files are blessed with stable 1.95"
)]
#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.pass("../tests/ui/pass/*.rs");
    cases.compile_fail("../tests/ui/fail/*.rs");
}
