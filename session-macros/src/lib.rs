//! The `#[session]` attribute macro for the `session` crate (work in progress, see issue 4).
#![forbid(unsafe_code)]

use proc_macro::TokenStream;

/// Turns a struct into a typed session handle (not implemented yet: emits the item unchanged).
#[proc_macro_attribute]
pub fn session(_args: TokenStream, input: TokenStream) -> TokenStream {
    input
}
