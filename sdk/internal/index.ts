// Not product resources: kept for the packaging smoke test.
export { SmokeFile, type SmokeFileArgs } from "./smoke-file";
