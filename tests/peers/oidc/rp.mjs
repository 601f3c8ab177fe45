// A relying party built on panva's openid-client (v6), used by tests/it/oidc_peer.rs as a
// peer that pasarela's code did not write. Every subcommand reads one JSON object on stdin
// and prints one JSON object on stdout; any failed check (the library's or ours) exits 1 with
// the error on stderr.
//
//   start   {issuer, client_id, client_secret, redirect_uri, scope, acr_values, max_age,
//            state_file}
//           → {authorization_url}; keeps the PKCE verifier, nonce and state in state_file
//   finish  {state_file, callback_url, expected_acr, corrupt_id_token_signature?}
//           → code exchange (iss, state, nonce, signature, aud, azp, auth_time checked by the
//             library; acr, amr, azp by us), refresh (rotation; same sub, auth_time, acr),
//             userinfo (same sub): {id_token_claims, refreshed_claims, userinfo, ...}
//   logout  {state_file, post_logout_redirect_uri, state}
//           → {end_session_url} with the last ID token as id_token_hint
//
// The test server is plain http on loopback, hence allowInsecureRequests; the ID token from
// the token endpoint has its signature checked only with enableNonRepudiationChecks, so it
// is always on.

import * as client from 'openid-client';
import { readFileSync, writeFileSync } from 'node:fs';

async function readStdin() {
  const chunks = [];
  for await (const c of process.stdin) chunks.push(c);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

function fail(msg) {
  throw new Error(`rp check failed: ${msg}`);
}

// For the negative test only: a fetch that corrupts the signature of the ID token the token
// endpoint returns, to show that enableNonRepudiationChecks makes the library verify it.
async function corruptingFetch(url, options) {
  const res = await fetch(url, options);
  if (new URL(url).pathname !== '/oidc/token' || res.status !== 200) return res;
  const body = await res.json();
  if (body.id_token) {
    const [h, p, sig] = body.id_token.split('.');
    body.id_token = `${h}.${p}.${sig[0] === 'A' ? 'B' : 'A'}${sig.slice(1)}`;
  }
  const headers = new Headers(res.headers);
  headers.delete('content-length');
  headers.delete('content-encoding');
  return new Response(JSON.stringify(body), { status: res.status, headers });
}

async function configure(s, corruptSignature = false) {
  const options = { execute: [client.allowInsecureRequests] };
  if (corruptSignature) options[client.customFetch] = corruptingFetch;
  const config = await client.discovery(
    new URL(s.issuer),
    s.client_id,
    { id_token_signed_response_alg: 'RS256' },
    client.ClientSecretBasic(s.client_secret),
    options,
  );
  client.enableNonRepudiationChecks(config);
  return config;
}

// The checks openid-client leaves to the application (acr) or only does in some cases
// (azp with a single audience).
function checkClaims(claims, s, expectedAcr) {
  const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (!aud.includes(s.client_id)) fail(`aud ${JSON.stringify(claims.aud)} lacks ${s.client_id}`);
  if (claims.azp !== undefined && claims.azp !== s.client_id) fail(`azp ${claims.azp}`);
  if (claims.acr !== expectedAcr) fail(`acr ${JSON.stringify(claims.acr)}, expected ${expectedAcr}`);
  if (typeof claims.auth_time !== 'number') fail('no auth_time');
  const now = Math.floor(Date.now() / 1000);
  if (claims.auth_time > now + 5 || claims.auth_time < now - s.max_age) {
    fail(`auth_time ${claims.auth_time} outside the last ${s.max_age}s`);
  }
  if (!Array.isArray(claims.amr) || !claims.amr.includes('pwd')) {
    fail(`amr ${JSON.stringify(claims.amr)}`);
  }
}

async function start(input) {
  const config = await configure(input);
  const code_verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const params = {
    redirect_uri: input.redirect_uri,
    scope: input.scope,
    code_challenge: await client.calculatePKCECodeChallenge(code_verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    max_age: String(input.max_age),
  };
  if (input.acr_values) params.acr_values = input.acr_values;
  const url = client.buildAuthorizationUrl(config, params);
  writeFileSync(input.state_file, JSON.stringify({ ...input, code_verifier, state, nonce }));
  return { authorization_url: url.href };
}

async function finish(input) {
  const s = JSON.parse(readFileSync(input.state_file, 'utf8'));
  const config = await configure(s, input.corrupt_id_token_signature === true);
  const tokens = await client.authorizationCodeGrant(config, new URL(input.callback_url), {
    pkceCodeVerifier: s.code_verifier,
    expectedNonce: s.nonce,
    expectedState: s.state,
    maxAge: s.max_age,
    idTokenExpected: true,
  });
  const claims = tokens.claims();
  if (!claims) fail('no ID token');
  checkClaims(claims, s, input.expected_acr);
  if (!tokens.refresh_token) fail('no refresh token');

  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
  if (!refreshed.refresh_token) fail('no refresh token after refresh');
  if (refreshed.refresh_token === tokens.refresh_token) fail('refresh token not rotated');
  const again = refreshed.claims();
  if (again) {
    checkClaims(again, s, input.expected_acr);
    for (const k of ['sub', 'auth_time', 'acr']) {
      if (again[k] !== claims[k]) fail(`refreshed ${k} ${again[k]} != ${claims[k]}`);
    }
  }
  const userinfo = await client.fetchUserInfo(config, refreshed.access_token, claims.sub);
  const id_token = (again ? refreshed : tokens).id_token;
  writeFileSync(input.state_file, JSON.stringify({ ...s, id_token }));
  return {
    id_token_claims: claims,
    refreshed_claims: again ?? null,
    refresh_rotated: refreshed.refresh_token !== tokens.refresh_token,
    token_type: tokens.token_type,
    scope: tokens.scope ?? null,
    userinfo,
  };
}

async function logout(input) {
  const s = JSON.parse(readFileSync(input.state_file, 'utf8'));
  if (!s.id_token) fail('no ID token kept: run finish first');
  const config = await configure(s);
  const params = {
    id_token_hint: s.id_token,
    post_logout_redirect_uri: input.post_logout_redirect_uri,
  };
  if (input.state) params.state = input.state;
  return { end_session_url: client.buildEndSessionUrl(config, params).href };
}

const commands = { start, finish, logout };
const command = commands[process.argv[2]];
if (!command) {
  console.error(`usage: node rp.mjs ${Object.keys(commands).join('|')} < input.json`);
  process.exit(2);
}
try {
  const out = await command(await readStdin());
  process.stdout.write(JSON.stringify(out) + '\n');
} catch (e) {
  const detail = { name: e?.name, code: e?.code, message: e?.message, cause: e?.cause };
  console.error(`${e?.name ?? 'Error'}: ${e?.message ?? e}`);
  console.error(JSON.stringify(detail, (_, v) => (v instanceof Error ? String(v) : v)));
  process.exit(1);
}
