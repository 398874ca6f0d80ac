import { esc } from '@lead-intake/lead-message';
import { csrfField, layout } from './layout';

/** The sign-in page: an address, and a link by email (the same answer whatever the address). */
export function signinPage(o: { csrf: string; next: string; notice?: string; error?: string }): string {
  return layout({
    title: 'Sign in',
    body:
      `<section class="card narrow"><h1>Sign in</h1>` +
      (o.notice ? `<p class="notice" role="status">${esc(o.notice)}</p>` : '') +
      (o.error ? `<p class="error" role="alert">${esc(o.error)}</p>` : '') +
      `<p>Enter the shop owner's email address. We send a sign-in link that works once, for 15 minutes.</p>` +
      `<form method="post" action="/signin">${csrfField(o.csrf)}<input type="hidden" name="next" value="${esc(o.next)}">` +
      `<label for="email">Email address</label>` +
      `<input id="email" name="email" type="email" autocomplete="email" required maxlength="254">` +
      `<button type="submit">Email me a sign-in link</button></form></section>`,
  });
}

/** After a request: the same whatever the address (no way to learn who is an owner). */
export function linkSentPage(): string {
  return layout({
    title: 'Check your email',
    body:
      `<section class="card narrow"><h1>Check your email</h1>` +
      `<p role="status">If that address may sign in here, a sign-in link is on its way. It works once, for 15 minutes.</p>` +
      `<p><a href="/signin">Use another address</a></p></section>`,
  });
}

/**
 * The link's landing page: a button that signs in (sent by a small script at once). A GET never
 * uses the link up: mail scanners that open links would otherwise spend it before the owner.
 */
export function confirmPage(o: { token: string; next: string }): string {
  return layout({
    title: 'Signing in',
    script: 'signin.js',
    body:
      `<section class="card narrow"><h1>Sign in</h1>` +
      `<form method="post" action="/auth" id="signin"><input type="hidden" name="token" value="${esc(o.token)}">` +
      `<input type="hidden" name="next" value="${esc(o.next)}">` +
      `<button type="submit">Continue to the lead inbox</button></form></section>`,
  });
}

export function linkRefusedPage(): string {
  return layout({
    title: 'Link expired',
    body:
      `<section class="card narrow"><h1>This link no longer works</h1>` +
      `<p role="alert">Sign-in links work once, for 15 minutes. This one was used, has expired, or is not complete.</p>` +
      `<p><a class="button" href="/signin">Get a new link</a></p></section>`,
  });
}
