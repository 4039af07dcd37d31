//! Rules about the struct as a whole and between its fields.

use std::collections::BTreeMap;

use proc_macro2::Span;

use crate::{
    ast::{Field, Input},
    attr::{DEFAULT, KEY, OWNER, SESSION},
    errors::Errors,
};

/// Methods every session struct has, which no accessor may take: inherent ones, and trait
/// methods that an inherent method of the same name would shadow (`Cart::from(session)`,
/// `cart.clone()`, `Cart::extract(&req)`).
const RESERVED_METHODS: &[&str] = &[
    "session",
    "from_session",
    "from",
    "clone",
    "extract",
    "from_request",
];

impl Input<'_> {
    /// Reports every rule the struct breaks to `errors`.
    pub(crate) fn validate(&self, errors: &mut Errors) {
        self.check_generics(errors);
        self.check_derives(errors);
        let mut keys: BTreeMap<String, &Field<'_>> = BTreeMap::new();
        let mut methods: BTreeMap<String, &Field<'_>> = BTreeMap::new();
        let mut consts: BTreeMap<String, &Field<'_>> = BTreeMap::new();
        let mut owner: Option<&Field<'_>> = None;
        for field in &self.fields {
            check_default(field, errors);
            if let Some(span) = field.attrs.owner {
                match owner {
                    Some(first) => errors.push(syn::Error::new(
                        span,
                        format!(
                            "only one field can be the session's owner: field `{}` is \
                             `#[{SESSION}({OWNER})]` already; remove `{OWNER}` from one of them",
                            first.name()
                        ),
                    )),
                    None => owner = Some(field),
                }
            }

            let key = self.key_of(field);
            if let Some(first) = keys.get(&key) {
                errors.push(syn::Error::new(
                    field.key_span(),
                    format!(
                        "duplicate session key `{key}`: field `{}` already uses it; give one of \
                         them another key with `#[{SESSION}({KEY} = \"...\")]`",
                        first.name()
                    ),
                ));
            } else {
                keys.insert(key, field);
            }

            for method in field.method_names() {
                if RESERVED_METHODS.contains(&method.as_str()) {
                    errors.push(name_clash(
                        field,
                        &format!(
                            "the method `{method}()` that every session struct has (directly or \
                             through `From`, `Clone` or `FromRequest`)"
                        ),
                    ));
                } else if let Some(first) = methods.get(&method) {
                    errors.push(name_clash(
                        field,
                        &format!(
                            "a method of field `{}`: both need `{method}()`",
                            first.name()
                        ),
                    ));
                } else {
                    methods.insert(method, field);
                }
            }

            let konst = field.key_const_name();
            if let Some(first) = consts.get(&konst) {
                errors.push(name_clash(
                    field,
                    &format!("field `{}`: both need the constant `{konst}`", first.name()),
                ));
            } else {
                consts.insert(konst, field);
            }
        }
    }

    /// The fields are gone after the expansion, so derives would see only the session handle,
    /// which implements `Clone` and `Debug` itself.
    fn check_derives(&self, errors: &mut Errors) {
        for attr in &self.original.attrs {
            if attr.path().is_ident("derive") {
                errors.push(syn::Error::new_spanned(
                    attr,
                    format!(
                        "`#[{SESSION}]` structs cannot have `derive` attributes: the fields become \
                         accessors on a session handle, which implements `Clone` and `Debug` \
                         itself; derive on the field types instead"
                    ),
                ));
            }
        }
    }

    fn check_generics(&self, errors: &mut Errors) {
        let generics = &self.original.generics;
        if !generics.params.is_empty() {
            errors.push(syn::Error::new_spanned(
                generics,
                format!(
                    "`#[{SESSION}]` structs cannot have generic parameters or lifetimes: the \
                     struct becomes a handle on the request's session; make the fields concrete \
                     types"
                ),
            ));
        }
        if let Some(where_clause) = &generics.where_clause {
            errors.push(syn::Error::new_spanned(
                where_clause,
                format!("`#[{SESSION}]` structs cannot have a `where` clause"),
            ));
        }
    }
}

fn check_default(field: &Field<'_>, errors: &mut Errors) {
    if let (Some(default), Some(_)) = (&field.attrs.default, field.option_inner) {
        errors.push(syn::Error::new(
            default.span,
            format!(
                "`{DEFAULT}` cannot be used on an `Option` field: a missing value already reads \
                 as `None`; remove `{DEFAULT}`, or make the field type not an `Option`"
            ),
        ));
    }
}

fn name_clash(field: &Field<'_>, with: &str) -> syn::Error {
    let span: Span = field.ident.span();
    syn::Error::new(
        span,
        format!(
            "the accessors of field `{}` clash with {with}; rename the field and keep its session \
             key with `#[{SESSION}({KEY} = \"{}\")]`",
            field.name(),
            field.key()
        ),
    )
}
