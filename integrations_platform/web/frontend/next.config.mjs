// A static export (no Node server at run time): the config API serves `out/` — the page
// at `/`, its files under `/ui/static/`. The pages router is used because its export
// has no inline script (its data is a JSON block, which the page's strict
// Content-Security-Policy allows), where the app router's export inlines its payload.

/** @type {import('next').NextConfig} */
const nextConfig = {
  output: "export",
  assetPrefix: "/ui/static",
  reactStrictMode: true,
  poweredByHeader: false,
  productionBrowserSourceMaps: false,
  images: { unoptimized: true },
  // The build checks types and lint itself only through `npm run check` (CI runs it).
  typescript: { ignoreBuildErrors: false },
};

export default nextConfig;
