// A real OpenID provider for formservice's sign-on tests (the npm package oidc-provider).
//
//   node tests/oidc/provider.mjs            (settings from the environment, below)
//
// OIDC_PORT              the port on 127.0.0.1 (the issuer is http://127.0.0.1:PORT)
// OIDC_REDIRECT_URIS     comma list of the client's redirect URIs
// OIDC_POST_LOGOUT_URIS  comma list of its post-logout redirect URIs
// OIDC_CLOCK_SKEW        seconds added to the provider's clock (with a short
// OIDC_ID_TOKEN_TTL      ID token lifetime in seconds, a negative skew makes tokens that
//                        have expired by the relying party's clock)
//
// Clients: "formservice" (secret "formservice-hemlighet", client_secret_basic),
// "formservice-publik" (a public client: no secret, PKCE only) and "annan-klient" (another
// relying party). The login form at /interaction/:uid takes any
// e-mail address as the account (its `email` claim, email_verified true); the address
// "overifierad+NAME@DOMAIN" gives NAME@DOMAIN with email_verified false, and ticking
// "Tvåstegsverifiering" answers with acr "urn:formservice:test:mfa" (else ":pwd").
// Consent is not asked (a first-party client). Logging out at /session/end asks once.
//
// Test control: POST /__test/tamper with a JSON object changes the ID token of the next
// token response and signs it again with the provider's key: any claim to set ("aud",
// "iss", "nonce"), "exp_offset" (seconds added to exp and iat), or "foreign_key": true (signed
// with a key that is not in the JWKS). It prints "ready <issuer>" when it listens.

import { createServer } from "node:http";
import { generateKeyPair, exportJWK, CompactSign } from "jose";
import Provider from "oidc-provider";

const port = Number(process.env.OIDC_PORT || 0);
const skew = Number(process.env.OIDC_CLOCK_SKEW || 0) * 1000;
if (skew) {
  const realNow = Date.now;
  Date.now = () => realNow() + skew;
}
const list = (name) => (process.env[name] || "").split(",").filter(Boolean);

const MFA = "urn:formservice:test:mfa";
const PWD = "urn:formservice:test:pwd";

async function rsaKey() {
  const { privateKey } = await generateKeyPair("RS256", { extractable: true });
  const jwk = await exportJWK(privateKey);
  return { ...jwk, kid: `k${Math.random().toString(36).slice(2, 10)}`, alg: "RS256", use: "sig" };
}

const signing = await rsaKey();
const foreign = await rsaKey();
let tamper = null;

function account(login) {
  const verified = !login.startsWith("overifierad+");
  const email = verified ? login : login.slice("overifierad+".length);
  return {
    accountId: login,
    async claims() {
      return { sub: login, email, email_verified: verified, name: email.split("@")[0] };
    },
  };
}

const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: [
    {
      client_id: "formservice",
      client_secret: "formservice-hemlighet",
      redirect_uris: list("OIDC_REDIRECT_URIS"),
      post_logout_redirect_uris: list("OIDC_POST_LOGOUT_URIS"),
      grant_types: ["authorization_code"],
      response_types: ["code"],
    },
    {
      client_id: "formservice-publik",
      token_endpoint_auth_method: "none",
      redirect_uris: list("OIDC_REDIRECT_URIS"),
      post_logout_redirect_uris: list("OIDC_POST_LOGOUT_URIS"),
      grant_types: ["authorization_code"],
      response_types: ["code"],
    },
    {
      client_id: "annan-klient",
      client_secret: "annan-hemlighet",
      redirect_uris: ["http://127.0.0.1/annan"],
      grant_types: ["authorization_code"],
      response_types: ["code"],
    },
  ],
  jwks: { keys: [signing] },
  cookies: { keys: ["formservice-test-cookie-key"] },
  claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name"] },
  acrValues: [MFA, PWD],
  features: {
    devInteractions: { enabled: false },
    rpInitiatedLogout: { enabled: true, logoutSource },
  },
  pkce: { required: () => true },
  ttl: { IdToken: Number(process.env.OIDC_ID_TOKEN_TTL || 3600) },
  findAccount: (ctx, id) => account(id),
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  async loadExistingGrant(ctx) {
    const { Grant } = ctx.oidc.provider;
    const clientId = ctx.oidc.client.clientId;
    const existing = ctx.oidc.session.grantIdFor(clientId);
    if (existing) return Grant.find(existing);
    const grant = new Grant({ clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope("openid email profile");
    await grant.save();
    return grant;
  },
  renderError(ctx, out) {
    ctx.type = "html";
    ctx.body = page("Fel", `<p id="error">${escape(out.error)}: ${escape(out.error_description || "")}</p>`);
  },
});

function escape(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title, body) {
  return `<!doctype html><html lang="sv"><head><meta charset="utf-8"><title>${title}</title></head>` +
    `<body><main><h1>${title}</h1>${body}</main></body></html>`;
}

async function logoutSource(ctx, form) {
  ctx.body = page(
    "Logga ut från testleverantören",
    `${form}<button type="submit" form="op.logoutForm" name="logout" value="yes">Ja, logga ut</button>`,
  );
}

function readForm(req) {
  return new Promise((resolve, reject) => {
    let data = "";
    req.on("data", (chunk) => { data += chunk; });
    req.on("end", () => resolve(new URLSearchParams(data)));
    req.on("error", reject);
  });
}

function readJson(req) {
  return new Promise((resolve, reject) => {
    let data = "";
    req.on("data", (chunk) => { data += chunk; });
    req.on("end", () => resolve(JSON.parse(data || "{}")));
    req.on("error", reject);
  });
}

async function resign(idToken) {
  const [, body] = idToken.split(".");
  const claims = JSON.parse(Buffer.from(body, "base64url").toString());
  const { exp_offset: offset, foreign_key: useForeign, ...set } = tamper;
  Object.assign(claims, set);
  if (offset) {
    claims.exp += offset;
    claims.iat += offset;
  }
  const key = useForeign ? foreign : signing;
  const { importJWK } = await import("jose");
  const privateKey = await importJWK(key, "RS256");
  return new CompactSign(Buffer.from(JSON.stringify(claims)))
    .setProtectedHeader({ alg: "RS256", kid: key.kid, typ: "JWT" })
    .sign(privateKey);
}

provider.use(async (ctx, next) => {
  if (ctx.path === "/__test/tamper" && ctx.method === "POST") {
    tamper = await readJson(ctx.req);
    ctx.status = 204;
    return;
  }
  const match = ctx.path.match(/^\/interaction\/([^/]+)(\/login)?$/);
  if (match && ctx.method === "GET" && !match[2]) {
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    ctx.type = "html";
    ctx.body = page(
      "Testleverantörens inloggning",
      `<form method="post" action="/interaction/${details.uid}/login">` +
        `<label for="login">E-postadress</label> <input id="login" name="login" type="email" required>` +
        `<p><input id="mfa" name="mfa" type="checkbox" value="ja"> <label for="mfa">Tvåstegsverifiering</label></p>` +
        `<button type="submit">Logga in hos testleverantören</button> ` +
        `<button type="submit" name="cancel" value="ja" formnovalidate>Avbryt</button></form>`,
    );
    return;
  }
  if (match && ctx.method === "POST" && match[2]) {
    const form = await readForm(ctx.req);
    const login = (form.get("login") || "").trim();
    const acr = form.get("mfa") ? MFA : PWD;
    const result = login && !form.get("cancel")
      ? { login: { accountId: login, acr, amr: acr === MFA ? ["pwd", "otp"] : ["pwd"] } }
      : { error: "access_denied", error_description: "ingen inloggning" };
    await provider.interactionFinished(ctx.req, ctx.res, result, { mergeWithLastSubmission: false });
    return;
  }
  await next();
  if (ctx.path === "/token" && tamper && ctx.body && ctx.body.id_token) {
    ctx.body = { ...ctx.body, id_token: await resign(ctx.body.id_token) };
    tamper = null;
  }
});

const server = createServer(provider.callback());
server.listen(port, "127.0.0.1", () => {
  process.stdout.write(`ready http://127.0.0.1:${server.address().port}\n`);
});
