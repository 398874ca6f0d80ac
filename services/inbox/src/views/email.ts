import { esc } from '@lead-intake/lead-message';

/** The sign-in email: the link, what it does, and what to do if it was not asked for. No customer data. */
export function signinEmail(link: string): { subject: string; text: string; html: string } {
  const text =
    `Sign in to the lead inbox:\n\n${link}\n\n` +
    `The link works once, for 15 minutes. If you did not ask for it, ignore this email: nobody can sign in without the link.\n`;
  const html =
    `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Sign in to the lead inbox</title></head>` +
    `<body style="font-family:-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;font-size:16px;line-height:1.5;">` +
    `<p><a href="${esc(link)}" style="display:inline-block;padding:10px 18px;background:#0b5cad;color:#ffffff;border-radius:8px;` +
    `text-decoration:none;font-weight:600;">Sign in to the lead inbox</a></p>` +
    `<p>The link works once, for 15 minutes. If you did not ask for it, ignore this email: nobody can sign in without the link.</p>` +
    `</body></html>`;
  return { subject: 'Sign in to the lead inbox', text, html };
}
