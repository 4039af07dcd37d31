//! Code generation: the only stage that writes Rust.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::{Attribute, Fields, Item, Path, spanned::Spanned as _};

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
    let name = ident.to_string();

    let accessors = input
        .fields
        .iter()
        .map(|field| accessors(input, field, &krate));

    quote! {
        #(#struct_attrs)*
        #vis #struct_token #ident {
            session: #krate::Session,
        }

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

        #[automatically_derived]
        impl ::core::convert::From<#krate::Session> for #ident {
            fn from(session: #krate::Session) -> Self {
                Self { session }
            }
        }

        #[automatically_derived]
        impl ::core::clone::Clone for #ident {
            fn clone(&self) -> Self {
                Self { session: ::core::clone::Clone::clone(&self.session) }
            }
        }

        #[automatically_derived]
        impl ::core::fmt::Debug for #ident {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.debug_struct(#name).field("session", &self.session).finish()
            }
        }

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
    let cfgs: Vec<&Attribute> = field
        .other_attrs
        .iter()
        .copied()
        .filter(|attr| attr.path().is_ident("cfg") || attr.path().is_ident("deprecated"))
        .collect();

    // Every use of the value type goes through this one call, spanned on the field's type:
    // a type that is not `Serialize + DeserializeOwned` gives one error, on the type.
    let typed = quote_spanned! {value_ty.span()=>
        #krate::__private::typed::<#value_ty>(&self.session, Self::#konst)
    };

    let key_doc = format!(" Session key: `{key}`.");
    let getter_summary = if docs.is_empty() {
        let summary = format!(" Reads `{name}` from the session.");
        vec![quote!(#[doc = #summary])]
    } else {
        Vec::new()
    };
    let get_errors = quote! {
        #[doc = ""]
        #[doc = " # Errors"]
        #[doc = " If the stored value does not deserialize as the field's type."]
    };
    let (get_ty, get_body, missing_doc) = match &field.attrs.default {
        None => (
            quote!(::core::option::Option<#value_ty>),
            quote!(#typed.get()),
            " Returns `None` if the session has no value for it.",
        ),
        Some(default) => {
            let make = default_fn(default, krate);
            (
                quote!(#ty),
                quote!(#typed.get_or_else(#make)),
                " Returns the default value if the session has no value for it.",
            )
        }
    };
    let set_summary = format!(" Stores a new value of `{name}` in the session.");
    let remove_summary =
        format!(" Removes `{name}` from the session and returns its value, if any.");
    let key_const_doc = format!(" The session key of `{name}`: `{key}`.");

    quote! {
        #(#cfgs)*
        #[doc = #key_const_doc]
        #vis const #konst: &'static str = #key;

        #(#cfgs)*
        #(#docs)*
        #(#getter_summary)*
        #[doc = ""]
        #[doc = #key_doc]
        #[doc = #missing_doc]
        #get_errors
        #vis fn #getter(&self) -> ::core::result::Result<#get_ty, #krate::SessionGetError> {
            #get_body
        }

        #(#cfgs)*
        #[doc = #set_summary]
        #[doc = ""]
        #(#docs)*
        #[doc = ""]
        #[doc = #key_doc]
        #[doc = ""]
        #[doc = " # Errors"]
        #[doc = " If the value does not serialize as JSON; the session is then left unchanged."]
        #vis fn #setter(&self, value: #value_ty) -> ::core::result::Result<(), #krate::SessionInsertError> {
            #typed.insert(value)
        }

        #(#cfgs)*
        #[doc = #remove_summary]
        #[doc = ""]
        #(#docs)*
        #[doc = ""]
        #[doc = #key_doc]
        #[doc = ""]
        #[doc = " # Errors"]
        #[doc = " If the removed value does not deserialize as the field's type (it is removed all the same)."]
        #vis fn #remover(&self) -> ::core::result::Result<::core::option::Option<#value_ty>, #krate::SessionGetError> {
            #typed.remove()
        }
    }
}

/// The function called for a missing value of a `#[session(default)]` field.
fn default_fn(default: &attr::Default, krate: &Path) -> TokenStream {
    if let Some(path) = &default.path {
        quote!(#path)
    } else {
        // Spanned on `default`, so a type without `Default` is reported there.
        let span: Span = default.span;
        quote_spanned!(span=> #krate::__private::default_value)
    }
}
