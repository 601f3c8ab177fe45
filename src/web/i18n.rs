//! Translations for citizen pages (Project Fluent files in `templates/locales/`, compiled
//! in) and the choice of language for each request: `?lang=` (remembered in a cookie), then
//! the cookie, then `Accept-Language`, then Spanish.

use crate::core::credentials::Lang;
use axum::extract::FromRequestParts;
use axum::http::header::ACCEPT_LANGUAGE;
use axum::http::request::Parts;
use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource};
use std::sync::OnceLock;

/// Name of the cookie that remembers a language chosen with `?lang=`.
pub const LANG_COOKIE: &str = "pasarela-lang";

/// The message files of one language, one per group of pages, so that each group's
/// messages can be edited on their own.
macro_rules! language_files {
    ($lang:literal) => {
        [
            (
                "common",
                include_str!(concat!("../../templates/locales/", $lang, "/common.ftl")),
            ),
            (
                "login",
                include_str!(concat!("../../templates/locales/", $lang, "/login.ftl")),
            ),
            (
                "activation",
                include_str!(concat!(
                    "../../templates/locales/",
                    $lang,
                    "/activation.ftl"
                )),
            ),
            (
                "account",
                include_str!(concat!("../../templates/locales/", $lang, "/account.ftl")),
            ),
            (
                "oidc",
                include_str!(concat!("../../templates/locales/", $lang, "/oidc.ftl")),
            ),
        ]
    };
}

type Files = [(&'static str, &'static str); 5];

const SOURCES: [(Lang, Files); 3] = [
    (Lang::Es, language_files!("es")),
    (Lang::Ca, language_files!("ca")),
    (Lang::En, language_files!("en")),
];

struct Catalog {
    bundles: Vec<(Lang, FluentBundle<FluentResource>)>,
}

fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| Catalog {
        bundles: SOURCES
            .iter()
            .map(|(lang, files)| {
                let id = lang.as_str().parse().unwrap_or_default();
                let mut bundle = FluentBundle::new_concurrent(vec![id]);
                // Bidi isolation marks would end up inside attribute values and table cells.
                bundle.set_use_isolating(false);
                for (_, source) in files {
                    // A broken line or a key defined twice is reported by the catalogue
                    // tests; the rest still loads.
                    let resource =
                        FluentResource::try_new((*source).to_owned()).unwrap_or_else(|(r, _)| r);
                    let _ = bundle.add_resource(resource);
                }
                (*lang, bundle)
            })
            .collect(),
    })
}

/// Messages in one language, for one page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tr {
    lang: Lang,
}

impl Tr {
    /// Messages in `lang`.
    pub fn new(lang: Lang) -> Self {
        Self { lang }
    }

    /// The language, as its `lang` attribute value.
    pub fn lang(&self) -> &'static str {
        self.lang.as_str()
    }

    /// The language.
    pub fn language(&self) -> Lang {
        self.lang
    }

    /// The message `key`; the key itself when it is missing (the catalogue test prevents that).
    pub fn t(&self, key: &str) -> String {
        self.format(key, None)
    }

    /// The message `key` with one argument.
    pub fn t1(&self, key: &str, name: &str, value: &str) -> String {
        let mut args = FluentArgs::new();
        args.set(name.to_owned(), value.to_owned());
        self.format(key, Some(&args))
    }

    fn format(&self, key: &str, args: Option<&FluentArgs<'_>>) -> String {
        let Some((_, bundle)) = catalog().bundles.iter().find(|(l, _)| *l == self.lang) else {
            return key.to_owned();
        };
        let Some(pattern) = bundle.get_message(key).and_then(|m| m.value()) else {
            tracing::warn!(key, lang = self.lang.as_str(), "missing translation");
            return key.to_owned();
        };
        let mut errors = Vec::new();
        bundle
            .format_pattern(pattern, args, &mut errors)
            .into_owned()
    }

    /// Every language with its own name, for the language switcher.
    pub fn languages(&self) -> Vec<(&'static str, String)> {
        Lang::ALL
            .iter()
            .map(|l| (l.as_str(), Tr::new(*l).t("lang-name")))
            .collect()
    }
}

/// The language for this request.
pub fn negotiate(parts: &Parts) -> Lang {
    let query = parts.uri.query().unwrap_or("");
    let from_query = url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "lang" || k == "ui_locales")
        .and_then(|(_, v)| v.split_whitespace().find_map(|tag| tag.parse().ok()));
    let from_cookie = || {
        axum_extra::extract::CookieJar::from_headers(&parts.headers)
            .get(LANG_COOKIE)
            .and_then(|c| c.value().parse().ok())
    };
    let from_header = || {
        parts
            .headers
            .get(ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .and_then(Lang::from_accept_language)
    };
    from_query
        .or_else(from_cookie)
        .or_else(from_header)
        .unwrap_or_default()
}

impl<S: Send + Sync> FromRequestParts<S> for Tr {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Tr::new(negotiate(parts)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Request;

    fn keys(source: &str) -> Vec<String> {
        FluentResource::try_new(source.to_owned())
            .unwrap_or_else(|(_, e)| panic!("invalid Fluent file: {e:?}"))
            .entries()
            .filter_map(|e| match e {
                fluent_syntax::ast::Entry::Message(m) => Some(m.id.name.to_owned()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn every_language_has_every_message_in_the_same_file() {
        let (_, reference_files) = SOURCES[0];
        for (i, (file, source)) in reference_files.iter().enumerate() {
            let mut reference = keys(source);
            reference.sort();
            for (lang, files) in SOURCES {
                assert_eq!(files[i].0, *file);
                let mut k = keys(files[i].1);
                k.sort();
                assert_eq!(k, reference, "{lang}/{file}.ftl differs from es/{file}.ftl");
            }
        }
        let mut all: Vec<String> = reference_files.iter().flat_map(|(_, s)| keys(s)).collect();
        let count = all.len();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), count, "a message key is defined in two files");
        assert_ne!(
            Tr::new(Lang::Ca).t("error-title"),
            Tr::new(Lang::En).t("error-title")
        );
    }

    #[test]
    fn query_then_cookie_then_header() {
        let parts = |uri: &str, cookie: Option<&str>, accept: Option<&str>| {
            let mut b = Request::builder().uri(uri);
            if let Some(c) = cookie {
                b = b.header("cookie", format!("{LANG_COOKIE}={c}"));
            }
            if let Some(a) = accept {
                b = b.header("accept-language", a);
            }
            b.body(()).unwrap().into_parts().0
        };
        assert_eq!(
            negotiate(&parts("/?lang=ca", Some("en"), Some("en"))),
            Lang::Ca
        );
        assert_eq!(negotiate(&parts("/", Some("en"), Some("ca"))), Lang::En);
        assert_eq!(
            negotiate(&parts("/", None, Some("fr-FR, ca;q=0.8"))),
            Lang::Ca
        );
        assert_eq!(
            negotiate(&parts("/?ui_locales=se%20en", None, None)),
            Lang::En
        );
        assert_eq!(negotiate(&parts("/", None, None)), Lang::Es);
    }
}
