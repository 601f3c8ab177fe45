#!/usr/bin/env python3
"""A real third-party SAML service provider, driven step by step by tests/it/saml_peers.rs.

    peer.py LIB setup     DIR ENTITY IDP_METADATA_FILE [--encrypt]   -> prints the SP metadata
    peer.py LIB login     DIR BINDING RELAY_STATE                     -> JSON message to send
    peer.py LIB acs       DIR   (stdin: {"SAMLResponse": …, "RelayState": …}) -> JSON identity
    peer.py LIB logout    DIR BINDING RELAY_STATE                     -> JSON message to send
    peer.py LIB sls       DIR   (stdin: {"query": raw query} | {"form": {…}}) -> JSON result

LIB is "pysaml2" or "onelogin" (python3-saml in strict mode). DIR keeps the SP's key, its
configuration and what it remembers between steps (the request IDs, the NameID and
SessionIndex of the login). The browser leg is carried by the Rust test; this side only
builds requests and validates answers with the library's own checks. Any failed check
exits non-zero with the library's errors on stderr.
"""

import base64
import html
import json
import os
import re
import subprocess
import sys
import urllib.parse

REDIRECT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
POST = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
PERSISTENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
SUBSTANTIAL = "http://eidas.europa.eu/LoA/substantial"


def fail(msg):
    print(msg, file=sys.stderr)
    sys.exit(1)


def load(d, name):
    with open(os.path.join(d, name)) as f:
        return json.load(f)


def save(d, name, value):
    with open(os.path.join(d, name), "w") as f:
        json.dump(value, f)


def keypair(d):
    key, cert = os.path.join(d, "sp.key"), os.path.join(d, "sp.crt")
    if not os.path.exists(key):
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30",
             "-subj", "/CN=saml-peer", "-keyout", key, "-out", cert],
            check=True, capture_output=True)
    return key, cert


def pem_body(path):
    with open(path) as f:
        text = f.read()
    return "".join(l for l in text.splitlines() if "-----" not in l)


# ---------------------------------------------------------------------------------------
# pysaml2


def pysaml2_client(d):
    from saml2.client import Saml2Client
    from saml2.config import SPConfig

    s = load(d, "setup.json")
    key, cert = keypair(d)
    entity = s["entity"]
    conf = {
        "entityid": entity,
        "key_file": key,
        "cert_file": cert,
        "encryption_keypairs": [{"key_file": key, "cert_file": cert}],
        "xmlsec_binary": "/usr/bin/xmlsec1",
        "metadata": {"local": [s["idp_metadata"]]},
        "allow_unknown_attributes": True,
        "service": {
            "sp": {
                "endpoints": {
                    "assertion_consumer_service": [(entity + "/acs", POST)],
                    "single_logout_service": [
                        (entity + "/slo", REDIRECT),
                        (entity + "/slo/post", POST),
                    ],
                },
                "name_id_format": [PERSISTENT],
                "authn_requests_signed": True,
                "logout_requests_signed": True,
                "logout_responses_signed": True,
                "want_response_signed": True,
                "want_assertions_signed": True,
                "want_assertions_or_response_signed": True,
                "allow_unsolicited": False,
                "signing_algorithm": RSA_SHA256,
                "digest_algorithm": SHA256,
                "requested_authn_context": {
                    "authn_context_class_ref": [SUBSTANTIAL],
                    "comparison": "minimum",
                },
            }
        },
    }
    c = SPConfig()
    c.load(conf)
    return Saml2Client(config=c), c, s


def pysaml2_metadata(d):
    from saml2.metadata import create_metadata_string

    _, c, _ = pysaml2_client(d)
    return create_metadata_string(None, config=c, sign=False).decode()


def form_fields(page):
    fields = {}
    for m in re.finditer(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', page):
        fields[m.group(1)] = html.unescape(m.group(2))
    action = re.search(r'<form[^>]*action="([^"]+)"', page)
    return {"method": "POST", "url": html.unescape(action.group(1)), "fields": fields}


def message(binding, info):
    if binding == "redirect":
        location = dict(info["headers"])["Location"]
        return {"method": "GET", "url": location}
    return form_fields(info["data"])


def pysaml2_login(d, binding, relay):
    from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT

    client, _, s = pysaml2_client(d)
    b = BINDING_HTTP_REDIRECT if binding == "redirect" else BINDING_HTTP_POST
    idp = client.metadata.identity_providers()[0]
    req_id, info = client.prepare_for_authenticate(
        entityid=idp, relay_state=relay, binding=b, sign=True, sigalg=RSA_SHA256,
        digest_alg=SHA256, nameid_format=PERSISTENT)
    s["request_id"] = req_id
    save(d, "setup.json", s)
    return message(binding, info)


def pysaml2_acs(d, posted):
    from saml2 import BINDING_HTTP_POST

    client, _, s = pysaml2_client(d)
    resp = client.parse_authn_request_response(
        posted["SAMLResponse"], BINDING_HTTP_POST, outstanding={s["request_id"]: "/"})
    if resp is None:
        fail("pysaml2: no response")
    identity = resp.get_identity()
    if not identity:
        fail("pysaml2: no identity")
    name_id = resp.name_id
    info = resp.session_info()
    s["name_id"] = name_id.text
    s["name_id_format"] = name_id.format
    s["session_index"] = info["session_index"]
    save(d, "setup.json", s)
    return {
        "name_id": name_id.text,
        "name_id_format": name_id.format,
        "session_index": info["session_index"],
        "attributes": {k: list(v) for k, v in identity.items()},
        "authn_context": [a[0] for a in resp.authn_info()],
        "relay_state": posted.get("RelayState"),
        # The identity above came out of an EncryptedAssertion only if pysaml2 decrypted it.
        "encrypted": "EncryptedAssertion" in base64.b64decode(posted["SAMLResponse"]).decode(),
    }


def pysaml2_logout(d, binding, relay):
    from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
    from saml2.saml import NameID

    client, _, s = pysaml2_client(d)
    b = BINDING_HTTP_REDIRECT if binding == "redirect" else BINDING_HTTP_POST
    idp = client.metadata.identity_providers()[0]
    dest = client.metadata.single_logout_service(idp, b, "idpsso")[0]["location"]
    name_id = NameID(text=s["name_id"], format=s["name_id_format"])
    post = b == BINDING_HTTP_POST
    req_id, req = client.create_logout_request(
        dest, idp, name_id=name_id, session_indexes=[s["session_index"]],
        sign=post, sign_alg=RSA_SHA256, digest_alg=SHA256)
    info = client.apply_binding(b, str(req), dest, relay_state=relay, sign=not post,
                                sigalg=RSA_SHA256)
    s["logout_id"] = req_id
    save(d, "setup.json", s)
    return message(binding, info)


def pysaml2_sls(d, answer):
    from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
    from saml2.sigver import verify_redirect_signature

    client, _, s = pysaml2_client(d)
    idp = client.metadata.identity_providers()[0]
    if "query" in answer:
        q = dict(urllib.parse.parse_qsl(answer["query"], keep_blank_values=True))
        certs = client.metadata.certs(idp, "idpsso", "signing")
        ok = any(
            verify_redirect_signature(q, client.sec.sec_backend, cert=c[1])
            for c in certs)
        if not ok:
            fail("pysaml2: the LogoutResponse's redirect signature does not verify")
        resp = client.parse_logout_request_response(q["SAMLResponse"], BINDING_HTTP_REDIRECT)
        relay = q.get("RelayState")
        signed = ok
    else:
        form = answer["form"]
        resp = client.parse_logout_request_response(form["SAMLResponse"], BINDING_HTTP_POST)
        relay = form.get("RelayState")
        # pysaml2 has verified the enveloped signature it requires ("logout_responses_signed").
        signed = resp is not None and resp.response.signature is not None
    if resp is None:
        fail("pysaml2: the LogoutResponse was not accepted")
    if resp.in_response_to != s["logout_id"]:
        fail("pysaml2: InResponseTo is not our LogoutRequest")
    if not resp.status_ok():
        fail("pysaml2: LogoutResponse status is not Success")
    return {"ok": True, "in_response_to": resp.in_response_to, "relay_state": relay,
            "signed": signed}


# ---------------------------------------------------------------------------------------
# python3-saml (OneLogin), strict


def onelogin_settings(d):
    from onelogin.saml2.idp_metadata_parser import OneLogin_Saml2_IdPMetadataParser

    s = load(d, "setup.json")
    key, cert = keypair(d)
    entity = s["entity"]
    with open(s["idp_metadata"]) as f:
        idp = OneLogin_Saml2_IdPMetadataParser.parse(f.read())
    with open(key) as f:
        private_key = f.read()
    settings = {
        "strict": True,
        "debug": False,
        "sp": {
            "entityId": entity,
            "assertionConsumerService": {"url": entity + "/acs", "binding": POST},
            "singleLogoutService": {"url": entity + "/slo", "binding": REDIRECT},
            "NameIDFormat": PERSISTENT,
            "x509cert": pem_body(cert),
            "privateKey": private_key,
        },
        "security": {
            "authnRequestsSigned": True,
            "logoutRequestSigned": True,
            "logoutResponseSigned": True,
            "wantMessagesSigned": True,
            "wantAssertionsSigned": True,
            "wantAssertionsEncrypted": bool(s.get("encrypt")),
            "wantNameId": True,
            "requestedAuthnContext": [SUBSTANTIAL],
            "requestedAuthnContextComparison": "minimum",
            "failOnAuthnContextMismatch": False,
            "signatureAlgorithm": RSA_SHA256,
            "digestAlgorithm": "http://www.w3.org/2001/04/xmlenc#sha256",
            "rejectDeprecatedAlgorithm": True,
        },
    }
    settings.update({"idp": idp["idp"]})
    return settings, s


def request_data(entity, path, get=None, post=None, query=None):
    u = urllib.parse.urlsplit(entity)
    data = {
        "https": "on" if u.scheme == "https" else "off",
        "http_host": u.hostname,
        "server_port": str(u.port or (443 if u.scheme == "https" else 80)),
        "script_name": path,
        "get_data": get or {},
        "post_data": post or {},
    }
    if query is not None:
        # Verify the redirect signature over the query exactly as received.
        data["query_string"] = query
        data["validate_signature_from_qs"] = True
    return data


def onelogin_metadata(d):
    from onelogin.saml2.settings import OneLogin_Saml2_Settings

    settings, _ = onelogin_settings(d)
    st = OneLogin_Saml2_Settings(settings)
    md = st.get_sp_metadata()
    errors = st.validate_metadata(md)
    if errors:
        fail("onelogin metadata: %s" % errors)
    return md.decode() if isinstance(md, bytes) else md


def onelogin_login(d, binding, relay):
    from onelogin.saml2.auth import OneLogin_Saml2_Auth

    if binding != "redirect":
        fail("python3-saml sends AuthnRequests over HTTP-Redirect only")
    settings, s = onelogin_settings(d)
    auth = OneLogin_Saml2_Auth(request_data(s["entity"], "/login"), settings)
    url = auth.login(return_to=relay)
    s["request_id"] = auth.get_last_request_id()
    save(d, "setup.json", s)
    return {"method": "GET", "url": url}


def onelogin_acs(d, posted):
    from onelogin.saml2.auth import OneLogin_Saml2_Auth

    settings, s = onelogin_settings(d)
    auth = OneLogin_Saml2_Auth(request_data(s["entity"], "/acs", post=posted), settings)
    auth.process_response(request_id=s["request_id"])
    errors = auth.get_errors()
    if errors or not auth.is_authenticated():
        fail("onelogin: %s: %s" % (errors, auth.get_last_error_reason()))
    s["name_id"] = auth.get_nameid()
    s["name_id_format"] = auth.get_nameid_format()
    s["session_index"] = auth.get_session_index()
    save(d, "setup.json", s)
    return {
        "name_id": auth.get_nameid(),
        "name_id_format": auth.get_nameid_format(),
        "session_index": auth.get_session_index(),
        "attributes": auth.get_attributes(),
        "authn_context": auth.get_last_authn_contexts(),
        "relay_state": posted.get("RelayState"),
        "encrypted": "EncryptedAssertion" in base64.b64decode(posted["SAMLResponse"]).decode(),
    }


def onelogin_logout(d, binding, relay):
    from onelogin.saml2.auth import OneLogin_Saml2_Auth

    if binding != "redirect":
        fail("python3-saml sends LogoutRequests over HTTP-Redirect only")
    settings, s = onelogin_settings(d)
    auth = OneLogin_Saml2_Auth(request_data(s["entity"], "/logout"), settings)
    url = auth.logout(return_to=relay, name_id=s["name_id"], session_index=s["session_index"],
                      name_id_format=s["name_id_format"])
    s["logout_id"] = auth.get_last_request_id()
    save(d, "setup.json", s)
    return {"method": "GET", "url": url}


def onelogin_sls(d, answer):
    from onelogin.saml2.auth import OneLogin_Saml2_Auth

    if "query" not in answer:
        fail("python3-saml takes LogoutResponses over HTTP-Redirect only")
    settings, s = onelogin_settings(d)
    query = answer["query"]
    get = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
    auth = OneLogin_Saml2_Auth(request_data(s["entity"], "/slo", get=get, query=query), settings)
    auth.process_slo(keep_local_session=True, request_id=s["logout_id"])
    errors = auth.get_errors()
    if errors:
        fail("onelogin: %s: %s" % (errors, auth.get_last_error_reason()))
    return {"ok": True, "in_response_to": s["logout_id"], "relay_state": get.get("RelayState"),
            "signed": "Signature" in get}


# ---------------------------------------------------------------------------------------


def main(argv):
    lib, step, d = argv[1], argv[2], argv[3]
    rest = argv[4:]
    table = {
        "pysaml2": (pysaml2_metadata, pysaml2_login, pysaml2_acs, pysaml2_logout, pysaml2_sls),
        "onelogin": (onelogin_metadata, onelogin_login, onelogin_acs, onelogin_logout,
                     onelogin_sls),
    }
    metadata, login, acs, logout, sls = table[lib]
    if step == "setup":
        os.makedirs(d, exist_ok=True)
        save(d, "setup.json", {"entity": rest[0], "idp_metadata": rest[1],
                               "encrypt": "--encrypt" in rest})
        print(metadata(d))
    elif step == "login":
        print(json.dumps(login(d, rest[0], rest[1])))
    elif step == "acs":
        print(json.dumps(acs(d, json.load(sys.stdin))))
    elif step == "logout":
        print(json.dumps(logout(d, rest[0], rest[1])))
    elif step == "sls":
        print(json.dumps(sls(d, json.load(sys.stdin))))
    else:
        fail("unknown step " + step)


if __name__ == "__main__":
    main(sys.argv)
