//! Parsing of the `#[session(...)]` arguments on the struct and on its fields.

use proc_macro2::{Span, TokenStream};
use syn::{
    Attribute, Expr, ExprPath, LitStr, Path, Token,
    meta::{self, ParseNestedMeta},
    parse::Parser as _,
    spanned::Spanned as _,
};

use crate::errors::Errors;

/// The attribute's own name, on the struct and on fields.
pub(crate) const SESSION: &str = "session";
/// Container: prefix of every key, joined with a `.`.
pub(crate) const PREFIX: &str = "prefix";
/// Container: path of the `session` crate, for crates that rename it.
pub(crate) const CRATE: &str = "crate";
/// Field: the key under which the field is stored (before the prefix).
pub(crate) const KEY: &str = "key";
/// Field: a missing value reads as `Default::default()` or as `path()`.
pub(crate) const DEFAULT: &str = "default";
/// Field: setting the field also binds the session to its value as the owner.
pub(crate) const OWNER: &str = "owner";

const CONTAINER_KEYS: &[&str] = &[PREFIX, CRATE];
const FIELD_KEYS: &[&str] = &[KEY, DEFAULT, OWNER];

/// The arguments of `#[session(...)]` on the struct.
#[derive(Default)]
pub(crate) struct ContainerAttrs {
    pub(crate) prefix: Option<LitStr>,
    pub(crate) krate: Option<Path>,
}

/// The arguments of every `#[session(...)]` on one field.
#[derive(Default)]
pub(crate) struct FieldAttrs {
    pub(crate) key: Option<LitStr>,
    pub(crate) default: Option<DefaultAttr>,
    /// `#[session(owner)]`: the `owner` keyword, for errors about the field.
    pub(crate) owner: Option<Span>,
}

/// `#[session(default)]` or `#[session(default = "path")]`.
pub(crate) struct DefaultAttr {
    /// The `default` keyword, for errors about the field.
    pub(crate) span: Span,
    /// The function to call; `None` for `Default::default`.
    pub(crate) path: Option<ExprPath>,
}

/// Parses the arguments of the attribute macro itself; problems go to `errors`.
pub(crate) fn container(args: TokenStream, errors: &mut Errors) -> ContainerAttrs {
    let mut container = ContainerAttrs::default();
    let parser = meta::parser(|meta| {
        if meta.path.is_ident(PREFIX) {
            let lit = string_value(&meta)?;
            if lit.value().is_empty() {
                errors.push(syn::Error::new(
                    lit.span(),
                    "the session key prefix cannot be empty; remove `prefix` to use the field keys as they are",
                ));
            }
            if let Some(trimmed) = lit.value().strip_suffix('.') {
                let fix = if trimmed.is_empty() {
                    "remove `prefix`".to_owned()
                } else {
                    format!("write `prefix = \"{trimmed}\"`")
                };
                errors.push(syn::Error::new(
                    lit.span(),
                    format!("the prefix is joined to the keys with a `.` already; {fix}"),
                ));
            }
            set_once(&mut container.prefix, lit, &meta, errors);
        } else if meta.path.is_ident(CRATE) {
            let lit = string_value(&meta)?;
            match lit.parse::<Path>() {
                Ok(path) => set_once(&mut container.krate, path, &meta, errors),
                Err(err) => errors.push(syn::Error::new(
                    lit.span(),
                    format!(
                        "expected the path of the `session` crate, such as \"::session\": {err}"
                    ),
                )),
            }
        } else {
            unknown_key(&meta, "", CONTAINER_KEYS, (FIELD_KEYS, "a field"), errors)?;
        }
        Ok(())
    });
    if let Err(err) = parser.parse2(args) {
        errors.push(err);
    }
    container
}

/// Parses every `#[session(...)]` among a field's attributes; problems go to `errors`.
pub(crate) fn field(attrs: &[Attribute], errors: &mut Errors) -> FieldAttrs {
    let mut field = FieldAttrs::default();
    for attr in attrs.iter().filter(|attr| attr.path().is_ident(SESSION)) {
        let result = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident(KEY) {
                let lit = string_value(&meta)?;
                if lit.value().is_empty() {
                    errors.push(syn::Error::new(
                        lit.span(),
                        "the session key cannot be empty; remove `key` to use the field name",
                    ));
                }
                set_once(&mut field.key, lit, &meta, errors);
            } else if meta.path.is_ident(OWNER) {
                if !meta.input.is_empty() && !meta.input.peek(Token![,]) {
                    return Err(meta.error(format!(
                        "`{OWNER}` takes no value: write `#[{SESSION}({OWNER})]`"
                    )));
                }
                set_once(&mut field.owner, meta.path.span(), &meta, errors);
            } else if meta.path.is_ident(DEFAULT) {
                let span = meta.path.span();
                let path = if meta.input.peek(Token![=]) {
                    let lit: LitStr = meta.value()?.parse()?;
                    // `LitStr::parse` gives every token the literal's span, so errors about the
                    // path point at what the user wrote.
                    match lit.parse::<ExprPath>() {
                        Ok(path) => Some(path),
                        Err(err) => {
                            errors.push(syn::Error::new(
                                lit.span(),
                                format!(
                                    "expected the path of a function returning the field's type, \
                                     such as \"Vec::new\": {err}"
                                ),
                            ));
                            None
                        }
                    }
                } else {
                    None
                };
                set_once(
                    &mut field.default,
                    DefaultAttr { span, path },
                    &meta,
                    errors,
                );
            } else {
                unknown_key(
                    &meta,
                    "field ",
                    FIELD_KEYS,
                    (CONTAINER_KEYS, "the struct"),
                    errors,
                )?;
            }
            Ok(())
        });
        if let Err(err) = result {
            errors.push(err);
        }
    }
    field
}

/// The string literal after `name =`; without `=`, an error on the name saying what to write.
fn string_value(meta: &ParseNestedMeta<'_>) -> syn::Result<LitStr> {
    if !meta.input.peek(Token![=]) {
        let name = path_to_string(&meta.path);
        return Err(meta.error(format!("expected `{name} = \"...\"`")));
    }
    meta.value()?.parse()
}

/// Stores `value` in `slot`, or reports a duplicate on the repeated key.
fn set_once<T>(slot: &mut Option<T>, value: T, meta: &ParseNestedMeta<'_>, errors: &mut Errors) {
    if slot.is_some() {
        let name = path_to_string(&meta.path);
        errors.push(syn::Error::new_spanned(
            &meta.path,
            format!("duplicate `{name}` in `#[{SESSION}]`: give it once"),
        ));
    } else {
        *slot = Some(value);
    }
}

/// Reports an unknown key with the allowed ones (and the closest one), then skips its value
/// so that the keys after it are still checked.
fn unknown_key(
    meta: &ParseNestedMeta<'_>,
    kind: &str,
    allowed: &[&str],
    (elsewhere, place): (&[&str], &str),
    errors: &mut Errors,
) -> syn::Result<()> {
    let name = path_to_string(&meta.path);
    let list = allowed
        .iter()
        .map(|key| format!("`{key}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let hint = if elsewhere.contains(&name.as_str()) {
        format!("; `{name}` belongs on {place}: `#[{SESSION}({name} = ...)]`")
    } else if let Some(close) = closest(&name, allowed) {
        format!("; did you mean `{close}`?")
    } else {
        String::new()
    };
    errors.push(syn::Error::new_spanned(
        &meta.path,
        format!("unknown `#[{SESSION}]` {kind}attribute `{name}`{hint} (expected one of: {list})"),
    ));
    if meta.input.peek(Token![=]) {
        meta.value()?.parse::<Expr>()?;
    } else if meta.input.peek(syn::token::Paren) {
        let content;
        syn::parenthesized!(content in meta.input);
        content.parse::<TokenStream>()?;
    }
    Ok(())
}

fn path_to_string(path: &Path) -> String {
    path.segments
        .iter()
        .map(|segment| segment.ident.to_string())
        .collect::<Vec<_>>()
        .join("::")
}

/// The allowed key closest to `name`, if it is a plausible typo of it: at most a third of
/// the key's length in edits (at least one). Edits are counted by characters as insertions,
/// deletions, substitutions and transpositions of neighbours (optimal string alignment), so
/// `kye` is one edit from `key`.
fn closest<'a>(name: &str, allowed: &[&'a str]) -> Option<&'a str> {
    allowed
        .iter()
        .map(|candidate| (strsim::osa_distance(name, candidate), *candidate))
        .filter(|(distance, candidate)| *distance <= (candidate.len() / 3).max(1))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_are_counted_as_optimal_string_alignment() {
        // A swap of neighbours is one edit, but a swapped pair is not edited again.
        let distance = strsim::osa_distance;
        assert_eq!(distance("key", "key"), 0);
        assert_eq!(distance("kye", "key"), 1);
        assert_eq!(distance("ca", "abc"), 3);
        assert_eq!(distance("defualt", "default"), 1);
        assert_eq!(distance("keys", "key"), 1);
        assert_eq!(distance("", "key"), 3);
        assert_eq!(distance("prefx", "prefix"), 1);
    }

    #[test]
    fn closest_suggests_near_misses_only() {
        assert_eq!(closest("prefx", CONTAINER_KEYS), Some(PREFIX));
        assert_eq!(closest("krate", CONTAINER_KEYS), Some(CRATE));
        assert_eq!(closest("defualt", FIELD_KEYS), Some(DEFAULT));
        assert_eq!(closest("keys", FIELD_KEYS), Some(KEY));
        assert_eq!(closest("kye", FIELD_KEYS), Some(KEY));
        assert_eq!(closest("rename", FIELD_KEYS), None);
    }

    #[test]
    fn container_collects_every_problem() {
        let mut errors = Errors::default();
        let args: TokenStream = syn::parse_quote!(prefx = "a", prefix = "", prefix = "b", other(x));
        let container = container(args, &mut errors);
        assert_eq!(container.prefix.map(|lit| lit.value()), Some(String::new()));
        let messages: Vec<String> = errors
            .finish()
            .err()
            .into_iter()
            .flat_map(|err| err.into_iter().map(|err| err.to_string()))
            .collect();
        assert_eq!(messages.len(), 4, "{messages:?}");
        assert!(
            messages[0].contains("did you mean `prefix`"),
            "{messages:?}"
        );
        assert!(messages[1].contains("cannot be empty"), "{messages:?}");
        assert!(messages[2].contains("duplicate `prefix`"), "{messages:?}");
        assert!(
            messages[3].contains("unknown `#[session]` attribute `other`"),
            "{messages:?}"
        );
    }

    #[test]
    fn field_reads_owner() {
        let mut errors = Errors::default();
        let field: syn::Field = syn::parse_quote! {
            #[session(owner, key = "uid")]
            pub user_id: u64
        };
        let attrs = super::field(&field.attrs, &mut errors);
        assert!(errors.finish().is_ok());
        assert!(attrs.owner.is_some());
        let field: syn::Field = syn::parse_quote! {
            #[session(owner = "yes")]
            pub user_id: u64
        };
        let mut errors = Errors::default();
        assert!(super::field(&field.attrs, &mut errors).owner.is_none());
        assert!(errors.finish().is_err());
    }

    #[test]
    fn field_reads_key_and_default() {
        let mut errors = Errors::default();
        let field: syn::Field = syn::parse_quote! {
            #[session(key = "uid")]
            #[session(default = "make")]
            pub user_id: u64
        };
        let attrs = super::field(&field.attrs, &mut errors);
        assert!(errors.finish().is_ok());
        assert_eq!(attrs.key.map(|lit| lit.value()), Some("uid".to_owned()));
        let default = attrs.default.and_then(|default| default.path);
        assert!(default.is_some_and(|path| path.path.is_ident("make")));
    }
}
