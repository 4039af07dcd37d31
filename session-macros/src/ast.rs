//! The struct as the macro sees it: the original syn nodes (for spans and for re-emitting)
//! plus the parsed `#[session]` arguments.

use proc_macro2::Span;
use syn::{
    Attribute, Fields, GenericArgument, Ident, Item, ItemStruct, PathArguments, Type, Visibility,
    ext::IdentExt as _, spanned::Spanned as _,
};

use crate::{
    attr::{self, SESSION},
    errors::Errors,
};

/// A struct with named fields under `#[session]`.
pub(crate) struct Input<'a> {
    pub(crate) original: &'a ItemStruct,
    pub(crate) attrs: attr::ContainerAttrs,
    pub(crate) fields: Vec<Field<'a>>,
}

/// One field of the struct: one session value.
pub(crate) struct Field<'a> {
    pub(crate) vis: &'a Visibility,
    pub(crate) ident: &'a Ident,
    pub(crate) ty: &'a Type,
    /// `U` when the field's type is `Option<U>`.
    pub(crate) option_inner: Option<&'a Type>,
    pub(crate) attrs: attr::FieldAttrs,
    /// The field's own attributes, other than `#[session]`.
    pub(crate) other_attrs: Vec<&'a Attribute>,
}

impl<'a> Input<'a> {
    /// Builds the IR, or reports why `item` cannot be a session struct. Attribute problems go
    /// to `errors` too, but do not prevent building the IR, so that later checks still run.
    pub(crate) fn from_item(
        item: &'a Item,
        attrs: attr::ContainerAttrs,
        errors: &mut Errors,
    ) -> Option<Self> {
        let not_a_struct = |span: Span, what: &str| {
            syn::Error::new(
                span,
                format!(
                    "`#[{SESSION}]` cannot be used on {what}: it only accepts a struct with named \
                     fields, such as `struct Cart {{ items: Vec<String> }}`"
                ),
            )
        };
        let original = match item {
            Item::Struct(item) => item,
            Item::Enum(item) => {
                errors.push(not_a_struct(item.enum_token.span, "an enum"));
                return None;
            }
            Item::Union(item) => {
                errors.push(not_a_struct(item.union_token.span, "a union"));
                return None;
            }
            other => {
                errors.push(not_a_struct(other.span(), "this item"));
                return None;
            }
        };
        let named = match &original.fields {
            Fields::Named(named) => named,
            Fields::Unnamed(unnamed) => {
                errors.push(not_a_struct(
                    unnamed.paren_token.span.join(),
                    "a tuple struct",
                ));
                return None;
            }
            Fields::Unit => {
                errors.push(not_a_struct(original.ident.span(), "a unit struct"));
                return None;
            }
        };
        let fields = named
            .named
            .iter()
            .filter_map(|field| {
                // Named fields always have an identifier.
                let ident = field.ident.as_ref()?;
                Some(Field {
                    vis: &field.vis,
                    ident,
                    ty: &field.ty,
                    option_inner: option_inner(&field.ty),
                    attrs: attr::field(&field.attrs, errors),
                    other_attrs: field
                        .attrs
                        .iter()
                        .filter(|attr| !attr.path().is_ident(SESSION))
                        .collect(),
                })
            })
            .collect();
        Some(Self {
            original,
            attrs,
            fields,
        })
    }

    /// The full session key of `field`: `prefix.key`, or just the key.
    pub(crate) fn key_of(&self, field: &Field<'_>) -> String {
        let key = field.key();
        match &self.attrs.prefix {
            Some(prefix) => format!("{}.{key}", prefix.value()),
            None => key,
        }
    }
}

impl Field<'_> {
    /// The field's key before the prefix: `#[session(key = "...")]` or the field's name.
    pub(crate) fn key(&self) -> String {
        self.attrs
            .key
            .as_ref()
            .map_or_else(|| self.ident.unraw().to_string(), syn::LitStr::value)
    }

    /// Where to point errors about the field's key.
    pub(crate) fn key_span(&self) -> Span {
        self.attrs
            .key
            .as_ref()
            .map_or_else(|| self.ident.span(), syn::LitStr::span)
    }

    /// The type stored in the session: `U` for `Option<U>`, else the field's type.
    pub(crate) fn value_ty(&self) -> &Type {
        self.option_inner.unwrap_or(self.ty)
    }

    /// The field's name without `r#`.
    pub(crate) fn name(&self) -> String {
        self.ident.unraw().to_string()
    }

    /// The name of the key constant: `user_id` -> `USER_ID_KEY`.
    pub(crate) fn key_const_name(&self) -> String {
        format!("{}_KEY", screaming_snake(&self.name()))
    }

    /// The names of the getter, setter and remover.
    pub(crate) fn method_names(&self) -> [String; 3] {
        let name = self.name();
        [
            name.clone(),
            format!("set_{name}"),
            format!("remove_{name}"),
        ]
    }
}

/// `U` if `ty` is written `Option<U>` (also `std::option::Option<U>` or
/// `core::option::Option<U>`). The check is syntactic, as a type alias cannot be seen here.
fn option_inner(ty: &Type) -> Option<&Type> {
    let Type::Path(path) = ty else { return None };
    if path.qself.is_some() {
        return None;
    }
    let names: Vec<String> = path
        .path
        .segments
        .iter()
        .map(|segment| segment.ident.to_string())
        .collect();
    let is_option = match names.as_slice() {
        [option] => option == "Option",
        [krate, module, option] => {
            (krate == "std" || krate == "core") && module == "option" && option == "Option"
        }
        _ => false,
    };
    let last = path.path.segments.last()?;
    match &last.arguments {
        PathArguments::AngleBracketed(args) if is_option && args.args.len() == 1 => {
            match args.args.first()? {
                GenericArgument::Type(inner) => Some(inner),
                _ => None,
            }
        }
        _ => None,
    }
}

/// `userId` or `user_id` -> `USER_ID`.
fn screaming_snake(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    let mut previous_lower = false;
    for c in name.chars() {
        if c.is_uppercase() && previous_lower {
            out.push('_');
        }
        previous_lower = c.is_lowercase() || c.is_ascii_digit();
        out.extend(c.to_uppercase());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn screaming_snake_case() {
        assert_eq!(screaming_snake("user_id"), "USER_ID");
        assert_eq!(screaming_snake("userId"), "USER_ID");
        assert_eq!(screaming_snake("items"), "ITEMS");
        assert_eq!(screaming_snake("v2_token"), "V2_TOKEN");
    }

    #[test]
    fn option_fields_are_recognised() {
        let inner = |ty: Type| option_inner(&ty).map(|ty| quote::quote!(#ty).to_string());
        assert_eq!(inner(syn::parse_quote!(Option<u64>)), Some("u64".into()));
        assert_eq!(
            inner(syn::parse_quote!(::std::option::Option<Vec<u8>>)),
            Some("Vec < u8 >".into())
        );
        assert_eq!(
            inner(syn::parse_quote!(core::option::Option<u8>)),
            Some("u8".into())
        );
        assert_eq!(inner(syn::parse_quote!(Vec<Option<u8>>)), None);
        assert_eq!(inner(syn::parse_quote!(my::Option<u8>)), None);
        assert_eq!(inner(syn::parse_quote!(Option)), None);
    }
}
