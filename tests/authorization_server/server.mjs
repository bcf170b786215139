// The authorization server of the OAuth tests: oidc-provider (OpenID-certified) configured as an operator's AS would
// be for this MCP server, with login and consent answered by plain HTTP instead of a person at a browser.
//
// Started by tests/authorization_server/__init__.py, never by hand: node server.mjs '<config JSON>'. It listens on
// 127.0.0.1 on a port the OS picks, then prints one line, {"issuer": "http://127.0.0.1:PORT"}, on stdout; anything
// that goes wrong is written to stderr, which the harness shows when the test fails.
import { createServer } from 'node:http';
import { isIP } from 'node:net';

// Installed by tests/node-tools.sh beside the other Node tools, not in a node_modules this file's folder would find.
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
  clients: config.clients,
  jwks: { keys: [config.signing_key] },
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

function readForm(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => resolve(new URLSearchParams(Buffer.concat(chunks).toString())));
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
  const form = await readForm(req);
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

const server = createServer();
server.listen(0, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, configuration);
  for (const event of ['server_error', 'grant.error', 'authorization.error', 'introspection.error',
    'revocation.error', 'registration_create.error', 'end_session.error']) {
    provider.on(event, (ctx, error) => process.stderr.write(`${event}: ${error?.stack ?? error} ${error?.error_description ?? ''}\n`));
  }
  const callback = provider.callback();
  server.on('request', (req, res) => {
    if (req.url.startsWith('/interaction/')) {
      interact(provider, req, res).catch((error) => {
        process.stderr.write(`interaction: ${error.stack}\n`);
        answer(res, 400, { error: error.error ?? 'invalid_request', error_description: error.message });
      });
    } else {
      callback(req, res);
    }
  });
  process.stdout.write(`${JSON.stringify({ issuer })}\n`);
});
