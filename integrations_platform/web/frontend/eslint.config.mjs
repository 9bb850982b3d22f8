import next from "eslint-config-next/core-web-vitals";
import nextTypescript from "eslint-config-next/typescript";

const config = [
  ...next,
  ...nextTypescript,
  { ignores: ["out/**", ".next/**", "node_modules/**", "next-env.d.ts"] },
];

export default config;
