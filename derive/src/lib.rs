//! `#[derive(GoKey)]`: the derive behind `gomap`'s `derive` feature.
//!
//! Use it through `gomap` (`gomap = { features = ["derive"] }`, then
//! `use gomap::GoKey;`), not directly: the generated code names `::gomap`.
//! What the generated impls mean, and how they match Go's hashing, is
//! documented on `gomap::keys`.

use proc_macro::TokenStream;
use proc_macro2::TokenStream as TokenStream2;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Fields, Index, Member, parse_macro_input};

/// Derives `gomap::GoKey` (and `gomap::keys::KeyFields`) for a struct whose
/// fields are all Go-hashable keys (named, tuple or unit structs; generic
/// ones too, each field bounded by `KeyFields`). The key hashes as Go's
/// compiler-generated hasher hashes a Go struct with the same fields in
/// offset order: `#[repr(C)]` makes that the declaration order, as in Go.
/// Padding is never read. See `gomap::keys` for the rules.
///
/// ```
/// use gomap::{GoKey, GoMap, GoStr};
///
/// // Go: type Point struct { X int32; Name string; W float64 }
/// #[derive(GoKey)]
/// #[repr(C)]
/// struct Point {
///     x: i32,
///     name: GoStr,
///     w: f64,
/// }
///
/// let mut m: GoMap<Point, u32> = GoMap::new();
/// m.insert(Point { x: 1, name: "a".into(), w: 0.0 }, 7);
/// // Go's float equality: -0 == +0.
/// assert_eq!(m.get(&Point { x: 1, name: "a".into(), w: -0.0 }), Some(&7));
/// ```
///
/// Fields Go could not hash are rejected at compile time; for strings the
/// error says to use `GoStr`:
///
/// ```compile_fail
/// #[derive(gomap::GoKey)]
/// struct Named {
///     name: String, // error: `String` cannot be a field of a Go map key
/// }
/// ```
///
/// ```compile_fail
/// #[derive(gomap::GoKey)]
/// struct WithVec(Vec<u8>);
/// ```
///
/// Enums and unions are rejected:
///
/// ```compile_fail
/// #[derive(gomap::GoKey)]
/// enum E { A, B }
/// ```
///
/// ```compile_fail
/// #[derive(gomap::GoKey)]
/// #[repr(C, packed)]
/// struct P { a: u8, b: u32 }
/// ```
///
/// A generic field type must itself be a key field:
///
/// ```compile_fail
/// #[derive(gomap::GoKey)]
/// struct G<T> { v: T }
/// fn need<K: gomap::GoKey>() {}
/// need::<G<String>>();
/// ```
#[proc_macro_derive(GoKey)]
pub fn derive_go_key(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand(&input).unwrap_or_else(syn::Error::into_compile_error).into()
}

fn expand(input: &DeriveInput) -> syn::Result<TokenStream2> {
    let name = &input.ident;
    let fields = match &input.data {
        Data::Struct(s) => &s.fields,
        Data::Enum(e) => {
            return Err(syn::Error::new(
                e.enum_token.span(),
                "#[derive(GoKey)] supports structs only: Go has no enum keys (use a struct or an integer)",
            ));
        }
        Data::Union(u) => {
            return Err(syn::Error::new(
                u.union_token.span(),
                "#[derive(GoKey)] supports structs only: a union's bytes have no Go hash",
            ));
        }
    };
    for attr in &input.attrs {
        if attr.path().is_ident("repr") {
            let mut packed = false;
            attr.parse_nested_meta(|m| {
                packed |= m.path.is_ident("packed");
                // Skip `align(N)` / `packed(N)` arguments.
                if m.input.peek(syn::token::Paren) {
                    let content;
                    syn::parenthesized!(content in m.input);
                    let _: TokenStream2 = content.parse()?;
                }
                Ok(())
            })?;
            if packed {
                return Err(syn::Error::new(
                    attr.span(),
                    "#[derive(GoKey)] does not support #[repr(packed)]: Go's hashers read fields aligned",
                ));
            }
        }
    }
    let members: Vec<(Member, &syn::Type)> = match fields {
        Fields::Named(f) => f.named.iter().map(|f| (Member::Named(f.ident.clone().unwrap()), &f.ty)).collect(),
        Fields::Unnamed(f) => {
            f.unnamed.iter().enumerate().map(|(i, f)| (Member::Unnamed(Index::from(i)), &f.ty)).collect()
        }
        Fields::Unit => Vec::new(),
    };

    let (impl_g, ty_g, where_clause) = input.generics.split_for_impl();
    let mut preds: Vec<TokenStream2> =
        where_clause.map(|w| w.predicates.iter().map(|p| quote!(#p)).collect()).unwrap_or_default();
    for (_, ty) in &members {
        preds.push(quote_spanned!(ty.span()=> #ty: ::gomap::keys::KeyFields));
    }
    let specs = members.iter().map(|(_, ty)| quote_spanned!(ty.span()=> <#ty as ::gomap::GoKey>::SPEC));
    let pushes = members.iter().map(|(m, ty)| {
        quote_spanned!(ty.span()=> (::core::mem::offset_of!(Self, #m), ::gomap::keys::__private::push_field::<#ty> as ::gomap::keys::__private::PushFn))
    });
    let n = members.len();
    Ok(quote! {
        // SAFETY (of both impls): every field is a `KeyFields` key (the
        // where-clause), so the fields `append_fields` lists, at the
        // offsets `offset_of!` gives, describe `Self` exactly (padding is
        // never listed), and `SPEC` is plain memory only when every field
        // is plain memory and they tile `Self` (`regular_spec`).
        #[automatically_derived]
        unsafe impl #impl_g ::gomap::GoKey for #name #ty_g where #(#preds,)* {
            const SPEC: ::core::option::Option<::gomap::maptype::KeySpec> =
                ::gomap::keys::__private::regular_spec::<Self>(&[#(#specs),*]);
            const FAST: ::gomap::gomap::FastKind = ::gomap::keys::__private::fast_kind(Self::SPEC);
            fn map_type(elem: ::gomap::maptype::TypeInfo) -> ::gomap::maptype::MapType {
                ::gomap::keys::__private::key_map_type::<Self>(elem)
            }
        }
        #[automatically_derived]
        unsafe impl #impl_g ::gomap::keys::KeyFields for #name #ty_g where #(#preds,)* {
            fn append_fields(base: usize, out: &mut ::std::vec::Vec<::gomap::presets::Field>) {
                let mut fields: [(usize, ::gomap::keys::__private::PushFn); #n] = [#(#pushes),*];
                ::gomap::keys::__private::push_struct(base, &mut fields, out)
            }
        }
    })
}
