/** A short error page's body (the layout wraps it). Fixed text only: nothing a client sent. */
export const errorPage = (title: string, text: string) => `<section class="card narrow"><h1>${title}</h1><p>${text}</p></section>`;
