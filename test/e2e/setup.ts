// Engine runs take tens of seconds each; a project-level testTimeout is not honoured by jest.
jest.setTimeout(10 * 60 * 1000);
