import adapter from "@sveltejs/adapter-static";
import { sveltekit } from "@sveltejs/kit/vite";
import tailwindcss from "@tailwindcss/vite";
import { defineConfig } from "vite";

export default defineConfig({
  plugins: [
    tailwindcss(),
    sveltekit({
      // A single-page app served by the api on its own origin; 200.html is the shell for every route.
      adapter: adapter({ fallback: "200.html" }),
    }),
  ],
});
