import { setNonce } from "get-nonce";
import type { AppProps } from "next/app";

import "@/styles/globals.css";

// The server gives each page a nonce (in a meta tag and its Content-Security-Policy): the
// few <style> elements the dialogs add (scroll lock) carry it; nothing else inline runs.
if (typeof document !== "undefined") {
  const nonce = document.querySelector('meta[name="csp-nonce"]')?.getAttribute("content");
  if (nonce) setNonce(nonce);
}

export default function PageApp({ Component, pageProps }: AppProps) {
  return <Component {...pageProps} />;
}
