// Server-rendered pages for sign-in and consent: plain forms, no script, every value escaped.

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · Demo Notes</title>
<style>body{font-family:system-ui,sans-serif;max-width:28rem;margin:4rem auto;padding:0 1rem;color:#222}
label{display:block;margin:.75rem 0 .25rem}input{width:100%;padding:.4rem;box-sizing:border-box}
button{margin-top:1rem;padding:.5rem 1rem}.error{color:#b00020}.deny{background:none;border:1px solid #999}
ul{padding-left:1.2rem}form{display:inline}</style></head>
<body><h1>Demo Notes</h1>
${body}
</body></html>`;
}

export function signInPage(input: { uid: string; clientId: string; error?: string; username?: string }): string {
  const error = input.error ? `<p class="error" role="alert">${escapeHtml(input.error)}</p>` : '';
  return page('Sign in', `<h2>Sign in</h2>
<p><strong>${escapeHtml(input.clientId)}</strong> wants to use your Demo Notes account.</p>
${error}<form method="post" action="/interaction/${escapeHtml(input.uid)}/login" style="display:block">
<label for="username">Username</label>
<input id="username" name="username" autocomplete="username" required value="${escapeHtml(input.username ?? '')}">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>
<p><small>Demo users sign in with the password <code>demo</code>.</small></p>`);
}

export function consentPage(input: { uid: string; clientId: string; accountId: string; scopes: string[] }): string {
  const scopes = input.scopes.map((s) => `<li><code>${escapeHtml(s)}</code></li>`).join('');
  return page('Authorize', `<h2>Authorize ${escapeHtml(input.clientId)}</h2>
<p>Signed in as <strong>${escapeHtml(input.accountId)}</strong>.</p>
<p><strong>${escapeHtml(input.clientId)}</strong> asks for:</p>
<ul>${scopes || '<li>no additional access</li>'}</ul>
<form method="post" action="/interaction/${escapeHtml(input.uid)}/confirm"><button type="submit">Approve</button></form>
<form method="post" action="/interaction/${escapeHtml(input.uid)}/abort"><button type="submit" class="deny">Deny</button></form>`);
}

export function errorPage(error: string, description?: string): string {
  const detail = description ? `<p>${escapeHtml(description)}</p>` : '';
  return page('Error', `<h2>Something went wrong</h2><p class="error"><code>${escapeHtml(error)}</code></p>${detail}`);
}
