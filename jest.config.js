/** Suites: unit (pure code), sim (simulator), interop (third-party clients against the simulator),
 * e2e (the real Pulumi engine). Select one with `npx jest --selectProjects <name>`. */
const tsJest = ["ts-jest", { tsconfig: "tsconfig.json" }];
const project = (name, extra = {}) => ({
  displayName: name,
  testEnvironment: "node",
  roots: [`<rootDir>/test/${name}`],
  testMatch: ["**/*.test.ts"],
  transform: { "^.+\\.ts$": tsJest },
  ...extra,
});
module.exports = {
  projects: [
    project("unit"),
    project("sim"),
    project("interop"),
    project("e2e", {
      globalSetup: "<rootDir>/test/e2e/global-setup.ts",
      setupFilesAfterEnv: ["<rootDir>/test/e2e/setup.ts"],
    }),
  ],
  testTimeout: 30000,
  // Engine suites mostly wait on child processes: two workers finish them ~25 % sooner on 2 cores.
  maxWorkers: 2,
};
