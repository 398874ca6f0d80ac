/**
 * The page's own style and its one script, served from this function (/assets/...): no CDN, no
 * external font, nothing that needs the internet, and nothing the Content-Security-Policy has to
 * allow beyond this origin. Phone first: one column, tap targets of at least 44 px.
 */
export const CSS = `
:root{
  color-scheme:light dark;--bg:#f4f5f7;--card:#fff;--text:#1f2328;--muted:#57606a;--line:#d0d7de;--accent:#0b5cad;
  --accent-text:#fff;--urgent:#a40e26;--ask:#7a4a00;--banner:#fff4d6}
@media (prefers-color-scheme:dark){
  :root{
    --bg:#0f1115;--card:#1b1f24;--text:#e6edf3;--muted:#9aa5b1;--line:#30363d;--accent:#4493f8;--accent-text:#0f1115;
    --urgent:#ff8182;--ask:#e3b341;--banner:#3a2f0b}
}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--text);font:16px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif}
a{color:var(--accent)}
.skip{position:absolute;left:-999px}
.skip:focus{left:8px;top:8px;background:var(--card);padding:8px}
.top{
  display:flex;flex-wrap:wrap;align-items:center;gap:8px 16px;padding:8px 12px;background:var(--card);
  border-bottom:1px solid var(--line)}
.brand{font-weight:700;text-decoration:none;color:var(--text);min-height:44px;display:flex;align-items:center}
nav ul{display:flex;gap:4px;margin:0;padding:0;list-style:none}
nav a{display:flex;align-items:center;min-height:44px;padding:0 12px;border-radius:8px;text-decoration:none}
nav a[aria-current=page]{background:var(--bg);font-weight:600}
.who{margin-left:auto;display:flex;gap:8px;align-items:center;color:var(--muted);font-size:14px}
main{max-width:960px;margin:0 auto;padding:12px}
h1{font-size:24px;margin:8px 0}
h2{font-size:15px;text-transform:uppercase;letter-spacing:.04em;color:var(--muted);margin:0 0 8px}
.head{display:flex;align-items:center;justify-content:space-between;gap:8px;flex-wrap:wrap}
.card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:12px 16px;margin:12px 0}
.narrow{max-width:420px;margin:24px auto}
.muted{color:var(--muted)}
.banner{background:var(--banner);border-radius:8px;padding:8px 12px}
.notice{background:var(--banner);padding:8px 12px;border-radius:8px}
.error{color:var(--urgent);font-weight:600}
label{display:block;font-weight:600;margin:8px 0 4px}
input,select,textarea{
  width:100%;min-height:44px;font:inherit;padding:8px;border:1px solid var(--line);border-radius:8px;
  background:var(--card);color:var(--text)}
button,.button{
  display:inline-flex;align-items:center;justify-content:center;min-height:44px;min-width:44px;padding:0 16px;
  margin:4px 4px 4px 0;border:0;border-radius:8px;background:var(--accent);color:var(--accent-text);font:inherit;
  font-weight:600;text-decoration:none;cursor:pointer}
.secondary{background:transparent;color:var(--accent);border:1px solid var(--accent)}
button.link{background:none;color:var(--accent);padding:0 8px;font-weight:400}
button[aria-pressed=true]{outline:3px solid var(--text);outline-offset:1px}
.filters{display:grid;grid-template-columns:1fr;gap:0 12px}
.filters .go{align-self:end}
@media (min-width:640px){.filters{grid-template-columns:2fr repeat(4,minmax(120px,1fr)) auto}}
.leads{list-style:none;margin:12px 0;padding:0}
.lead{background:var(--card);border:1px solid var(--line);border-radius:10px;margin:8px 0}
.row{
  display:grid;grid-template-columns:1fr auto;gap:2px 8px;padding:12px 16px;color:var(--text);text-decoration:none;
  min-height:44px}
.lead form{padding:0 16px 12px}
.name{font-weight:700}
.need{grid-column:1/-1}
.meta{grid-column:1/-1;color:var(--muted);font-size:14px}
.chips{grid-column:1/-1}
.chip{display:inline-block;font-size:13px;padding:2px 8px;border:1px solid var(--line);border-radius:12px;margin:2px 4px 0 0}
.chip.urgent{color:var(--urgent);border-color:var(--urgent);font-weight:700}
.chip.ask{color:var(--ask);border-color:var(--ask)}
.status{
  font-size:13px;font-weight:700;padding:2px 10px;border-radius:12px;border:1px solid var(--line);white-space:nowrap;
  align-self:start}
.s-new{color:var(--accent);border-color:var(--accent)}
.s-booked{color:#1a7f37;border-color:#1a7f37}
.s-lost,.s-not_customer{color:var(--muted)}
.contacts{list-style:none;padding:0;margin:0}
.contact{margin-right:8px}
.buttons{display:flex;flex-wrap:wrap}
.extra{display:grid;grid-template-columns:1fr;gap:0 12px}
@media (min-width:640px){.extra{grid-template-columns:1fr 1fr}}
.draft{background:var(--bg);border:1px solid var(--line);border-radius:8px;padding:8px 12px;white-space:pre-wrap}
.transcript{list-style:none;padding:0}
.transcript li{border-top:1px solid var(--line);padding:8px 0}
.speaker{margin:0}
blockquote{margin:4px 0;padding:4px 10px;border-left:3px solid var(--line);color:var(--muted)}
.thumb img{display:block;width:160px;max-width:100%;height:auto;border:1px solid var(--line);border-radius:6px}
.stats{display:grid;grid-template-columns:1fr 1fr;gap:12px}
@media (min-width:640px){.stats{grid-template-columns:repeat(5,1fr)}}
.stat{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:12px}
.stat dt{color:var(--muted);font-size:14px}
.stat dd{margin:0;font-size:24px;font-weight:700}
.history{padding-left:20px}
.empty{color:var(--muted)}
`.trim();

/** The sign-in link's landing page: continue at once (the button is there without scripts). */
export const SIGNIN_JS = `document.getElementById('signin')?.requestSubmit();`;

export const ASSETS: Record<string, { type: string; body: string }> = {
  'inbox.css': { type: 'text/css; charset=utf-8', body: CSS },
  'signin.js': { type: 'text/javascript; charset=utf-8', body: SIGNIN_JS },
};
