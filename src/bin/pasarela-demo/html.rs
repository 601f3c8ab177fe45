//! The demo's pages: small server-rendered HTML, no JavaScript, every value escaped.

use crate::services::{Identity, Level, SERVICES, Service, Via};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

/// Escapes text for an element or a double-quoted attribute.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A whole page with `title` and `body` (already HTML).
pub fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html>\n<html lang=\"es\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{t} · Sede electrónica (demo)</title>\
         <style>body{{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;line-height:1.5}}\
         header{{border-bottom:1px solid #ccc;margin-bottom:1rem}}li{{margin:.5rem 0}}\
         .nivel{{font-weight:bold}}.aviso{{border-left:4px solid #b00;padding-left:1rem}}</style>\
         </head><body><header><p><a href=\"/\">Sede electrónica de la Seguridad Social (demostración)</a></p></header>\
         <main>{body}</main></body></html>\n",
        t = esc(title),
    );
    let mut res = (status, Html(html)).into_response();
    res.headers_mut().insert(
        "content-security-policy",
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' http: https:; frame-ancestors 'none'"
            .parse()
            .unwrap(),
    );
    res.headers_mut()
        .insert("cache-control", "no-store".parse().unwrap());
    res
}

/// "bajo (http://eidas.europa.eu/LoA/low)" or the raw acr.
pub fn level_text(acr: &str) -> String {
    match Level::from_acr(acr) {
        Some(l) => format!("{} ({})", l.spanish(), l.uri()),
        None => acr.to_owned(),
    }
}

fn required(s: &Service) -> String {
    match s.level {
        None => "ninguno".into(),
        Some(l) => format!("{} ", l.spanish()),
    }
}

/// The citizen box: who, which level, how they entered, sign-out.
pub fn citizen_box(identity: Option<&Identity>) -> String {
    match identity {
        None => "<section id=\"sin-sesion\"><p>No has entrado.</p>\
                 <p><a id=\"entrar-oidc\" href=\"/entrar/oidc\">Entrar con Cl@ve (OIDC)</a> · \
                 <a id=\"entrar-saml\" href=\"/entrar/saml\">Entrar con SAML</a></p></section>"
            .into(),
        Some(i) => format!(
            "<section id=\"ciudadano\"><p>Has entrado como <strong id=\"nombre\">{name}</strong> \
             (<span id=\"identificador\">{id}</span>) por {via}.</p>\
             <p>Nivel de seguridad: <span class=\"nivel\" id=\"nivel\" data-acr=\"{acr}\">{level}</span></p>\
             <form method=\"post\" action=\"/salir\"><button type=\"submit\">Salir</button></form></section>",
            name = esc(&i.name),
            id = esc(&i.identifier),
            via = match i.via {
                Via::Oidc => "OpenID Connect",
                Via::Saml => "SAML",
            },
            acr = esc(&i.acr),
            level = esc(&level_text(&i.acr)),
        ),
    }
}

/// The home page: the citizen and the four services.
pub fn home(identity: Option<&Identity>) -> Response {
    let mut list = String::from("<ul id=\"servicios\">");
    for s in &SERVICES {
        list.push_str(&format!(
            "<li><a id=\"servicio-{n}\" href=\"/servicios/{n}\">{t}</a> — nivel necesario: \
             <span class=\"nivel\">{lvl}</span><br>{d}</li>",
            n = esc(s.name),
            t = esc(s.title),
            lvl = esc(required(s).trim()),
            d = esc(s.description),
        ));
    }
    list.push_str("</ul>");
    page(
        StatusCode::OK,
        "Inicio",
        &format!(
            "<h1>Sede electrónica</h1>{}<h2>Servicios</h2>{list}\
             <p>Un servicio de nivel superior al tuyo te lleva a pasarela a subir de nivel.</p>",
            citizen_box(identity)
        ),
    )
}

/// A service page with its data (the API's answer, shown as given).
pub fn service(s: &Service, identity: Option<&Identity>, data: &serde_json::Value) -> Response {
    let mut rows = String::new();
    if let Some(map) = data.get("datos").and_then(|d| d.as_object()) {
        for (k, v) in map {
            let v = v
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| v.to_string());
            rows.push_str(&format!("<dt>{}</dt><dd>{}</dd>", esc(k), esc(&v)));
        }
    }
    page(
        StatusCode::OK,
        s.title,
        &format!(
            "<h1 id=\"servicio\" data-servicio=\"{n}\">{t}</h1><p>Nivel necesario: {lvl}</p>\
             {who}<dl id=\"datos\">{rows}</dl><p><a href=\"/\">Volver al inicio</a></p>",
            n = esc(s.name),
            t = esc(s.title),
            lvl = esc(required(s).trim()),
            who = citizen_box(identity),
        ),
    )
}

/// The refusal: the service needs `needed`, the citizen has `have`, and what pasarela said.
pub fn refusal(
    s: Option<&Service>,
    needed: Option<Level>,
    have: Option<&str>,
    error: &str,
    description: Option<&str>,
) -> Response {
    let title = s.map(|s| s.title).unwrap_or("Entrar");
    let needed = needed
        .map(|l| esc(&level_text(l.uri())))
        .unwrap_or_else(|| "—".into());
    let have = have
        .map(|a| esc(&level_text(a)))
        .unwrap_or_else(|| "ninguno (no has entrado)".into());
    page(
        StatusCode::FORBIDDEN,
        "No se ha podido entrar",
        &format!(
            "<h1 id=\"rechazo\">No puedes entrar en «{t}»</h1>\
             <div class=\"aviso\"><p>Este servicio necesita el nivel <strong id=\"nivel-necesario\">{needed}</strong>.</p>\
             <p>Tu nivel: <strong id=\"nivel-actual\">{have}</strong>.</p>\
             <p>Respuesta de pasarela: <code id=\"error\">{e}</code>{d}</p></div>\
             <p>Para conseguir el nivel, sigue las indicaciones de pasarela (por ejemplo, registrarte \
             en persona en una oficina o usar un certificado).</p><p><a href=\"/\">Volver al inicio</a></p>",
            t = esc(title),
            e = esc(error),
            d = description
                .map(|d| format!(" — <span id=\"error-descripcion\">{}</span>", esc(d)))
                .unwrap_or_default(),
        ),
    )
}

/// A plain error page.
pub fn error(status: StatusCode, message: &str) -> Response {
    page(
        status,
        "Error",
        &format!(
            "<h1>Algo ha fallado</h1><p id=\"mensaje\">{}</p><p><a href=\"/\">Volver al inicio</a></p>",
            esc(message)
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_markup_and_quotes() {
        assert_eq!(
            esc("<a href=\"x\">'&"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;"
        );
    }
}
