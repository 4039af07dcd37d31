//! Code generation: the only stage that writes Rust.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::{Attribute, Fields, Item, Path, ext::IdentExt as _, spanned::Spanned as _};

use crate::{
    ast::{Field, Input},
    attr::{self, SESSION},
    errors::Errors,
};

/// Expands `#[session(args)] input`. On any error, the user's item is emitted unchanged (less
/// the field-level `#[session]` attributes) next to every error, so one mistake gives one
/// error and not a cascade of "cannot find type" ones.
pub(crate) fn session(args: TokenStream, input: &TokenStream) -> TokenStream {
    let mut item: Item = match syn::parse2(input.clone()) {
        Ok(item) => item,
        Err(err) => {
            let err = err.to_compile_error();
            return quote!(#input #err);
        }
    };
    let mut errors = Errors::default();
    let container = attr::container(args, &mut errors);
    if let Some(input) = Input::from_item(&item, container, &mut errors) {
        input.validate(&mut errors);
        if errors.is_empty() {
            return expand(&input);
        }
    }
    let err = errors.finish().err().map(|err| err.to_compile_error());
    strip_field_attrs(&mut item);
    quote!(#item #err)
}

/// The field-level `#[session(...)]` attributes are inert only inside the expansion; left on
/// the re-emitted item they would be errors of their own.
fn strip_field_attrs(item: &mut Item) {
    let strip = |fields: &mut Fields| {
        for field in fields.iter_mut() {
            field.attrs.retain(|attr| !attr.path().is_ident(SESSION));
        }
    };
    match item {
        Item::Struct(item) => strip(&mut item.fields),
        Item::Enum(item) => item.variants.iter_mut().for_each(|v| strip(&mut v.fields)),
        Item::Union(item) => item
            .fields
            .named
            .iter_mut()
            .for_each(|field| field.attrs.retain(|attr| !attr.path().is_ident(SESSION))),
        _ => {}
    }
}

fn expand(input: &Input<'_>) -> TokenStream {
    let krate: Path = input
        .attrs
        .krate
        .clone()
        .unwrap_or_else(|| syn::parse_quote!(::session));
    let private = quote!(#krate::__private);
    let original = input.original;
    let struct_attrs = &original.attrs;
    let vis = &original.vis;
    let ident = &original.ident;
    let struct_token = &original.struct_token;
    let name = ident.unraw().to_string();
    // A `#[cfg]` after `#[session]` must remove the impls with the struct.
    let cfgs: Vec<&Attribute> = struct_attrs
        .iter()
        .filter(|attr| attr.path().is_ident("cfg"))
        .collect();

    let accessors = input
        .fields
        .iter()
        .map(|field| accessors(input, field, &krate));

    quote! {
        #(#struct_attrs)*
        #vis #struct_token #ident {
            session: #krate::Session,
        }

        #(#cfgs)*
        #[allow(dead_code)]
        impl #ident {
            /// A typed handle on `session`: reads and writes go to that session.
            #[must_use]
            #vis fn from_session(session: &#krate::Session) -> Self {
                Self { session: ::core::clone::Clone::clone(session) }
            }

            /// The underlying session, for what the typed accessors do not cover (such as
            /// `renew` and `purge`).
            #[must_use]
            #vis fn session(&self) -> &#krate::Session {
                &self.session
            }

            #(#accessors)*
        }

        #(#cfgs)*
        #[automatically_derived]
        impl ::core::convert::From<#krate::Session> for #ident {
            fn from(session: #krate::Session) -> Self {
                Self { session }
            }
        }

        #(#cfgs)*
        #[automatically_derived]
        impl ::core::clone::Clone for #ident {
            fn clone(&self) -> Self {
                Self { session: ::core::clone::Clone::clone(&self.session) }
            }
        }

        #(#cfgs)*
        #[automatically_derived]
        impl ::core::fmt::Debug for #ident {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.debug_struct(#name).field("session", &self.session).finish()
            }
        }

        #(#cfgs)*
        /// Extracts the typed handle on the request's session; never fails.
        #[automatically_derived]
        impl #private::FromRequest for #ident {
            type Error = ::core::convert::Infallible;
            type Future = #private::Extract<Self>;

            fn from_request(
                req: &#private::HttpRequest,
                _: &mut #private::Payload,
            ) -> Self::Future {
                #private::extract(req)
            }
        }
    }
}

/// Field attributes that apply to each generated item of the field: conditional compilation,
/// deprecation and lint levels. (`expect` is left out: it would have to be met four times.)
const PASSED_ON: &[&str] = &["cfg", "deprecated", "allow", "warn", "deny", "forbid"];

/// The constant and the three methods of one field.
fn accessors(input: &Input<'_>, field: &Field<'_>, krate: &Path) -> TokenStream {
    let vis = field.vis;
    let getter = field.ident;
    let span = getter.span();
    let name = field.name();
    let setter = format_ident!("set_{}", name, span = span);
    let remover = format_ident!("remove_{}", name, span = span);
    let konst = format_ident!("{}", field.key_const_name(), span = span);
    let key = input.key_of(field);
    let ty = field.ty;
    let value_ty = field.value_ty();
    let docs: Vec<&Attribute> = field
        .other_attrs
        .iter()
        .copied()
        .filter(|attr| attr.path().is_ident("doc"))
        .collect();
    let passed_on: Vec<&Attribute> = field
        .other_attrs
        .iter()
        .copied()
        .filter(|attr| PASSED_ON.iter().any(|name| attr.path().is_ident(name)))
        .collect();

    // Every use of the value type goes through this one call, spanned on the field's type:
    // a type that is not `Serialize + DeserializeOwned` gives one error, on the type. The key
    // is the literal rather than the constant, which may be `#[deprecated]` with the field.
    let typed = quote_spanned! {value_ty.span()=>
        #krate::__private::typed::<#value_ty>(&self.session, #key)
    };

    // The closure of a default is what keeps its type errors on the attribute (see
    // `default_fn`), so clippy must not suggest the function itself.
    let getter_allow = field
        .attrs
        .default
        .as_ref()
        .map(|_| quote!(#[allow(clippy::redundant_closure)]));
    let (get_ty, get_body, missing) = match &field.attrs.default {
        None => (
            quote!(::core::option::Option<#value_ty>),
            quote!(#typed.get()),
            "`None` if the session has no value for it.",
        ),
        Some(default) => {
            let make = default_fn(default, krate);
            (
                quote!(#ty),
                quote!(#typed.get_or_else(#make)),
                "the default value if the session has no value for it.",
            )
        }
    };
    // An owner field binds the session after the value is stored; the `Display` bound is
    // checked on the field's type, in one call.
    let set_body = match field.attrs.owner {
        None => quote!(#typed.insert(value)),
        Some(_) => {
            let owner_id = quote_spanned! {value_ty.span()=>
                #krate::__private::owner_id::<#value_ty>(&value)
            };
            quote! {
                let owner = #owner_id;
                #typed.insert(value)?;
                self.session.set_owner(owner);
                ::core::result::Result::Ok(())
            }
        }
    };
    let docs = FieldDocs::new(field, &key, &docs, missing);
    let FieldDocs {
        konst: konst_docs,
        getter: getter_docs,
        setter: setter_docs,
        remover: remover_docs,
    } = &docs;

    quote! {
        #(#passed_on)*
        #konst_docs
        #vis const #konst: &'static str = #key;

        #(#passed_on)*
        #getter_docs
        #getter_allow
        #vis fn #getter(&self) -> ::core::result::Result<#get_ty, #krate::SessionGetError> {
            #get_body
        }

        #(#passed_on)*
        #setter_docs
        #vis fn #setter(&self, value: #value_ty) -> ::core::result::Result<(), #krate::SessionInsertError> {
            #set_body
        }

        #(#passed_on)*
        #remover_docs
        #vis fn #remover(&self) -> ::core::result::Result<::core::option::Option<#value_ty>, #krate::SessionGetError> {
            #typed.remove()
        }
    }
}

/// The documentation of a field's generated items: the field's own doc comment, then what
/// the item does, its key and its errors (a user crate may deny `missing_docs` and
/// `clippy::missing_errors_doc`).
struct FieldDocs {
    konst: TokenStream,
    getter: TokenStream,
    setter: TokenStream,
    remover: TokenStream,
}

impl FieldDocs {
    fn new(field: &Field<'_>, key: &str, user_docs: &[&Attribute], missing: &str) -> Self {
        let name = field.name();
        let user = quote!(#(#user_docs)*);
        let lines = |lines: &[&str]| {
            let lines = lines.iter().map(|line| format!(" {line}"));
            quote!(#(#[doc = #lines])*)
        };
        let key_line = format!("Session key: `{key}`.");
        let with_user_docs = |summary: String, errors: &str| {
            let summary = lines(&[&summary]);
            let rest = lines(&["", &key_line, "", "# Errors", errors]);
            if user_docs.is_empty() {
                quote!(#summary #rest)
            } else {
                let blank = lines(&[""]);
                quote!(#summary #blank #user #rest)
            }
        };
        Self {
            konst: lines(&[&format!("The session key of `{name}`: `{key}`.")]),
            getter: with_user_docs(
                format!("Reads `{name}` from the session: {missing}"),
                "If the stored value does not deserialize as the field's type.",
            ),
            setter: with_user_docs(
                if field.attrs.owner.is_some() {
                    format!(
                        "Stores a new value of `{name}` in the session and binds the session to \
                         it as its owner (`Session::set_owner`)."
                    )
                } else {
                    format!("Stores a new value of `{name}` in the session.")
                },
                "If the value does not serialize as JSON; the session is then left unchanged.",
            ),
            remover: with_user_docs(
                format!("Removes `{name}` from the session and returns its value, if any."),
                "If the removed value does not deserialize as the field's type; it is removed \
                 all the same.",
            ),
        }
    }
}

/// The function called for a missing value of a `#[session(default)]` field.
fn default_fn(default: &attr::DefaultAttr, krate: &Path) -> TokenStream {
    // A call, not a function item passed along, so that its type is checked in one place:
    // the `default` attribute, path or keyword.
    if let Some(path) = &default.path {
        let span = path.span();
        quote_spanned!(span=> || #path())
    } else {
        // Spanned on `default`, crate path included, so that a type without `Default` is
        // reported there.
        let span: Span = default.span;
        let krate = respan(quote!(#krate), span);
        quote_spanned!(span=> || #krate::__private::default_value())
    }
}

/// `tokens` with every token at `span` (paths have no groups that need a deeper walk).
fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut token| {
            token.set_span(span);
            token
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use proc_macro2::TokenTree;

    use super::*;

    fn expand_str(args: TokenStream, item: TokenStream) -> String {
        session(args, &item).to_string()
    }

    fn idents(tokens: TokenStream, out: &mut Vec<String>) {
        for token in tokens {
            match token {
                TokenTree::Ident(ident) => out.push(ident.to_string()),
                TokenTree::Group(group) => idents(group.stream(), out),
                TokenTree::Punct(_) | TokenTree::Literal(_) => {}
            }
        }
    }

    #[test]
    fn the_expansion_names_only_core_and_the_facade() {
        let item = quote! {
            /// A cart.
            pub struct Cart {
                /// The items.
                pub items: Vec<String>,
                #[session(key = "uid")]
                user_id: Option<u64>,
                #[session(default)]
                visits: u32,
            }
        };
        let expanded = session(quote!(prefix = "cart"), &item);
        let text = expanded.to_string();
        assert!(!text.contains("compile_error"), "{text}");
        let mut names = Vec::new();
        idents(expanded, &mut names);
        // The user crate may depend on neither serde nor actix-web.
        for forbidden in ["serde", "serde_json", "actix_web", "std"] {
            assert!(
                !names.iter().any(|name| name == forbidden),
                "`{forbidden}` in {text}"
            );
        }
        for path in [
            "session :: __private :: typed",
            ":: core :: result :: Result",
        ] {
            assert!(text.contains(path), "{path} missing from {text}");
        }
        assert!(
            text.contains("const USER_ID_KEY : & 'static str = \"cart.uid\""),
            "{text}"
        );
        assert!(text.contains("# [automatically_derived]"), "{text}");
    }

    #[test]
    fn prelude_names_are_always_absolute() {
        let expanded = expand_str(
            TokenStream::new(),
            quote!(
                struct S {
                    a: Option<u8>,
                    #[session(default)]
                    b: u8,
                }
            ),
        );
        for name in [
            "Option",
            "Result",
            "Clone",
            "From",
            "Debug",
            "Default",
            "Infallible",
        ] {
            let mut rest = expanded.as_str();
            while let Some(at) = rest.find(name) {
                let before = &rest[..at];
                assert!(
                    before.ends_with(":: "),
                    "`{name}` not absolute in {expanded}"
                );
                rest = &rest[at + name.len()..];
            }
        }
    }

    #[test]
    fn errors_keep_the_item_without_field_attributes() {
        let expanded = expand_str(
            quote!(prefx = "a"),
            quote!(
                struct S {
                    #[session(key = "k")]
                    a: u8,
                }
            ),
        );
        assert!(expanded.contains("compile_error"), "{expanded}");
        assert!(expanded.starts_with("struct S { a : u8 , }"), "{expanded}");
        assert!(!expanded.contains("# [session"), "{expanded}");
    }
}
