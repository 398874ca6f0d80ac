import { esc } from '@lead-intake/lead-message';

/** A page: its title, the signed-in owner's CSRF token (null on the sign-in pages), its body. */
export interface Page {
  title: string;
  body: string;
  /** Signed in: the nav and the sign-out forms. */
  session?: { email: string; csrf: string } | null;
  /** A script of /assets (self-hosted) this page needs, if any. */
  script?: string;
  /** Which nav item is current. */
  current?: 'leads' | 'filtered' | 'numbers';
}

/** The HTML of a page: phone-first, no external fonts or scripts (the CSP allows this origin only). */
export function layout(p: Page): string {
  const nav = p.session
    ? `<nav aria-label="Inbox"><ul>` +
      navItem('/', 'Leads', p.current === 'leads') +
      navItem('/filtered', 'Filtered', p.current === 'filtered') +
      navItem('/numbers', 'Numbers', p.current === 'numbers') +
      `</ul></nav>` +
      `<div class="who"><span>${esc(p.session.email)}</span>` +
      `<form method="post" action="/signout"><input type="hidden" name="csrf" value="${esc(p.session.csrf)}">` +
      `<button type="submit" class="link">Sign out</button></form>` +
      `<form method="post" action="/signout-all"><input type="hidden" name="csrf" value="${esc(p.session.csrf)}">` +
      `<button type="submit" class="link">Sign out everywhere</button></form></div>`
    : '';
  return (
    `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">` +
    `<meta name="viewport" content="width=device-width,initial-scale=1">` +
    `<meta name="referrer" content="no-referrer">` +
    `<title>${esc(p.title)} · Lead inbox</title><link rel="stylesheet" href="/assets/inbox.css">` +
    (p.script ? `<script src="/assets/${p.script}" defer></script>` : '') +
    `</head><body><a class="skip" href="#main">Skip to content</a>` +
    `<header class="top"><a class="brand" href="/">Lead inbox</a>${nav}</header>` +
    `<main id="main">${p.body}</main></body></html>`
  );
}

const navItem = (href: string, label: string, current: boolean) =>
  `<li><a href="${href}"${current ? ' aria-current="page"' : ''}>${label}</a></li>`;

/** "12 min ago", "3 h ago", "2 days ago". */
export function age(at: number, now: number): string {
  const s = Math.max(0, now - at);
  if (s < 60) return 'just now';
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  const d = Math.floor(s / 86400);
  return `${d} day${d === 1 ? '' : 's'} ago`;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
/** A time in the shop's time zone: "Dec 2, 10:46 AM". */
export function when(at: number, timeZone: string): string {
  let f = formatters.get(timeZone);
  if (!f)
    formatters.set(
      timeZone,
      (f = new Intl.DateTimeFormat('en-US', { timeZone, month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit' })),
    );
  return f.format(new Date(at * 1000));
}

/** A hidden CSRF field. */
export const csrfField = (csrf: string) => `<input type="hidden" name="csrf" value="${esc(csrf)}">`;
