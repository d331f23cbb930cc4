// The Network provider object (kind-provider.ts says why it is a module of its own).
import { kindProvider } from "./kind-provider";

export = kindProvider("Network");
