// The authorization server of the OAuth tests: oidc-provider (OpenID-certified) configured as an operator's AS would
// be for this MCP server, with login and consent answered by plain HTTP instead of a person at a browser.
//
// Started by tests/authorization_server/__init__.py, never by hand: node server.mjs '<config JSON>'. It listens on
// 127.0.0.1 on a port the OS picks, then prints one line, {"issuer": "http://127.0.0.1:PORT"}, on stdout; anything
// that goes wrong is written to stderr, which the harness shows when the test fails.
import { createServer } from 'node:http';
import { isIP } from 'node:net';

// Installed by tests/node-tools.sh beside the other Node tools, not in a node_modules this file's folder would find.
import { createMemoryAdapter } from '../.node/oidc/node_modules/oidc-provider/lib/adapters/memory_adapter.js';
import Provider from '../.node/oidc/node_modules/oidc-provider/lib/index.js';

const config = JSON.parse(process.argv[2]);

// Every scope a client may register has to be known to the provider, or registration fails.
const OIDC_SCOPES = ['openid', 'offline_access'];

function claimsOf(id) {
  return config.claims[id] ?? {};
}

function resourceServer(resourceIndicator) {
  const info = {
    scope: config.scopes.join(' '),
    audience: resourceIndicator,
    accessTokenTTL: config.access_token_ttl,
    accessTokenFormat: config.token_format,
  };
  if (config.token_format === 'jwt') {
    info.jwt = { sign: { alg: 'RS256' } };
  }
  return info;
}

// The SSRF guard refuses every special-use address, loopback included; the client ID metadata documents of the
// tests are served on 127.0.0.1, so loopback (and nothing else) is fetched without it.
function isLoopback(url) {
  const { hostname } = new URL(url);
  return isIP(hostname) === 4 && hostname.startsWith('127.');
}

async function fetchDocument(url, options) {
  if (isLoopback(url)) {
    const { dispatcher, ...rest } = options;
    return fetch(url, rest);
  }
  return fetch(url, options);
}

const configuration = {
  // oidc-provider's own in-memory store, made once: each Provider would make its own, and the one a key rotation
  // starts must still know the clients, grants and tokens.
  adapter: createMemoryAdapter(),
  clients: config.clients,
  cookies: { keys: [config.cookie_key] },
  scopes: [...OIDC_SCOPES, ...config.scopes],
  findAccount(ctx, id) {
    return { accountId: id, claims: () => ({ sub: id, ...claimsOf(id) }) };
  },
  // A client-credentials token has no account: its subject is the client, and so is the key of its claims.
  extraTokenClaims(ctx, token) {
    return claimsOf(token.accountId ?? token.clientId);
  },
  pkce: { required: () => true },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  fetch: fetchDocument,
  ttl: { AccessToken: config.access_token_ttl, ClientCredentials: config.access_token_ttl },
  features: {
    devInteractions: { enabled: false },
    registration: { enabled: true },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    revocation: {
      enabled: true,
      // The rig's own client may revoke any token, so a test can revoke what another client holds.
      allowedPolicy: (ctx, client, token) => client.clientId === config.admin_client_id || token.clientId === client.clientId,
    },
    resourceIndicators: {
      enabled: true,
      defaultResource: (ctx, client, oneOf) => oneOf ?? config.default_resource ?? undefined,
      getResourceServerInfo: (ctx, resourceIndicator) => resourceServer(resourceIndicator),
      useGrantedResource: () => true,
    },
    clientIdMetadataDocument: { enabled: true, ack: 'draft-02' },
  },
};

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString()));
    req.on('error', reject);
  });
}

function answer(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

// Consent grants what was asked, within the scopes the person may hold (all, unless the form names them), and
// rejects the rest: what is neither granted nor rejected is asked for again, forever.
async function consent(provider, details, allowed) {
  const { prompt, params, session, grantId } = details;
  const grant = grantId
    ? await provider.Grant.find(grantId)
    : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  if (prompt.details.missingOIDCScope) {
    grant.addOIDCScope(prompt.details.missingOIDCScope.join(' '));
  }
  if (prompt.details.missingOIDCClaims) {
    grant.addOIDCClaims(prompt.details.missingOIDCClaims);
  }
  for (const [resource, scopes] of Object.entries(prompt.details.missingResourceScopes ?? {})) {
    const granted = scopes.filter((scope) => allowed === null || allowed.has(scope));
    const refused = scopes.filter((scope) => !granted.includes(scope));
    if (granted.length) grant.addResourceScope(resource, granted.join(' '));
    if (refused.length) grant.rejectResourceScope(resource, refused.join(' '));
  }
  const saved = await grant.save();
  return grantId ? {} : { grantId: saved };
}

// POST /interaction/UID with sub= (who signs in) and, optionally, scope= (what that person may grant): answers
// whichever prompt the interaction is at, login or consent; GET tells which it is.
async function interact(provider, req, res) {
  const details = await provider.interactionDetails(req, res);
  if (req.method === 'GET') {
    answer(res, 200, { uid: details.uid, prompt: details.prompt.name, params: details.params });
    return;
  }
  const form = new URLSearchParams(await readBody(req));
  const sub = form.get('sub');
  if (!sub) {
    answer(res, 400, { error: 'invalid_request', error_description: 'post sub=<the subject who signs in>' });
    return;
  }
  const allowed = form.has('scope') ? new Set(form.get('scope').split(' ').filter(Boolean)) : null;
  let result;
  if (details.prompt.name === 'login') {
    result = { login: { accountId: sub } };
  } else if (details.prompt.name === 'consent') {
    result = { consent: await consent(provider, details, allowed) };
  } else {
    answer(res, 400, { error: 'invalid_request', error_description: `unknown prompt ${details.prompt.name}` });
    return;
  }
  await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: true });
}

const LOGGED = ['server_error', 'grant.error', 'authorization.error', 'introspection.error', 'revocation.error',
  'registration_create.error', 'end_session.error'];

function start(issuer, keys) {
  const provider = new Provider(issuer, { ...configuration, jwks: { keys } });
  for (const event of LOGGED) {
    provider.on(event, (ctx, error) => process.stderr.write(`${event}: ${error?.stack ?? error} ${error?.error_description ?? ''}\n`));
  }
  return { provider, callback: provider.callback() };
}

// The rig's own routes, for what a test changes while the AS runs: POST /rig/keys {"keys": [JWK, ...]} starts
// signing with the first key and publishes them all (clients, grants and tokens live on: oidc-provider's memory
// adapter is one per process); POST /rig/claims {"SUB": {...}} sets subjects' extra claims.
async function rig(current, req, res) {
  const body = JSON.parse(await readBody(req));
  if (req.url === '/rig/keys') {
    Object.assign(current, start(current.provider.issuer, body.keys));
  } else if (req.url === '/rig/claims') {
    Object.assign(config.claims, body);
  } else {
    answer(res, 404, { error: 'no such rig route' });
    return;
  }
  answer(res, 200, {});
}

const server = createServer();
server.listen(0, '127.0.0.1', () => {
  const current = start(`http://127.0.0.1:${server.address().port}`, [config.signing_key]);
  server.on('request', (req, res) => {
    const handled = req.url.startsWith('/interaction/') ? interact(current.provider, req, res)
      : req.url.startsWith('/rig/') && req.method === 'POST' ? rig(current, req, res)
        : current.callback(req, res);
    Promise.resolve(handled).catch((error) => {
      process.stderr.write(`${req.url}: ${error.stack}\n`);
      answer(res, 400, { error: error.error ?? 'invalid_request', error_description: error.message });
    });
  });
  process.stdout.write(`${JSON.stringify({ issuer: current.provider.issuer })}\n`);
});
