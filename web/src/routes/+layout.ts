// Rendered in the browser only: the api serves one shell page and the app routes on the client.
export const ssr = false;
export const prerender = false;
